"""Benchmark: fetch every protein of the corpus genes from a mock Ensembl with esmdiff and with the predecessor script this project grew from.

Both run against `esmdiff.testing.MockEnsembl` with Ensembl's per-second limit (16 per clock second, 429 +
Retry-After beyond) and a fixed latency per request, in the same process:

- esmdiff: `esmdiff.ensembl.fetch_rest` with its defaults (batched POSTs, 15 requests/s, 10 threads, no cache);
- original: one `GET /lookup/id/<gene>?expand=1` per gene, then one `GET /sequence/id/<ENSP>?type=protein` per
  protein_coding translation, on 10 threads, each thread sleeping `Retry-After` on a 429 and trying again
  (without that it would lose data).

Usage: python bench/fetch.py [--latency 0.1] [--genes N] [--threads 10]
"""
import argparse, time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from esmdiff.ensembl import fetch_rest
from esmdiff.fetch import read_pep_fasta
from esmdiff.testing import MockEnsembl, corpus_fasta

JSON = {'Content-Type': 'application/json', 'Accept': 'application/json'}


def original_fetch(url: str, genes: list[str], threads: int) -> dict[str, dict[str, str]]:
    "The predecessor script's way: a GET per gene, then a GET per protein, on `threads` threads; sleeps Retry-After on 429."
    def get(path, **params):
        while True:
            r = requests.get(f'{url}/{path}', params=params, headers=JSON, timeout=60)
            if r.status_code == 429: time.sleep(float(r.headers.get('Retry-After', 1))); continue
            r.raise_for_status(); return r.json()
    def one_gene(gene):
        g = get(f'lookup/id/{gene}', expand=1)
        proteins = [t['Translation']['id'] for t in g.get('Transcript', []) if t.get('Translation') and t['biotype'] == 'protein_coding']
        return gene, {p: get(f'sequence/id/{p}', type='protein')['seq'] for p in proteins}
    with ThreadPoolExecutor(threads) as pool: return dict(pool.map(one_gene, genes))


def run(label, mock, fn):
    "Run `fn` against `mock` with a fresh request log; print and return its result, requests and seconds."
    mock.clear_log(); t0 = time.perf_counter()
    out = fn()
    seconds, log = time.perf_counter() - t0, mock.log
    statuses = Counter(r.status for r in log)
    print(f'{label:>9}: {len(log):5d} requests ({statuses.get(429, 0)} answered 429), {seconds:7.1f} s, peak {mock.peak_rate()} requests in 1 s')
    return out, len(log), seconds


def main():
    "Fetch the corpus genes both ways and print requests, seconds and the ratios."
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--latency', type=float, default=0.1, help='seconds the mock adds to every answer')
    p.add_argument('--genes', type=int, default=None, help='only the first N corpus genes (default: all 840)')
    p.add_argument('--threads', type=int, default=10, help='threads of the predecessor script')
    args = p.parse_args()
    genes = sorted({r.gene_id for r in read_pep_fasta(corpus_fasta())})[:args.genes]
    print(f'{len(genes)} genes; mock Ensembl with {args.latency * 1000:.0f} ms latency and 16 requests per clock second')
    with MockEnsembl(latency=args.latency, per_second=16) as mock:
        new, new_requests, new_seconds = run('esmdiff', mock, lambda: fetch_rest(genes, server=mock.url))
        old, old_requests, old_seconds = run('original', mock, lambda: original_fetch(mock.url, genes, args.threads))
    same = all({i.protein_id: i.seq for i in new[g].isoforms} == old[g] for g in genes)
    print(f'same proteins and sequences from both: {same}')
    print(f'esmdiff makes {old_requests / new_requests:.0f}x fewer requests and takes {old_seconds / new_seconds:.0f}x less time')


if __name__ == '__main__':
    main()
