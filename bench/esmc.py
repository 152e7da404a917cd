"""Benchmark of esmdiff's ESM C forward on CPU against transformers' EsmcModel as a user runs it (not a test).

Real human proteins from the bundled corpus (whole genes with all their isoforms, drawn with a fixed seed, as in
bench/embed.py) are embedded with an ESM C of random weights saved as a Hugging Face folder (--arch: 'mini' =
6 layers x 384, '300M' = the real 30 x 960 shape), by
  (t) transformers' EsmcModel as a user runs it: attn_implementation='sdpa', sequences sorted by length (longest
      first) and cut into batches of at most --toks_per_batch padded tokens, tokenizer padding, inference_mode,
      mean of last_hidden_state over the residues (attention mask, <cls> and <eos> off), truncated at 2,046;
  (e) esmdiff.embed.embed_sequences with the ESM C of esmdiff.esmc: the packed forward (no padding), each distinct
      sequence once, same truncation, same token budget in real tokens.
Both in float32 and in bfloat16 (transformers: the model cast with .to(torch.bfloat16); esmdiff: --dtype
bfloat16, weights bfloat16 under autocast). Residues/s = sum(min(L, 2046)) / wall seconds; each repetition runs
the methods in turn; reported: median of --repeats after a warm-up, and the esmdiff/transformers ratio. The
vectors are compared too (least cosine, float32 and bfloat16 against transformers float32).

    python bench/esmc.py                          # mini, 200 isoforms, 3 repeats
    python bench/esmc.py --arch 300M --isoforms 60 --repeats 2
"""
import argparse, os, statistics, sys, tempfile, time
from pathlib import Path
import torch
import torch.nn.functional as F
sys.path.insert(0, str(Path(__file__).parent))
from embed import corpus_records, sample_isoforms  # bench/embed.py: the same draw of corpus isoforms
from esmdiff.embed import embed_sequences
from esmdiff.esmc import ESMC_MAX_RESIDUES, load_esmc

ARCHS = {'mini': (6, 384, 6), '300M': (30, 960, 15)}


def save_random_esmc(folder, arch):
    "A random-weight ESM C of `arch` saved with transformers (SwiGLU width 8/3 of the model width, as the released models)."
    from transformers import EsmcConfig, EsmcModel, EsmcTokenizer
    layers, dim, heads = ARCHS[arch]
    torch.manual_seed(0)
    EsmcModel(EsmcConfig(hidden_size=dim, num_hidden_layers=layers, num_attention_heads=heads,
                         intermediate_size=dim * 8 // 3)).save_pretrained(folder)
    EsmcTokenizer().save_pretrained(folder)


def transformers_vectors(model, tok, seqs, toks_per_batch):
    "transformers' EsmcModel as a user runs it: sorted, padded batches within the token budget, SDPA, masked mean."
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))
    out, batch = [None] * len(seqs), []
    def run(batch):
        enc = tok([seqs[i][:ESMC_MAX_RESIDUES] for i in batch], return_tensors='pt', padding=True)
        with torch.inference_mode(): h = model(**enc).last_hidden_state.float()
        mask = enc['attention_mask'].clone(); mask[:, 0] = 0
        mask[torch.arange(len(mask)), enc['attention_mask'].sum(1) - 1] = 0
        for i, v in zip(batch, (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)): out[i] = v
    for i in order:
        width = min(len(seqs[batch[0]]) if batch else len(seqs[i]), ESMC_MAX_RESIDUES) + 2
        if batch and (len(batch) + 1) * width > toks_per_batch: run(batch); batch = []
        batch.append(i)
    if batch: run(batch)
    return torch.stack(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--arch', default='mini', choices=list(ARCHS))
    p.add_argument('--isoforms', type=int, default=200)
    p.add_argument('--max_protein', type=int, default=3000)
    p.add_argument('--toks_per_batch', type=int, default=4096)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    from transformers import EsmcModel, EsmcTokenizer
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar(); hf_logging.set_verbosity_error()
    seqs = sample_isoforms(corpus_records(), a.isoforms, a.max_protein, a.seed)
    residues = sum(min(len(s), ESMC_MAX_RESIDUES) for s in seqs)
    print(f'{len(seqs)} isoforms ({len(set(seqs))} distinct), {residues} residues (cut at {ESMC_MAX_RESIDUES}), ESM C {a.arch} {ARCHS[a.arch]}, '
          f'{a.threads} threads, torch {torch.__version__}')
    with tempfile.TemporaryDirectory() as d:
        save_random_esmc(d, a.arch)
        hf32 = EsmcModel.from_pretrained(d, attn_implementation='sdpa').eval()
        hf16 = EsmcModel.from_pretrained(d, attn_implementation='sdpa').eval().to(torch.bfloat16)
        tok = EsmcTokenizer.from_pretrained(d)
        ours32, ours16 = load_esmc(model_path=d, device='cpu', dtype='float32'), load_esmc(model_path=d, device='cpu', dtype='bfloat16')
    methods = {'transformers float32': lambda: transformers_vectors(hf32, tok, seqs, a.toks_per_batch),
               'esmdiff float32': lambda: embed_sequences(ours32, seqs, a.toks_per_batch, long_policy='truncate', progress=False).vectors,
               'transformers bfloat16': lambda: transformers_vectors(hf16, tok, seqs, a.toks_per_batch),
               'esmdiff bfloat16': lambda: embed_sequences(ours16, seqs, a.toks_per_batch, long_policy='truncate', progress=False).vectors}
    times, vectors = {k: [] for k in methods}, {}
    for rep in range(a.repeats + 1):  # repetition 0 warms up
        for k, f in methods.items():
            t0 = time.perf_counter(); vectors[k] = f(); dt = time.perf_counter() - t0
            if rep: times[k].append(dt)
    ref = vectors['transformers float32']
    print('| method | residues/s (median) | vs transformers, same dtype | least cosine vs transformers float32 |')
    print('|---|---|---|---|')
    for k in methods:
        base = 'transformers ' + k.split()[-1]
        ratio = statistics.median(b / t for b, t in zip(times[base], times[k]))
        cos = F.cosine_similarity(vectors[k], ref, dim=-1).min().item()
        print(f'| {k} | {residues / statistics.median(times[k]):,.0f} | {ratio:.2f}x | {cos:.6f} |')


if __name__ == '__main__': main()
