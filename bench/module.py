"""What the ESM2 branch of `AugmentedGeneEmbedding` costs in a training step of the reference model.

Times one training step (forward, backward, AdamW) of `ConditionalExpressionDiffusion` with
`esm_mode='id_only'` and with `esm_mode='esm'`, on CPU, at 2,000 genes with 650M-sized ESM2 vectors
(1,280 dimensions, random: the cost does not depend on the values). Both models are timed in the same
process, alternating, and the medians are compared. Also times the gene embedding alone (forward and
backward over all genes), the ESM2 branch's own cost without the noise of two whole steps.
Target: the ESM2 branch costs at most 10% of a step.

    python bench/module.py [--genes 2000] [--batch 16] [--esm-dim 1280] [--pooling canonical] [--rounds 10]
"""
import argparse, statistics, time, warnings
import torch
from esmdiff.store import random_store
from esmdiff.diffusion import ConditionalModelConfig, ConditionalExpressionDiffusion


def step_timer(model, x, cond, batch):
    "A function that runs one training step and returns its wall time in seconds."
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    gen = torch.Generator().manual_seed(0)
    def step():
        idx = torch.randint(len(x), (batch,), generator=gen)
        t0 = time.perf_counter()
        loss = model.loss(x[idx], cond[idx], gen)
        opt.zero_grad(); loss.backward(); opt.step()
        return time.perf_counter() - t0
    return step


def embedding_time(model):
    "Wall time of the gene embedding's forward and backward over all genes."
    t0 = time.perf_counter()
    model.gene_embedding(model.gene_index).sum().backward()
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--genes', type=int, default=2000)
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--esm-dim', type=int, default=1280)
    p.add_argument('--pooling', default='canonical', choices=['canonical', 'mean', 'attention'])
    p.add_argument('--isoforms', type=int, default=1, help='isoform rows per gene in the store')
    p.add_argument('--rounds', type=int, default=10)
    a = p.parse_args()

    genes = [f'ENSG{i:011d}' for i in range(a.genes)]
    store = random_store(genes, dim=a.esm_dim, isoforms=a.isoforms, seed=0)
    x = torch.rand(256, a.genes) * 3
    conditions = ['a', 'b', 'c', 'd']
    models = {}
    for mode in ('id_only', 'esm'):
        cfg = ConditionalModelConfig(esm_mode=mode, pooling=a.pooling)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            models[mode] = m = ConditionalExpressionDiffusion(cfg, genes, conditions, esm=store)
        m.fit_scaling(x)
    cond = torch.arange(len(x)) % len(conditions)
    steps = {mode: step_timer(m, x, cond, a.batch) for mode, m in models.items()}
    for step in steps.values(): step(); step()  # warm-up
    times = {mode: [] for mode in models}
    emb_times = {mode: [] for mode in models}
    for _ in range(a.rounds):
        for mode in models:
            times[mode].append(steps[mode]())
            emb_times[mode].append(embedding_time(models[mode]))
    med = {mode: statistics.median(t) for mode, t in times.items()}
    emb = {mode: statistics.median(t) for mode, t in emb_times.items()}
    cfg = models['esm'].config
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {a.genes} genes, batch {a.batch}, "
          f"dim {cfg.dim}, depth {cfg.depth}, esm_dim {a.esm_dim} -> esm_proj_dim {cfg.esm_proj_dim}, "
          f"pooling {a.pooling}, {a.isoforms} isoform(s)/gene, {a.rounds} rounds (medians)")
    print(f"training step  id_only {med['id_only'] * 1e3:8.1f} ms   esm {med['esm'] * 1e3:8.1f} ms   "
          f"ratio esm/id_only {med['esm'] / med['id_only']:.3f}")
    print(f"gene embedding fwd+bwd  id_only {emb['id_only'] * 1e3:6.2f} ms   esm {emb['esm'] * 1e3:6.2f} ms")
    share = (emb['esm'] - emb['id_only']) / med['esm']
    print(f"ESM2 branch share of an esm step: {share:.1%} (from the embedding timings), "
          f"{(med['esm'] - med['id_only']) / med['esm']:.1%} (from the step difference); target <= 10%")


if __name__ == '__main__':
    main()
