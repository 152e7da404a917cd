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

--vs_hf instead compares esmdiff's packed forward with transformers' EsmModel run as a user would (the same
random weights saved as a Hugging Face folder; EsmTokenizer, sequences sorted by length, batches of 8, SDPA
attention, mean over residues), interleaved repetition by repetition, quiet and with a competing busy process
(a matmul loop on --threads threads), in float32 and bfloat16. It prints both times, their ratio (HF / esmdiff:
above 1 means esmdiff is faster) and the fraction of the machine's matmul peak each reaches, the peak being
measured in the same run and condition (a 1024^3 F.linear in that dtype, best of several).

    python bench/embed.py                        # defaults below
    python bench/embed.py --isoforms 40 --repeats 5 --skip_b --arch 8M
    python bench/embed.py --vs_hf --isoforms 24 --repeats 3 --arch 8M
"""
import argparse, copy, os, random, statistics, subprocess, sys, tempfile, threading, time
from pathlib import Path
import torch
import torch.nn.functional as F
import esm
from esm.data import FastaBatchedDataset
from esmdiff.checkpoints import Esm2Model
from esmdiff.checkpoints import load_esm2
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


def hf_folder(arch, folder):
    "A Hugging Face EsmModel folder of the architecture with random weights (seed 0), saved as safetensors."
    from transformers import EsmConfig, EsmModel, EsmTokenizer
    layers, dim, heads = ARCHS[arch]
    torch.manual_seed(0)
    vocab = esm.data.Alphabet.from_architecture('ESM-1b').all_toks
    cfg = EsmConfig(vocab_size=33, hidden_size=dim, num_hidden_layers=layers, num_attention_heads=heads, intermediate_size=4 * dim,
                    position_embedding_type='rotary', token_dropout=True, mask_token_id=32, pad_token_id=1, emb_layer_norm_before=False,
                    max_position_embeddings=1026, layer_norm_eps=1e-5)
    EsmModel(cfg, add_pooling_layer=False).eval().save_pretrained(folder)
    (Path(folder)/'vocab.txt').write_text('\n'.join(vocab) + '\n')
    EsmTokenizer(str(Path(folder)/'vocab.txt')).save_pretrained(folder)
    return folder


def hf_as_user(model, tokenizer, seqs, batch=8):
    "transformers as a user runs it: sorted by length, batches of 8, padded, mean of last_hidden_state over residues."
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = [None] * len(seqs)
    with torch.inference_mode():
        for k in range(0, len(order), batch):
            idx = order[k:k + batch]
            enc = tokenizer([seqs[i] for i in idx], padding=True, return_tensors='pt')
            hidden = model(**enc).last_hidden_state
            for j, i in enumerate(idx): out[i] = hidden[j, 1:len(seqs[i]) + 1].float().mean(0)
    return torch.stack(out)


def matmul_peak(dtype, n=1024, tries=5):
    "FLOP/s of the best of `tries` n^3 matmuls in `dtype` (through F.linear, the models' own call) on this process' threads, now."
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    F.linear(a, b)
    best = min(_timed(lambda: F.linear(a, b)) for _ in range(tries))
    return 2 * n ** 3 / best


def _timed(f):
    t0 = time.perf_counter(); f(); return time.perf_counter() - t0


def forward_flops(arch, seqs):
    "Matmul FLOPs of one forward over the sequences' real tokens (BOS and EOS included, no padding): linear layers and attention."
    layers, dim, _ = ARCHS[arch]
    toks = [min(len(s), 1022) + 2 for s in seqs]
    return sum(layers * (2 * 12 * dim * dim * t + 4 * t * t * dim) for t in toks)


BUSY = 'import torch, sys; torch.set_num_threads(int(sys.argv[1])); a = torch.randn(768, 768)\nwhile True: a @ a'


def vs_hf(args, seqs):
    "Interleaved esmdiff packed vs transformers EsmModel (sorted batches of 8, SDPA), quiet and busy, float32 and bfloat16."
    from transformers import EsmModel, EsmTokenizer
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    seqs = [s[:1022] for s in seqs]  # both read at most 1,022 residues per row; compare the same work
    tmp = tempfile.TemporaryDirectory()
    folder = hf_folder(args.arch, Path(tmp.name)/'hf')
    tokenizer = EsmTokenizer.from_pretrained(folder)
    dtypes = {'float32': torch.float32, 'bfloat16': torch.bfloat16}
    ours = {k: load_esm2(model_path=folder, device='cpu', dtype=k) for k in dtypes}
    theirs = {k: EsmModel.from_pretrained(folder, add_pooling_layer=False, attn_implementation='sdpa', torch_dtype=d).eval() for k, d in dtypes.items()}
    flops = forward_flops(args.arch, seqs)
    run = {'esmdiff': lambda k: embed_sequences(ours[k], seqs, toks_per_batch=args.toks_per_batch, long_policy='truncate', progress=False).vectors,
           'hf': lambda k: hf_as_user(theirs[k], tokenizer, seqs)}
    for k in dtypes:  # warm-up, and the two agree
        a, b = run['esmdiff'](k), run['hf'](k)
        print(f'{k}: min cosine esmdiff vs transformers {F.cosine_similarity(a.double(), b.double(), dim=-1).min().item():.6f}', flush=True)
    times = {(c, k, m): [] for c in ('quiet', 'busy') for k in dtypes for m in run}
    peaks = {(c, k): [] for c in ('quiet', 'busy') for k in dtypes}
    for r in range(args.repeats):
        for cond in ('quiet', 'busy'):
            busy = subprocess.Popen([sys.executable, '-c', BUSY, str(args.threads)]) if cond == 'busy' else None
            try:
                if busy: time.sleep(1)
                for k in dtypes:
                    peaks[cond, k].append(matmul_peak(dtypes[k]))
                    for m in (('esmdiff', 'hf') if r % 2 == 0 else ('hf', 'esmdiff')):
                        times[cond, k, m].append(_timed(lambda: run[m](k)))
                    print(f'  repeat {r + 1} {cond} {k}: esmdiff {times[cond, k, "esmdiff"][-1]:.2f} s, '
                          f'hf {times[cond, k, "hf"][-1]:.2f} s, matmul peak {peaks[cond, k][-1] / 1e9:.1f} GFLOP/s', flush=True)
            finally:
                if busy: busy.kill(); busy.wait()
    print(f'\n{len(seqs)} sequences, {flops / 1e9:.1f} GFLOP per forward; medians of {args.repeats} interleaved repetitions')
    print('| condition | dtype | esmdiff s | transformers s | HF / esmdiff | matmul peak GFLOP/s | esmdiff share of peak | HF share of peak |')
    print('|---|---|---|---|---|---|---|---|')
    for cond in ('quiet', 'busy'):
        for k in dtypes:
            e, h = (statistics.median(times[cond, k, m]) for m in ('esmdiff', 'hf'))
            peak = statistics.median(peaks[cond, k])
            ratios = ', '.join(f'{x / y:.2f}' for x, y in zip(times[cond, k, 'hf'], times[cond, k, 'esmdiff']))
            print(f'| {cond} | {k} | {e:.2f} | {h:.2f} | {h / e:.2f} ({ratios}) | {peak / 1e9:.1f} | {flops / e / peak:.2f} | {flops / h / peak:.2f} |')
    tmp.cleanup()


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
    p.add_argument('--vs_hf', action='store_true', help="compare with transformers' EsmModel instead (see above)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    seqs = sample_isoforms(corpus_records(), args.isoforms, args.max_protein, args.seed)
    if args.vs_hf: return vs_hf(args, seqs)
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
