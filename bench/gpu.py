"""GPU benchmark of ESM2 embedding: fair-esm extract.py-style batching vs esmdiff padded vs esmdiff packed (not a test).

Self-contained: random weights in the 650M and 3B architectures, built on the GPU; a 2,000-gene job of
protein sequences whose lengths are drawn (seed 0) from the bundled corpus' length distribution until the job
holds --residues residues (5.5 M by default, about 10,000 isoforms of 2,000 genes); random letters, so no two
sequences are equal and de-duplication gains nothing here. Every sequence is truncated at 1,022 residues
(extract.py's rule), so the three methods compute the same vectors:
  fair-esm:  extract.py's batching (FastaBatchedDataset.get_batch_indices, --fair_toks tokens), its batch
             converter and fair-esm's own forward, the module cast to the dtype as users run it in half precision;
  padded:    esmdiff.embed.embed_units with backend 'sdpa' (padded batches of --toks padded tokens);
  packed:    esmdiff.embed.embed_units with backend 'packed' (no padding, --toks real tokens).
For each architecture, dtype (float16, bfloat16) and method it times a random sample of the job's batches
(uniformly drawn, after a warm-up on the longest batch) for about --seconds seconds and extrapolates to the
whole job by the number of batches (the table says so). Columns: residues/s, seconds for the 2,000-gene job,
peak GPU memory (weights included), the minimum cosine to float32 (esmdiff packed in float32, TF32 off) on 48
sequences across the length range, and the achieved fraction of the GPU's dense bf16 peak (useful FLOPs:
matmuls and attention over real tokens only). Prints progress; with --out, writes the table to <out>/gpu.md.

    python bench/gpu.py                  # one CUDA GPU; under 6 minutes on an H100-class GPU
    python bench/gpu.py --out "$OUT"
    python bench/gpu.py --smoke          # CPU, a tiny model, seconds (CI runs this)
"""
import argparse, copy, random, sys, time
from pathlib import Path
import torch
import torch.nn.functional as F
import esm
from esm.data import FastaBatchedDataset
from esmdiff.checkpoints import Esm2Model
from esmdiff.forward import attention_kernels
from esmdiff.embed import Unit, embed_units, normalise_sequence, plan_batches, plan_units
from esmdiff.fetch import read_pep_fasta
from esmdiff.testing import corpus_fasta

ARCHS = {'650M': (33, 1280, 20), '3B': (36, 2560, 40), 'tiny': (2, 64, 4)}
PEAK_BF16_TFLOPS = {'H100': 989, 'H200': 989, 'GH200': 989, 'B200': 2250, 'A100': 312, 'L40S': 362, 'A10': 125, 'L4': 121}
LETTERS = 'ACDEFGHIKLMNPQRSTVWY'


def job_sequences(residues, seed=0):
    "Random protein sequences with lengths drawn from the bundled corpus until they hold `residues` residues."
    lengths = [len(normalise_sequence(r.seq)[0]) for r in read_pep_fasta(corpus_fasta())]
    rng, seqs, total = random.Random(seed), [], 0
    while total < residues:
        L = rng.choice(lengths); total += L
        seqs.append(''.join(rng.choices(LETTERS, k=L)))
    return [s[:1022] for s in seqs], total


def useful_flops(lengths, layers, dim):
    "Matmul and attention FLOPs of a forward over real tokens only (BOS and EOS included)."
    return sum(layers * (24 * dim * dim * (L + 2) + 4 * (L + 2) ** 2 * dim) for L in lengths)


def cast_module(module, dtype):
    "A copy of `module` with parameters in `dtype`; esmdiff keeps the rotary buffers float32."
    m = copy.deepcopy(module)
    for p in m.parameters(): p.data = p.data.to(dtype)
    return m


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()


class Method:
    "One way of embedding: its batches of the job, and a function that runs one batch and returns mean vectors."
    def __init__(self, name, batches, run): self.name, self.batches, self.run = name, batches, run


def fair_esm_method(module, seqs, toks, device, dtype):
    "extract.py's batching, converter and forward (mean of rows 1..len of the final layer)."
    module = module.to(dtype)  # fair-esm users cast the whole module (buffers included) to half
    batches = FastaBatchedDataset([str(i) for i in range(len(seqs))], seqs).get_batch_indices(toks, extra_toks_per_seq=1)
    convert, L = module.alphabet.get_batch_converter(1022), module.num_layers
    def run(batch, seqs=seqs):
        _, strs, tokens = convert([(str(i), seqs[i]) for i in batch])
        with torch.no_grad():
            rep = module(tokens.to(device), repr_layers=[L])['representations'][L]
        return torch.stack([rep[r, 1:len(s) + 1].float().mean(0) for r, s in enumerate(strs)]).cpu()
    return Method('fair-esm (extract.py batching)', batches, run)


def esmdiff_method(model, seqs, toks, backend):
    "esmdiff's planner and forward for `backend`; vectors are the units' sums over their lengths."
    units = plan_units([len(s) for s in seqs], 'truncate')  # one unit per (truncated) sequence
    batches = [[units[i].seq for i in b] for b in plan_batches(units, toks, packed=backend == 'packed')]
    def run(batch, seqs=seqs):
        sums = embed_units(model, seqs, [Unit(i, 0, len(seqs[i]), 0, len(seqs[i])) for i in batch], backend)
        return sums / torch.tensor([len(seqs[i]) for i in batch], dtype=torch.float32)[:, None]
    label = 'esmdiff padded (sdpa)' if backend == 'sdpa' else 'esmdiff packed'
    return Method(label, batches, run)


def time_method(method, device, seconds, rng):
    "Seconds for the whole job, extrapolated from a uniform sample of batches, and the batches timed."
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats()
    method.run(method.batches[0]); method.run(method.batches[-1]); sync(device)  # warm-up on both ends of the length order
    order = list(range(len(method.batches))); rng.shuffle(order)
    t0, done = time.perf_counter(), 0
    for b in order:
        method.run(method.batches[b]); done += 1
        if done >= 3 and time.perf_counter() - t0 > seconds: break
    sync(device)
    spent = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == 'cuda' else float('nan')
    return spent * len(method.batches) / done, done, peak


def min_cosine(method, ref_seqs, ref):
    "Smallest cosine between `method`'s vectors of `ref_seqs` (one batch each of up to 8) and the float32 reference."
    out = torch.cat([method.run(list(range(k, min(k + 8, len(ref_seqs)))), seqs=ref_seqs) for k in range(0, len(ref_seqs), 8)])
    return F.cosine_similarity(out.double(), ref.double(), dim=-1).min().item()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--smoke', action='store_true', help='CPU, tiny model, a small job: checks that the script runs')
    p.add_argument('--archs', default='650M,3B')
    p.add_argument('--residues', type=float, default=5.5e6, help='residues of the job (2,000 genes: about 5.5 M)')
    p.add_argument('--toks', type=int, default=16384, help="esmdiff's tokens per batch")
    p.add_argument('--fair_toks', type=int, default=4096, help="extract.py's --toks_per_batch (its default)")
    p.add_argument('--seconds', type=float, default=10.0, help='timed seconds per row (a sample of batches)')
    p.add_argument('--peak_tflops', type=float, default=None, help='dense bf16 peak of the GPU (default: from its name)')
    p.add_argument('--out', default=None, help='folder to write gpu.md into')
    a = p.parse_args()
    if a.smoke: a.archs, a.residues, a.toks, a.fair_toks, a.seconds = 'tiny', 2500, 600, 600, 0.01
    device = torch.device('cuda' if torch.cuda.is_available() and not a.smoke else 'cpu')
    if device.type != 'cuda' and not a.smoke: sys.exit('bench/gpu.py needs a CUDA GPU (or --smoke for the CPU check)')
    torch.backends.cuda.matmul.allow_tf32 = False; torch.backends.cudnn.allow_tf32 = False
    gpu = torch.cuda.get_device_name() if device.type == 'cuda' else 'CPU (smoke)'
    peak = a.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items() if k in gpu), None)
    seqs, residues = job_sequences(a.residues)
    n_ref = 4 if a.smoke else 48
    ref_seqs = sorted(seqs, key=len)[::max(1, len(seqs) // n_ref)][:n_ref]
    lengths = [len(s) for s in seqs]
    print(f'{gpu}; job: {len(seqs):,} sequences, {residues:,} residues ({sum(lengths):,} after truncation at 1,022); '
          f'torch {torch.__version__}; packed attention kernels: {attention_kernels(device, torch.bfloat16)}', flush=True)
    dtypes = [torch.float16, torch.bfloat16]
    rows, failed = [], []
    for arch in a.archs.split(','):
        layers, dim, heads = ARCHS[arch]
        t0 = time.perf_counter()
        torch.manual_seed(0)
        with torch.device(device): module = esm.ESM2(num_layers=layers, embed_dim=dim, attention_heads=heads).eval()
        ref_model = Esm2Model(module, f'esm2_{arch}_random', 'random', layers, device, torch.float32)
        ref = torch.cat([esmdiff_method(ref_model, ref_seqs, a.toks, 'packed').run(list(range(k, min(k + 8, len(ref_seqs)))))
                         for k in range(0, len(ref_seqs), 8)])
        flops = useful_flops(lengths, layers, dim)
        print(f'{arch}: built and float32 reference in {time.perf_counter() - t0:.1f} s; {flops / 1e15:.2f} PFLOP of useful work', flush=True)
        for dtype in dtypes:
            half = cast_module(module, dtype)
            model = Esm2Model(half, f'esm2_{arch}_random', 'random', layers, device, dtype)
            for method in (fair_esm_method(cast_module(module, dtype), seqs, a.fair_toks, device, dtype),
                           esmdiff_method(model, seqs, a.toks, 'sdpa'), esmdiff_method(model, seqs, a.toks, 'packed')):
                name = f'{arch} {str(dtype)[6:]} {method.name}'
                try:
                    secs, done, mem = time_method(method, device, a.seconds, random.Random(0))
                    cos = min_cosine(method, ref_seqs, ref)
                except torch.OutOfMemoryError as e:
                    print(f'  {name}: out of memory ({str(e).splitlines()[0][:120]})', flush=True)
                    rows.append((arch, str(dtype)[6:], method.name, None, None, None, None, None, None)); continue
                frac = flops / secs / (peak * 1e12) if peak else None
                rows.append((arch, str(dtype)[6:], method.name, sum(lengths) / secs, secs, done, len(method.batches), mem, cos, frac))
                if method.name.startswith('esmdiff') and not cos >= 0.99: failed.append(f'{name}: min cosine {cos:.5f} < 0.99')
                print(f'  {name}: {sum(lengths) / secs:,.0f} residues/s, job {secs:.1f} s ({done}/{len(method.batches)} batches timed), '
                      f'peak {mem:.1f} GB, min cosine {cos:.5f}', flush=True)
                if device.type == 'cuda': torch.cuda.empty_cache()
            del half, model
        del module, ref_model
    table = [f'{gpu}; job: {len(seqs):,} sequences, {residues:,} residues (lengths from the bundled corpus, '
             f'truncated at 1,022: residues/s counts the {sum(lengths):,} kept); esmdiff {a.toks:,} tokens per batch, extract.py {a.fair_toks:,}; random weights. Job seconds are '
             f'extrapolated from a uniform random sample of each method\'s batches (~{a.seconds:g} s timed per row). Peak bf16: '
             f'{peak or "unknown"} TFLOP/s.', '',
             '| arch | dtype | method | residues/s | 2,000-gene job s | batches timed | peak GPU GB | min cos to fp32 | of bf16 peak |',
             '|---|---|---|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        if r[3] is None: table.append(f'| {r[0]} | {r[1]} | {r[2]} | out of memory | | | | | |'); continue
        arch, dt, name, rate, secs, done, n, mem, cos, frac = r
        table.append(f'| {arch} | {dt} | {name} | {rate:,.0f} | {secs:.1f} | {done}/{n} | ' + (f'{mem:.1f}' if mem == mem else 'n/a') + f' | {cos:.5f} | '
                     + (f'{frac:.1%} |' if frac is not None else 'n/a |'))
    print('\n' + '\n'.join(table))
    if a.out:
        Path(a.out).mkdir(parents=True, exist_ok=True); (Path(a.out)/'gpu.md').write_text('\n'.join(table) + '\n')
    if failed: sys.exit('FAILED: ' + '; '.join(failed))


if __name__ == '__main__': main()
