"""How esmdiff's embedding speed on CPU depends on the token budget per forward pass (not a test).

The same real corpus isoforms as bench/embed.py (whole genes, seed 0, truncated at 1,022 residues) with the
ESM2-35M architecture (random weights), 2 threads; for each --toks_per_batch the best of 2 runs after a
warm-up. Prints seconds and residues/s per budget.

    python bench/toks_per_batch.py [--isoforms 40] [--budgets 2048,4096,8192,16384]
"""
import argparse, time
import esm, torch
from embed import corpus_records, random_model, sample_isoforms
from esmdiff.checkpoints import Esm2Model
from esmdiff.embed import embed_sequences

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--isoforms', type=int, default=40); p.add_argument('--budgets', default='2048,4096,8192,16384')
    p.add_argument('--backend', default='packed', choices=['packed', 'sdpa'])
    a = p.parse_args()
    torch.set_num_threads(2); torch.manual_seed(0)
    model = random_model('35M')
    seqs = sample_isoforms(corpus_records(), a.isoforms, 3000, 0)
    residues = sum(min(len(s), 1022) for s in seqs)
    run = lambda toks: embed_sequences(model, seqs, toks_per_batch=toks, long_policy='truncate', backend=a.backend, progress=False)
    run(4096)  # warm-up
    print(f'{len(seqs)} isoforms, {residues} residues; ESM2-35M architecture, CPU, 2 threads, backend {a.backend}')
    print('| toks_per_batch | seconds | residues/s |\n|---:|---:|---:|')
    for toks in map(int, a.budgets.split(',')):
        best = min((lambda t0: (run(toks), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(2))
        print(f'| {toks:,} | {best:.1f} | {residues / best:,.0f} |')

if __name__ == '__main__': main()
