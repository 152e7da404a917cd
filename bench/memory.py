"""Peak memory of `esm2_batch` embedding the bundled corpus (not a test).

Runs the real command (`python -m esmdiff --fasta ...`, offline route) in a fresh process per setting, on the
corpus's 840 genes (2,662 proteins, up to TTN's 35,991 residues) and on 100 of them plus TTN, with an ESM2 of
the 8M model's width (2 layers of dim 320, random weights, saved as a real checkpoint), and prints each run's
peak RSS. Both gene sets hold the longest batch shape (full 1,024-token windows), so if the job held more than
one batch of per-residue states the peak would grow with the number of genes. Each setting runs twice: as shipped
(the embedder hands freed heap pages back to the system after every chunk, `esmdiff.embed.release_memory`) and
with that call replaced by a no-op, to show what glibc's kept memory cost before.

    python bench/memory.py [--layers 2 --dim 320 --heads 20 --sizes 101 420 840 --toks 4096]
"""
import argparse, subprocess, sys, tempfile, time
from pathlib import Path
from esmdiff.testing import corpus_fasta, make_tiny_esm2_checkpoint
from esmdiff.fetch import read_pep_fasta

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--layers', type=int, default=2); p.add_argument('--dim', type=int, default=320); p.add_argument('--heads', type=int, default=20)
    p.add_argument('--sizes', type=int, nargs='+', default=[101, 420, 840], help='numbers of genes (TTN always among them)')
    p.add_argument('--toks', type=int, nargs='+', default=[4096], help='--toks_per_batch values')
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp())
    ckpt = make_tiny_esm2_checkpoint(tmp, num_layers=a.layers, embed_dim=a.dim, attention_heads=a.heads, name=f'esm2_t{a.layers}_{a.dim}_bench')
    genes = list(dict.fromkeys(r.gene_id for r in read_pep_fasta(corpus_fasta())))
    print(f'ESM2 architecture: {a.layers} layers, dim {a.dim} (random weights); CPU; corpus of {len(genes)} genes')
    print(f'{"genes":>6} {"toks_per_batch":>15} {"release":>8} {"peak RSS MB":>12} {"seconds":>8}')
    ttn = 'ENSG00000155657'
    for n, toks, release in [(min(n, len(genes)), t, r) for t in a.toks for n in a.sizes for r in (True, False)]:
        chosen = genes if n == len(genes) else [g for g in genes if g != ttn][:n - 1] + [ttn]
        hvg = tmp/f'genes{n}.txt'; hvg.write_text('\n'.join(chosen) + '\n')
        off = '' if release else 'import esmdiff.embed as e; e.release_memory = lambda: False; '
        cmd = [sys.executable, '-c', off + 'import sys, resource; from esmdiff.cli import main; s = main(sys.argv[1:]); '
               'print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(s)',
               '--hvg_file', str(hvg), '--fasta', str(corpus_fasta()), '--model_path', str(ckpt), '--device', 'cpu',
               '--cache_dir', str(tmp/f'cache{n}-{toks}-{release}'), '--out', str(tmp/f'out{n}-{toks}-{release}.pt'), '--toks_per_batch', str(toks), '-q']
        t0 = time.perf_counter()
        child = subprocess.run(cmd, capture_output=True, text=True)
        if child.returncode: sys.exit(f'run failed:\n{child.stderr[-2000:]}')
        rss = int(child.stderr.strip().splitlines()[-1]) / 1024
        print(f'{n:>6} {toks:>15} {"on" if release else "off":>8} {rss:>12.0f} {time.perf_counter() - t0:>8.1f}', flush=True)

if __name__ == '__main__': main()
