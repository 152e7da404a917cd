"""Benchmark of esmdiff's embedder against fair-esm's extract.py and the original design (issue 4).

Real human proteins (whole genes with all their isoforms, duplicates included, drawn with a fixed seed) are
embedded with the ESM2-35M architecture (random weights) on CPU with 2 threads by
  (a) fair-esm as extract.py runs it: FastaBatchedDataset.get_batch_indices(toks_per_batch=4096,
      extra_toks_per_seq=1), batch converter truncating at 1022, fp32 forward under no_grad, mean of
      rows 1..len of the final layer;
  (b) the original design: batches of 16 in input order, no de-duplication, fair-esm forward (truncated at
      1022 so that it fits in memory), mean over every position of the padded batch;
  (c) esmdiff.embed.embed_sequences with long_policy='truncate' (the same work as (a): same vectors);
  (w) esmdiff with its default long_policy='window' (every residue of long proteins represented).
Residues/s = residues represented in the output vectors, summed over all input isoforms (duplicates
included) / wall seconds: sum(min(L, 1022)) for a, b, c; sum(L) for w. Each repetition runs the four in
turn (a shared machine slows them alike); reported: median of --repeats after a warm-up on a few
sequences. Peak memory: the largest RSS increase over the pre-run RSS while a method runs (sampled every
5 ms). Prints a markdown table.

    python bench/embed.py                        # defaults below
    python bench/embed.py --isoforms 120 --repeats 3
"""
import argparse, gzip, os, random, statistics, threading, time
from pathlib import Path
import torch
import torch.nn.functional as F
import esm
from esm.data import FastaBatchedDataset
from esmdiff.embed import Esm2Model, embed_sequences, normalise_sequence

CORPUS = Path(__file__).resolve().parents[1]/'esmdiff'/'data'/'Homo_sapiens.GRCh38.pep.subset.fa.gz'
SHARED = Path('/work/shared/data/ensembl/Homo_sapiens.GRCh38.pep.subset.fa.gz')


def read_pep(path):
    "(header, sequence) pairs of a gzipped FASTA file."
    records, header, parts = [], None, []
    with gzip.open(path, 'rt') as f:
        for line in f:
            line = line.strip()
            if line.startswith('>'):
                if header is not None: records.append((header, ''.join(parts)))
                header, parts = line[1:], []
            elif line: parts.append(line)
    if header is not None: records.append((header, ''.join(parts)))
    return records


def sample_isoforms(records, n_isoforms, max_protein, seed):
    "All isoforms of randomly drawn genes (fixed seed) until at least n_isoforms; genes with a protein over max_protein are left out."
    by_gene = {}
    for header, seq in records: by_gene.setdefault(header.split(' gene:')[1].split()[0], []).append(normalise_sequence(seq)[0])
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


def original_design(model, seqs, batch_size=16, truncation=1022):
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
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    seqs = sample_isoforms(read_pep(CORPUS if CORPUS.exists() else SHARED), args.isoforms, args.max_protein, args.seed)
    n_long = sum(len(s) > 1022 for s in seqs)
    print(f'{len(seqs)} isoforms, {len(set(seqs))} distinct, {n_long} over 1,022 residues, {sum(map(len, seqs))} residues '
          f'(max {max(map(len, seqs))}); ESM2-35M architecture, random weights, CPU, {args.threads} threads')

    torch.manual_seed(0)
    module = esm.ESM2(num_layers=12, embed_dim=480, attention_heads=20).eval()
    model = Esm2Model(module, 'esm2_t12_35M_random', 'random-weights', 12, torch.device('cpu'), torch.float32)
    truncated = sum(min(len(s), 1022) for s in seqs)
    methods = {
        'a': ('fair-esm extract.py (4096 toks, fp32, truncate 1022)', truncated, lambda s: extract_py(module, s)),
        'b': ('original design (batches of 16, input order, no de-dup)', truncated, lambda s: original_design(module, s)),
        'c': (f'esmdiff (truncate, {args.toks_per_batch} toks)', truncated,
              lambda s: embed_sequences(model, s, toks_per_batch=args.toks_per_batch, long_policy='truncate', progress=False).vectors),
        'w': (f'esmdiff (window, default, {args.toks_per_batch} toks)', sum(map(len, seqs)),
              lambda s: embed_sequences(model, s, toks_per_batch=args.toks_per_batch, progress=False).vectors),
    }
    for _, _, run in methods.values(): run(seqs[:4])  # warm-up
    seconds, memory, vectors = {k: [] for k in methods}, {k: 0.0 for k in methods}, {}
    for r in range(args.repeats):
        for k, (label, _, run) in methods.items():
            with PeakRSS() as rss:
                t0 = time.perf_counter(); vectors[k] = run(seqs); seconds[k].append(time.perf_counter() - t0)
            memory[k] = max(memory[k], rss.mb)
            print(f'  repeat {r + 1}: {k} {seconds[k][-1]:.1f} s', flush=True)
    cos = F.cosine_similarity(vectors['a'].double(), vectors['c'].double(), dim=-1).min().item()
    rate = {k: methods[k][1] / statistics.median(seconds[k]) for k in methods}
    print(f'\n| method | median s | residues/s | peak RSS increase |\n|---|---|---|---|')
    for k, (label, _, _) in methods.items():
        print(f'| ({k}) {label} | {statistics.median(seconds[k]):.1f} | {rate[k]:.0f} | {memory[k]:.0f} MB |')
    print(f'\n(c)/(a) = {rate["c"] / rate["a"]:.2f}   (c)/(b) = {rate["c"] / rate["b"]:.2f}   '
          f'(w)/(a) = {rate["w"] / rate["a"]:.2f}   (w)/(b) = {rate["w"] / rate["b"]:.2f}')
    print(f'min cosine (c) vs (a): {cos:.7f}')


if __name__ == '__main__': main()
