"""Sketching: hashing, shingles, MinHash signatures, exact set measures, and candidate search.

- `hashing.py`: every hashing constant and mixing function, once (numpy and numba share them);
- `shingles.py`: word and character n-gram shingle hashes, consistent sampling;
- `minhash.py`: batched MinHash, bit-identical to datasketch's ``affine32`` scheme;
- `sets.py`: `ShingleSets` (flat sorted sets) with the exact Jaccard and containment, and the
  batched shingle-and-sign pass;
- `lsh.py`: MinHash LSH candidates: the pairs of small band buckets (datasketch's `MinHashLSH`,
  or numpy banding) and the large buckets whole, never as all their pairs;
- `overlap.py`: containment candidates from an inverted index;
- `lsh_table.py`: datasketch's (bands, rows) choices, precomputed;
- `arrays.py`: flat-array helpers (sorted distinct values, concatenated ranges).
"""
