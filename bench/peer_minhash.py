#!/usr/bin/env python3
"""The paragraph-dedup script a user writes over a MinHash library: the peers of `bench/peers.py`.

    python bench/peer_minhash.py datasketch CORPUS_DIR RESULT.json   # in the project's venv
    python bench/peer_minhash.py rensa CORPUS_DIR RESULT.json        # in the bench's rensa venv

One algorithm, two libraries. Every paragraph of the corpus' JSONL files: lower-case, `\\w+`
words, the set of word 5-grams; a 128-permutation MinHash (seed 1); an LSH index at Jaccard 0.7
(insert every paragraph, then query every paragraph); candidate pairs united into clusters.
Nothing else: no normalisation beyond lower-casing, no verification, no documents, no output
table. Standard library plus the MinHash library only, so it runs in any environment.
Timed from the start of the process (interpreter and imports included), as a user sees it.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

START = time.perf_counter()
THRESHOLD, NUM_PERM, SEED, NGRAM = 0.7, 128, 1, 5
WORD = re.compile(r"\w+")


def paragraphs(corpus: Path) -> list[str]:
    out = []
    for path in sorted((corpus / "jsonl").glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                out.extend(json.loads(line)["text"].split("\n"))
    return out


def shingles(text: str) -> list[str]:
    words = WORD.findall(text.lower())
    if len(words) < NGRAM:
        return [" ".join(words)]
    return list({" ".join(words[i: i + NGRAM]) for i in range(len(words) - NGRAM + 1)})


def sketches_datasketch(texts: list[str]):
    from datasketch import MinHash, MinHashLSH

    sketches = []
    for text in texts:
        m = MinHash(num_perm=NUM_PERM, seed=SEED)
        for s in shingles(text):
            m.update(s.encode("utf-8"))
        sketches.append(m)
    return sketches, MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)


def sketches_rensa(texts: list[str]):
    from rensa import RMinHash, RMinHashLSH

    sketches = []
    for text in texts:
        m = RMinHash(num_perm=NUM_PERM, seed=SEED)
        m.update(shingles(text))
        sketches.append(m)
    return sketches, RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=16)


def main(backend: str, corpus: Path, result: Path) -> None:
    texts = paragraphs(corpus)
    t_read = time.perf_counter()
    sketches, lsh = {"datasketch": sketches_datasketch, "rensa": sketches_rensa}[backend](texts)
    t_sign = time.perf_counter()
    for i, m in enumerate(sketches):
        lsh.insert(i, m)
    parent = list(range(len(texts)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    pairs = 0
    for i, m in enumerate(sketches):
        for j in lsh.query(m):
            if j != i:
                pairs += 1
                a, b = root(i), root(int(j))
                if a != b:
                    parent[max(a, b)] = min(a, b)
    sizes: dict[int, int] = {}
    for i in range(len(texts)):
        r = root(i)
        sizes[r] = sizes.get(r, 0) + 1
    end = time.perf_counter()
    result.write_text(json.dumps({
        "backend": backend, "paragraphs": len(texts), "candidate_pairs": pairs // 2,
        "clusters": sum(1 for n in sizes.values() if n > 1),
        "paragraphs_in_clusters": sum(n for n in sizes.values() if n > 1),
        "seconds_in_process": end - START, "read_seconds": t_read - START,
        "sign_seconds": t_sign - t_read, "lsh_seconds": end - t_sign}))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
