"""Benchmark of esmdiff's embedder on CPU against fair-esm's extract.py and the predecessor script (not a test).

Real human proteins from the bundled corpus (whole genes with all their isoforms, duplicates included, drawn
with a fixed seed) are embedded with the ESM2-35M architecture (or --arch 8M; random weights) on CPU by
  (a) fair-esm as extract.py runs it: FastaBatchedDataset.get_batch_indices(toks_per_batch=4096,
      extra_toks_per_seq=1), batch converter truncating at 1022, fp32 forward under no_grad, mean of
      rows 1..len of the final layer;
  (b) the predecessor script this project grew from: batches of 16 in input order, no de-duplication,
      fair-esm forward (truncated at 1022 so that it fits in memory), mean over every position of the padded
      batch (--skip_b leaves it out: it is slow);
  (s) esmdiff.embed.embed_sequences, padded 'sdpa' forward, long_policy='truncate' (same vectors as (a));
  (c) esmdiff, packed forward (the CPU default), long_policy='truncate';
  (w) esmdiff, packed, its default long_policy='window' (every residue of long proteins represented);
  (h) (c) in bfloat16 (weights and compute; vectors float32).
Residues/s = residues represented in the output vectors, summed over all input isoforms (duplicates
included) / wall seconds: sum(min(L, 1022)) for all but w; sum(L) for w. Each repetition runs the methods in
turn (a shared machine slows them alike); reported: median and range of --repeats after a warm-up, and the
ratios per repetition. Peak memory: the largest RSS increase over the pre-run RSS while a method runs
(sampled every 5 ms). Prints a markdown table.

    python bench/embed.py                        # defaults below
    python bench/embed.py --isoforms 40 --repeats 5 --skip_b --arch 8M
"""
import argparse, copy, os, random, statistics, threading, time
import torch
import torch.nn.functional as F
import esm
from esm.data import FastaBatchedDataset
from esmdiff.checkpoints import Esm2Model
from esmdiff.embed import embed_sequences, normalise_sequence
from esmdiff.fetch import read_pep_fasta
from esmdiff.testing import corpus_fasta

ARCHS = {'8M': (6, 320, 20), '35M': (12, 480, 20)}


def corpus_records():
    "The bundled corpus' pep records, read with esmdiff's own FASTA reader."
    return list(read_pep_fasta(corpus_fasta()))


def random_model(arch, dtype=torch.float32):
    "An ESM2 of the given architecture with random weights (seed 0), weights in `dtype`, rotary buffers float32."
    layers, dim, heads = ARCHS[arch]
    torch.manual_seed(0)
    module = esm.ESM2(num_layers=layers, embed_dim=dim, attention_heads=heads).eval()
    for p in module.parameters(): p.data = p.data.to(dtype)
    return Esm2Model(module, f'esm2_t{layers}_{arch}_random', 'random-weights', layers, torch.device('cpu'), dtype)


def sample_isoforms(records, n_isoforms, max_protein, seed):
    "All isoforms of randomly drawn genes (fixed seed) until at least n_isoforms; genes with a protein over max_protein are left out."
    by_gene = {}
    for r in records: by_gene.setdefault(r.gene_id, []).append(normalise_sequence(r.seq)[0])
    genes = sorted(g for g, seqs in by_gene.items() if max(map(len, seqs)) <= max_protein)
    random.Random(seed).shuffle(genes)
    out = []
    for g in genes:
        if len(out) >= n_isoforms: break
        out += by_gene[g]
    return out


class PeakRSS:
    "Largest RSS increase over the RSS at entry, sampled in a thread."
    def __enter__(self):
        self.base = self.peak = self._rss(); self._stop = False
        self._t = threading.Thread(target=self._poll, daemon=True); self._t.start(); return self
    def __exit__(self, *a): self._stop = True; self._t.join()
    def _poll(self):
        while not self._stop: self.peak = max(self.peak, self._rss()); time.sleep(0.005)
    @staticmethod
    def _rss(): return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    @property
    def mb(self): return (self.peak - self.base) / 2**20


def extract_py(model, seqs, toks_per_batch=4096, truncation=1022):
    "fair-esm's extract.py: its batching, converter and mean (BOS/EOS excluded)."
    dataset = FastaBatchedDataset([str(i) for i in range(len(seqs))], seqs)
    batches = dataset.get_batch_indices(toks_per_batch, extra_toks_per_seq=1)
    loader = torch.utils.data.DataLoader(dataset, collate_fn=model.alphabet.get_batch_converter(truncation), batch_sampler=batches)
    out = [None] * len(seqs)
    with torch.no_grad():
        for labels, strs, toks in loader:
            rep = model(toks, repr_layers=[model.num_layers])['representations'][model.num_layers]
            for i, label in enumerate(labels):
                out[int(label)] = rep[i, 1:min(truncation, len(strs[i])) + 1].mean(0).clone()
    return torch.stack(out)


def predecessor_script(model, seqs, batch_size=16, truncation=1022):
    "Fixed batches in input order, no de-duplication, mean over all positions of the padded batch."
    convert, out = model.alphabet.get_batch_converter(truncation), []
    with torch.no_grad():
        for k in range(0, len(seqs), batch_size):
            toks = convert([(str(i), s) for i, s in enumerate(seqs[k:k + batch_size])])[2]
            out.append(model(toks, repr_layers=[model.num_layers])['representations'][model.num_layers].mean(1))
    return torch.cat(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--isoforms', type=int, default=120, help='draw whole genes until this many isoforms')
    p.add_argument('--max_protein', type=int, default=3000, help='leave out genes with a longer protein (keeps the run short)')
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--toks_per_batch', type=int, default=4096, help="esmdiff's token budget")
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--arch', choices=list(ARCHS), default='35M')
    p.add_argument('--skip_b', action='store_true', help='leave out (b), the slow predecessor script')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    seqs = sample_isoforms(corpus_records(), args.isoforms, args.max_protein, args.seed)
    n_long = sum(len(s) > 1022 for s in seqs)
    print(f'{len(seqs)} isoforms, {len(set(seqs))} distinct, {n_long} over 1,022 residues, {sum(map(len, seqs))} residues '
          f'(max {max(map(len, seqs))}); ESM2-{args.arch} architecture, random weights, CPU, {args.threads} threads')

    model, bf16 = random_model(args.arch), random_model(args.arch, torch.bfloat16)
    module, tpb = model.module, args.toks_per_batch
    truncated = sum(min(len(s), 1022) for s in seqs)
    embed = lambda m, s, **kw: embed_sequences(m, s, toks_per_batch=tpb, progress=False, **kw).vectors
    methods = {
        'a': ('fair-esm extract.py (4096 toks, fp32, truncate 1022)', truncated, lambda s: extract_py(module, s)),
        'b': ('predecessor script (batches of 16, input order, no de-dup)', truncated, lambda s: predecessor_script(module, s)),
        's': (f'esmdiff padded sdpa (truncate, {tpb} toks, fp32)', truncated, lambda s: embed(model, s, long_policy='truncate', backend='sdpa')),
        'c': (f'esmdiff packed (truncate, {tpb} toks, fp32)', truncated, lambda s: embed(model, s, long_policy='truncate', backend='packed')),
        'w': (f'esmdiff packed (window, the default, {tpb} toks, fp32)', sum(map(len, seqs)), lambda s: embed(model, s, backend='packed')),
        'h': (f'esmdiff packed (truncate, {tpb} toks, bf16)', truncated, lambda s: embed(bf16, s, long_policy='truncate', backend='packed')),
    }
    if args.skip_b: del methods['b']
    for _, _, run in methods.values(): run(seqs[:4])  # warm-up
    seconds, memory, vectors = {k: [] for k in methods}, {k: 0.0 for k in methods}, {}
    for r in range(args.repeats):
        for k, (label, _, run) in methods.items():
            with PeakRSS() as rss:
                t0 = time.perf_counter(); vectors[k] = run(seqs); seconds[k].append(time.perf_counter() - t0)
            memory[k] = max(memory[k], rss.mb)
            print(f'  repeat {r + 1}: {k} {seconds[k][-1]:.1f} s', flush=True)
    cos = lambda x, y: F.cosine_similarity(vectors[x].double(), vectors[y].double(), dim=-1).min().item()
    rate = {k: methods[k][1] / statistics.median(seconds[k]) for k in methods}
    print(f'\n| method | median s (range) | residues/s | peak RSS increase |\n|---|---|---|---|')
    for k, (label, _, _) in methods.items():
        print(f'| ({k}) {label} | {statistics.median(seconds[k]):.1f} ({min(seconds[k]):.1f}-{max(seconds[k]):.1f}) '
              f'| {rate[k]:.0f} | {memory[k]:.0f} MB |')
    print()
    for k in [k for k in methods if k not in 'ab']:
        per = [seconds['a'][r] / seconds[k][r] * methods[k][1] / methods['a'][1] for r in range(args.repeats)]
        print(f'({k})/(a) = {rate[k] / rate["a"]:.2f} (per repetition {", ".join(f"{x:.2f}" for x in per)})'
              + (f'   ({k})/(b) = {rate[k] / rate["b"]:.2f}' if 'b' in methods else ''))
    print(f'min cosine to (a): (s) {cos("s", "a"):.7f}  (c) {cos("c", "a"):.7f};  (h) bf16 vs (c) fp32: {cos("h", "c"):.5f}')


if __name__ == '__main__': main()
