"""README.md from nbs/index.ipynb (Quarto, which nbdev_readme needs, cannot be installed here), so the two never drift.

Markdown cells as they are, code cells as ```python blocks, their text outputs as plain blocks. `python .ci/readme.py`
writes README.md; `python .ci/readme.py --check` exits 1 when README.md differs from what it would write (CI runs this).
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def text_of(output: dict) -> str:
    "The text an output shows: a stream's text, else its plain-text rendering ('' for pictures only)."
    if output.get('output_type') == 'stream': return ''.join(output['text'])
    return ''.join(output.get('data', {}).get('text/plain', ''))

def render(nb: dict) -> str:
    "The README's markdown for notebook `nb`."
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source']).strip('\n')
        if c['cell_type'] == 'markdown': parts.append(src); continue
        if src.startswith('#| hide') or not src: continue
        parts.append(f'```python\n{src}\n```')
        shown = ''.join(text_of(o) for o in c.get('outputs', []) if o.get('output_type') != 'stream' or o.get('name') == 'stdout').strip('\n')
        if shown: parts.append(f'```\n{shown}\n```')
    return '\n\n'.join(parts) + '\n'

def main() -> int:
    want = render(json.loads((ROOT/'nbs'/'index.ipynb').read_text()))
    readme = ROOT/'README.md'
    if '--check' in sys.argv[1:]:
        if readme.read_text() == want: return 0
        print('README.md is not in step with nbs/index.ipynb: run python .ci/readme.py and commit README.md', file=sys.stderr)
        return 1
    readme.write_text(want)
    return 0

if __name__ == '__main__': sys.exit(main())
