"""The house rules a new maintainer relies on, checked on every CI run.

1. No library module is longer than 600 lines (`_modidx.py` aside).
2. Notebook order is import order: no module, and no notebook, imports an esmdiff module exported by a later
   notebook (guides and index come after everything).
3. At least half of the exported cells have their test or example directly below (a `show_doc` cell in between
   is allowed, a markdown cell is not).

Prints one line per notebook and the totals; exits 1 when a rule is broken. `python .ci/house.py`.
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES, MIN_TESTED = 600, 0.5
EXPORT = re.compile(r'^#\|\s*export[s]?\b', re.M)
DEFAULT_EXP = re.compile(r'^#\|\s*default_exp\s+(\S+)', re.M)
IMPORT = re.compile(r'^\s*(?:from\s+(?:esmdiff)?\.(\w+)\s+import|from\s+esmdiff\.(\w+)\s+import|import\s+esmdiff\.(\w+))', re.M)

def cells(nb: Path) -> list[dict]: return json.loads(nb.read_text())['cells']
def source(c: dict) -> str: return ''.join(c['source'])
def is_code(c): return c['cell_type'] == 'code'
def is_export(c): return is_code(c) and bool(EXPORT.search(source(c)))

def is_doc_only(c) -> bool:
    "A cell that only renders docs (`show_doc(...)` lines) or only imports."
    lines = [l for l in source(c).splitlines() if l.strip() and not l.startswith('#')]
    return bool(lines) and all(l.startswith(('show_doc(', 'import ', 'from ')) for l in lines)

def tested_below(cs: list[dict], i: int) -> bool:
    "Whether exported cell `i` is followed directly by a test or example (show_doc cells may stand between)."
    for c in cs[i + 1:]:
        if not is_code(c) or is_export(c): return False
        if not source(c).strip(): continue
        if is_doc_only(c) and 'show_doc(' in source(c): continue
        return not is_doc_only(c)
    return False

def notebooks() -> list[Path]:
    "Library notebooks in order, then guides and index (which may import anything)."
    nbs = ROOT / 'nbs'
    return sorted(p for p in nbs.glob('*.ipynb') if p.name != 'index.ipynb' and not p.name.startswith('_'))

def module_of(nb: Path) -> str | None:
    for c in cells(nb):
        m = DEFAULT_EXP.search(source(c)) if is_code(c) else None
        if m: return m.group(1).split('.')[-1]
    return None

def imported(text: str) -> set[str]: return {next(g for g in m.groups() if g) for m in IMPORT.finditer(text)}

def main() -> int:
    problems, n_exp, n_tested = [], 0, 0
    order = {module_of(nb): k for k, nb in enumerate(notebooks()) if module_of(nb)}
    for k, nb in enumerate(notebooks()):
        cs = cells(nb)
        exp = [i for i, c in enumerate(cs) if is_export(c)]
        tested = sum(tested_below(cs, i) for i in exp)
        n_exp += len(exp); n_tested += tested
        later = sorted(m for m in imported('\n'.join(source(c) for c in cs if is_code(c))) if order.get(m, -1) > k)
        print(f'{nb.name:28} {len(exp):4} exported, {tested:4} tested below' + (f'; imports later {later}' if later else ''))
        if later: problems.append(f'{nb.name} imports {", ".join(later)}, exported by later notebooks')
    for py in sorted((ROOT / 'esmdiff').glob('*.py')):
        if py.name == '_modidx.py': continue
        text = py.read_text(); n = text.count('\n')
        if n > MAX_LINES: problems.append(f'esmdiff/{py.name} has {n} lines (at most {MAX_LINES})')
        mine = order.get(py.stem, -1)
        later = sorted(m for m in imported(text) if order.get(m, -1) > mine >= 0)
        if later: problems.append(f'esmdiff/{py.name} imports {", ".join(later)}, exported by later notebooks')
    share = n_tested / max(n_exp, 1)
    print(f'exported cells with their test or example directly below: {n_tested} of {n_exp} ({share:.0%})')
    if share < MIN_TESTED: problems.append(f'only {share:.0%} of exported cells have their test directly below (at least {MIN_TESTED:.0%})')
    for p in problems: print('house:', p)
    return 1 if problems else 0

if __name__ == '__main__': sys.exit(main())
