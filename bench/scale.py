"""Proteome scale: seconds per 1,000 genes for each stage of `embed_genes`, and peak memory, at growing gene counts (not a test).

A synthetic proteome is written to a temporary pep FASTA with Ensembl-style headers (`>ENSP... pep
chromosome:GRCh38:<chr>:<start>:<end>:1 gene:ENSG... transcript:ENST... gene_biotype:protein_coding ...
gene_symbol:... description:...`): every gene has 1-6 protein isoforms of 20-60 residues. The gene list names
every gene by its Ensembl ID. The model is a one-layer ESM2 of width 32 with random weights, saved as a real
fair-esm checkpoint by `esmdiff.testing.make_tiny_esm2_checkpoint`, so that the forward costs little and the
other stages show.

Each size runs in a fresh process (so its peak RSS is its own) through the stages `esmdiff.pipeline.embed_genes`
calls, in its order: `read_genes` (the list), `fetch_isoforms` (the FASTA: `esmdiff.fetch.fetch_files`),
`load_model` + `embed_isoforms` (the forward, with the on-disk vector cache), `build_store` (`EsmStore.from_genes`),
`EsmStore.save` and `EsmStore.load`. Linear cost shows as a flat "s per 1k genes" across sizes.

`--no_forward_above N` replaces the forward for sizes above N by random vectors of the model's width (the
`EmbedResult` the forward would return), so the non-forward stages can be measured at 200k genes on a small
machine; the table marks those rows.

    python bench/scale.py [--sizes 2000 20000 200000] [--no_forward_above 20000]
"""
import argparse, json, random, resource, subprocess, sys, tempfile, time
from pathlib import Path

AMINO = 'ACDEFGHIKLMNPQRSTVWY'
STAGES = ('read list', 'fetch_files', 'embed', 'build store', 'save', 'load')


def write_proteome(folder: Path, n_genes: int, seed: int = 0) -> tuple[Path, Path, int]:
    "A pep FASTA of `n_genes` genes (1-6 isoforms of 20-60 residues each) and the gene list naming them; returns both and the protein count."
    rng, n_prot = random.Random(seed), 0
    fasta, genes = folder / 'synthetic.pep.all.fa', folder / 'genes.txt'
    with open(fasta, 'w') as f, open(genes, 'w') as g:
        for i in range(n_genes):
            gid, chrom, start = f'ENSG{i:011d}', str(1 + i % 22), 1000 + 50 * i
            g.write(gid + '\n')
            for k in range(rng.randint(1, 6)):
                n_prot += 1
                seq = ''.join(rng.choices(AMINO, k=rng.randint(20, 60)))
                f.write(f'>ENSP{n_prot:011d}.1 pep chromosome:GRCh38:{chrom}:{start}:{start + 3 * len(seq)}:1 gene:{gid}.1 '
                        f'transcript:ENST{n_prot:011d}.1 gene_biotype:protein_coding transcript_biotype:protein_coding '
                        f'gene_symbol:SYN{i} description:synthetic gene {i} [Source:bench]\n{seq}\n')
    return fasta, genes, n_prot


def peak_mb() -> float:
    "Peak resident memory of this process so far, in MB (Linux reports KB)."
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_size(n_genes: int, forward: bool, toks_per_batch: int) -> dict:
    "Run every stage once on a proteome of `n_genes` genes; seconds per stage, peak RSS and counts."
    import torch
    from esmdiff.embed import EmbedResult, EmbedStats
    from esmdiff.pipeline import build_store, embed_isoforms, fetch_isoforms, load_model, read_genes
    from esmdiff.store import EsmStore
    from esmdiff.testing import make_tiny_esm2_checkpoint
    tmp = Path(tempfile.mkdtemp())
    fasta, gene_file, n_prot = write_proteome(tmp, n_genes)
    ckpt = make_tiny_esm2_checkpoint(tmp, num_layers=1, embed_dim=32, attention_heads=4, name='esm2_t1_32_scale')
    seconds, t = {}, time.perf_counter()
    def lap(stage):
        nonlocal t
        now = time.perf_counter(); seconds[stage] = now - t; t = now
    gl = read_genes(gene_file); lap('read list')
    fetched = fetch_isoforms(gl, fasta=fasta); lap('fetch_files')
    seqs = [i.seq for r in fetched.records for i in r.isoforms]
    model = load_model(None, ckpt, torch.device('cpu'), 'float32')
    if forward: embedded = embed_isoforms(model, seqs, tmp / 'cache', toks_per_batch=toks_per_batch, progress=False)
    else: embedded = EmbedResult(torch.randn(len(seqs), model.embed_dim), ['full'] * len(seqs), [0] * len(seqs),
                                 EmbedStats(len(seqs), len(seqs), 0, 0, 0, 0, 0.0))
    lap('embed')
    store = build_store(gl, fetched, embedded, {'model': 'esm2_t1_32_scale', 'layer': 1, 'pooling': 'mean'}); lap('build store')
    store.save(tmp / 'esm_all.pt'); lap('save')
    back = EsmStore.load(tmp / 'esm_all.pt'); lap('load')
    assert (len(back), back.n_rows) == (n_genes, n_prot), (len(back), back.n_rows, n_genes, n_prot)
    return dict(genes=n_genes, proteins=n_prot, forward=forward, seconds=seconds, peak_mb=peak_mb())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[2000, 20000, 200000], help='gene counts, one fresh process each')
    p.add_argument('--no_forward_above', type=int, default=None, help='random vectors instead of the forward above this many genes')
    p.add_argument('--toks_per_batch', type=int, default=16384)
    p.add_argument('--one', type=int, help=argparse.SUPPRESS)  # the child process: one size, JSON on stdout
    p.add_argument('--no_forward', action='store_true', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        print(json.dumps(one_size(a.one, not a.no_forward, a.toks_per_batch))); return
    print(f'one-layer ESM2 (dim 32, random weights), CPU, toks_per_batch {a.toks_per_batch}; seconds per 1,000 genes per stage')
    print(f'{"genes":>7} {"proteins":>9} ' + ' '.join(f'{s:>11}' for s in STAGES) + f' {"total s":>8} {"peak RSS MB":>11}')
    for n in a.sizes:
        no_fwd = a.no_forward_above is not None and n > a.no_forward_above
        cmd = [sys.executable, __file__, '--one', str(n), '--toks_per_batch', str(a.toks_per_batch)] + (['--no_forward'] if no_fwd else [])
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        per_k = [r['seconds'][s] / (n / 1000) for s in STAGES]
        print(f'{n:>7} {r["proteins"]:>9} ' + ' '.join(f'{v:>11.3f}' for v in per_k)
              + f' {sum(r["seconds"].values()):>8.1f} {r["peak_mb"]:>11.0f}' + ('  (embed: random vectors, no forward)' if no_fwd else ''), flush=True)


if __name__ == '__main__': main()
