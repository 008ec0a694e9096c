"""The accuracy sweep's miss analysis of one run of a config: which drop-labelled segments it
kept and why, which keep-labelled segments it removed, which labelled document pairs it missed
or added, and how likely segment LSH proposes a pair. Every similarity is the library's own:
match keys (`text.normalize.key_and_words`), exact shingle sets (`sketch.sets`), article match
texts and document sets (`corpus.keys`) and the document match rule (`match.documents`)."""

from __future__ import annotations

import difflib
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

import dedupe
from dedupe.corpus.keys import article_match_texts, document_shingle_sets
from dedupe.evaluation.labels import Labels
from dedupe.io.readers import read_inputs
from dedupe.match.documents import MIN_CONTAINMENT_RATIO, doc_matches
from dedupe.model import Document
from dedupe.sketch.lsh import LSH_MARGIN, MIN_LSH_THRESHOLD, lsh_params
from dedupe.sketch.sets import word_shingle_sets
from dedupe.text.normalize import key_and_words
from sweep_grid import COMBINED, DEVSET, NOISE3, fmt_params, slug

CREDIT = re.compile(r"(photo|picture|getty|reuters|\bap\b|aap|afp|pa\b|epa|images?|credit|"
                    r"published|file)", re.I)
PASSES = "passes a threshold, never proposed as a candidate"
SHORT = f"contained, but shorter than {MIN_CONTAINMENT_RATIO:g} x the other"
BELOW = "below both thresholds"


def analyse(name: str, dirs: dict[str, Path], labels: dict[str, Labels], out: Path) -> dict[str, Any]:
    """The analysis of the `combined` config `name` (its runs on both devsets), or {} when
    those outputs are not under OUT/runs."""
    params = COMBINED[name]
    config = dedupe.Config(**params)
    seg_dir, doc_dir = out / "runs" / slug(DEVSET, params), out / "runs" / slug(NOISE3, params)
    if not (seg_dir / "segments.parquet").is_file() or not (doc_dir / "documents.parquet").is_file():
        print(f"analysis: outputs of '{name}' not found under {out / 'runs'}; run the "
              "'combined' group first")
        return {}
    return {
        "params": params,
        "segments_devset": analyse_segments(seg_dir, labels[DEVSET], config),
        "documents_noise3": analyse_documents(doc_dir, labels[NOISE3], dirs[NOISE3] / "articles", config),
        "documents_devset": analyse_documents(seg_dir, labels[DEVSET], dirs[DEVSET] / "articles", config),
        "segment_lsh": lsh_recall(config),
    }


# ----------------------------------------------------------------------------------------------
# Segments
# ----------------------------------------------------------------------------------------------
def word_jaccard(a: list[str], b: list[str], n: int, config: dedupe.Config) -> float:
    """Exact Jaccard of the word n-gram shingle sets of two word lists, as segments are verified
    (a text shorter than n words is one shingle)."""
    sets, _ = word_shingle_sets([" ".join(a), " ".join(b)], n, config.num_perm, config.seed, signatures=False)
    return round(float(sets.jaccard([0], [1])[0]), 3)


def _diff_shape(a: list[str], b: list[str]) -> tuple[str, list[str]]:
    """How word list b differs from a: ('affix'|'inside'|'mixed'|'same', changed words)."""
    ops = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
           if op[0] != "equal"]
    if not ops:
        return "same", []
    changed = [w for op in ops for w in a[op[1]:op[2]] + b[op[3]:op[4]]]
    at_ends = all((i1 == 0 and j1 == 0) or (i2 == len(a) and j2 == len(b))
                  for _, i1, i2, j1, j2 in ops)
    if at_ends:
        return "affix", changed
    return ("inside" if len(ops) == 1 else "mixed"), changed


def _read_output(out_dir: Path) -> tuple[dict, dict]:
    """(document cluster by source, segment row by (source, start)) of a run's output."""
    import pyarrow.parquet as pq
    docs = pq.read_table(out_dir / "documents.parquet",
                         columns=["doc_id", "source", "doc_cluster_id"]).to_pylist()
    source_of = {d["doc_id"]: d["source"] for d in docs}
    doc_cluster = {d["source"]: d["doc_cluster_id"] or d["source"] for d in docs}
    seg = {}
    for r in pq.read_table(out_dir / "segments.parquet",
                           columns=["doc_id", "start", "text", "cluster_id", "role", "kept",
                                    "kept_doc_id", "similarity"]).to_pylist():
        seg[(source_of[r["doc_id"]], r["start"])] = r
    return doc_cluster, seg


def analyse_segments(out_dir: Path, labels: Labels, config: dedupe.Config) -> dict[str, Any]:
    """Categorise drop-labelled segments the run kept, and keep-labelled segments it removed."""
    doc_cluster, pred = _read_output(out_dir)
    seg_labels = labels.segments
    by_group: dict[str, list] = defaultdict(list)
    for l in seg_labels:
        if l.group:
            by_group[l.group].append(l)
    keyed = {l.key: key_and_words(pred[l.key]["text"]) for l in seg_labels}
    min_docs = config.boilerplate_min_docs

    def key(l) -> str:
        return keyed[l.key][0]

    missed = [l for l in seg_labels if l.expected == "drop" and pred[l.key]["kept"] is True]
    cats: dict[str, list[dict]] = defaultdict(list)
    for l in missed:
        p, ws = pred[l.key], keyed[l.key][1]
        item = {"source": l.source, "start": l.start, "group": l.group, "text": p["text"],
                "words": len(ws), "role": p["role"], "cluster_id": p["cluster_id"]}
        if l.kind == "repeat":
            members = sorted(by_group[l.group], key=lambda m: (m.source != l.source, m.start))
            first = next((m for m in members if m.source == l.source and m.expected == "keep"), None)
            if first is None:
                cats["repeat: no kept copy in the article"].append(item)
                continue
            fw = keyed[first.key][1]
            item["kept_copy"] = pred[first.key]["text"]
            item["kept_words"] = len(fw)
            item["jaccard_by_n"] = {n: word_jaccard(fw, ws, n, config) for n in (1, 2, 3, 4, 5)}
            shape, changed = _diff_shape(fw, ws)
            item["changed_words"] = changed
            short, long_ = sorted((fw, ws), key=len)
            item["jaccard_at_config"] = word_jaccard(fw, ws, config.shingle_size, config)
            if item["jaccard_at_config"] >= config.segment_threshold:
                cat = ("repeat: LSH band miss (exact Jaccard passes segment_threshold, "
                       "no band agreed)")
            elif "".join(fw) == "".join(ws):
                cat = "repeat: tokenisation variant (U.S. / US.)"
            elif shape == "affix" and " ".join(short) in " ".join(long_) and \
                    len(long_) - len(short) >= max(5, len(short) // 2):
                cat = "repeat: doubled or merged paragraph (one copy holds the other + much more)"
            elif shape == "affix":
                cat = ("repeat: credit/prefix added to a short caption" if CREDIT.search(
                    " ".join(changed)) or len(changed) <= 4 else "repeat: text added at one end")
            elif shape == "inside" and len(changed) <= 3:
                cat = "repeat: one word inserted/changed inside"
            else:
                cat = "repeat: several edits"
            cats[cat].append(item)
            continue
        # boilerplate (and any other drop kind)
        group = by_group.get(l.group or "", [])
        same_key = [m for m in group if key(m) == key(l)]
        unrelated_same = {doc_cluster[m.source] for m in same_key}
        unrelated_group = {doc_cluster[m.source] for m in group}
        item.update(label_group_size=len(group), label_group_docs=len({m.source for m in group}),
                    unrelated_docs_same_text=len(unrelated_same),
                    unrelated_docs_label_group=len(unrelated_group),
                    docs_same_text=len({m.source for m in same_key}))
        if l.kind != "boilerplate":
            cat = f"{l.kind}: other"
        elif len(group) <= 1 or len({m.source for m in group}) == 1:
            cat = "boilerplate: lone furniture line (no copy in another article)"
        elif len(unrelated_same) >= min_docs:
            cat = "boilerplate: frequent but not removed (check)"
        elif item["docs_same_text"] >= min_docs:
            cat = ("boilerplate: in >= min_docs articles, but those are near-duplicate articles "
                   "that count once")
        elif len(unrelated_group) >= min_docs:
            commonest = Counter(key(m) for m in group).most_common(1)[0][0]
            ref = next(keyed[m.key][1] for m in group if key(m) == commonest)
            item["commonest_variant"] = commonest
            item["jaccard_to_commonest_by_n"] = {n: word_jaccard(ref, ws, n, config) for n in (1, 2, 3, 4, 5)}
            item["changed_words"] = _diff_shape(ref, ws)[1]
            cat = ("boilerplate: variant of a frequent string (site/year/word changed), "
                   "its exact copies in < min_docs articles")
        else:
            cat = f"boilerplate: rare, label group in < {min_docs} unrelated articles"
        cats[cat].append(item)

    lost = [{"source": l.source, "start": l.start, "text": pred[l.key]["text"], "role": pred[l.key]["role"],
             "label_kind": l.kind, "label_group": l.group}
            for l in seg_labels if l.expected == "keep" and pred[l.key]["kept"] is False]

    # Segment pairs the run missed, by label kind.
    true_pairs: Counter = Counter()
    missed_pairs: Counter = Counter()
    for members in by_group.values():
        kind = members[0].kind
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                true_pairs[kind] += 1
                ca, cb = pred[a.key]["cluster_id"], pred[b.key]["cluster_id"]
                if ca is None or ca != cb:
                    missed_pairs[kind] += 1
    return {
        "missed_drops": len(missed),
        "categories": {c: {"count": len(v), "items": v}
                       for c, v in sorted(cats.items(), key=lambda kv: -len(kv[1]))},
        "lost": lost,
        "pair_misses_by_kind": {k: {"true_pairs": true_pairs[k], "missed": missed_pairs[k]}
                                for k in true_pairs},
    }


def lsh_recall(config: dedupe.Config) -> dict[str, Any]:
    """Bands/rows dedupe uses for segments at `segment_threshold` (datasketch's choice for
    `threshold - LSH_MARGIN`) and the chance that a pair of exact Jaccard J becomes a
    candidate, 1 - (1 - J^r)^b."""
    threshold = config.segment_threshold
    b, r = lsh_params(max(MIN_LSH_THRESHOLD, threshold - LSH_MARGIN), config.num_perm)
    return {"b": b, "r": r, "p_candidate": {
        f"{j:.2f}": round(1 - (1 - j ** r) ** b, 4)
        for j in sorted({threshold, threshold + 0.05, threshold + 0.1, 0.9})}}


# ----------------------------------------------------------------------------------------------
# Documents
# ----------------------------------------------------------------------------------------------
def analyse_documents(out_dir: Path, labels: Labels, articles: Path, config: dedupe.Config) -> dict[str, Any]:
    """Missed and false document pairs, measured as the run measures them: the exact (sampled)
    document shingle sets of the articles' match texts, and the document match rule.

    A missed pair that the rule accepts was never proposed as a candidate (the run verifies
    every candidate exactly); one it rejects is beyond the configured similarity."""
    import pyarrow.parquet as pq
    pred = {d["source"]: d["doc_cluster_id"] for d in
            pq.read_table(out_dir / "documents.parquet", columns=["source", "doc_cluster_id"]).to_pylist()}
    true = {d.source: d.group for d in labels.documents}
    tp = _pairs({s: g for s, g in true.items() if s in pred})
    pp = _pairs({s: pred[s] for s in true if s in pred})
    missed_pairs, false_pairs = sorted(tp - pp), sorted(pp - tp)
    measured = _measure(missed_pairs + false_pairs, articles, config)

    def strongest_first(d: dict[str, Any]) -> float:
        return -max(d["jaccard"], d["containment"])

    missed = sorted(measured[:len(missed_pairs)], key=strongest_first)
    false = sorted(measured[len(missed_pairs):], key=strongest_first)
    # A missed pair may still be in one predicted cluster through others; list whole documents
    # that ended up alone although they have a labelled group.
    isolated = sorted(s for s in true if true[s] is not None and pred.get(s) is None)
    return {"true_pairs": len(tp), "predicted_pairs": len(pp),
            "missed_by_verdict": dict(Counter(p["verdict"] for p in missed)),
            "missed_pairs": missed, "false_pairs": false,
            "labelled_duplicates_left_alone": isolated}


def _pairs(groups: dict[str, str | None]) -> set[tuple[str, str]]:
    """Every pair (a < b) of sources in the same group."""
    members = defaultdict(list)
    for s, grp in groups.items():
        if grp is not None:
            members[grp].append(s)
    return {(a, b) for ms in members.values() for i, a in enumerate(sorted(ms)) for b in sorted(ms)[i + 1:]}


def _measure(pairs: list[tuple[str, str]], articles: Path, config: dedupe.Config) -> list[dict[str, Any]]:
    """Jaccard, containment (of the smaller set in the larger), set sizes and the library's
    verdict for each pair of article sources."""
    if not pairs:
        return []
    sources = sorted({s for pair in pairs for s in pair})
    texts = {d.source: d.text for d in read_inputs(articles, config) if isinstance(d, Document)}
    sets, _ = document_shingle_sets(article_match_texts([texts[s] for s in sources], config.segmentation),
                                    config, signatures=False)
    index = {s: i for i, s in enumerate(sources)}
    ab = np.array([(index[a], index[b]) for a, b in pairs], dtype=np.int64)
    sizes = sets.sizes()[ab]
    small = np.where(sizes[:, 0] <= sizes[:, 1], ab[:, 0], ab[:, 1])
    large = np.where(sizes[:, 0] <= sizes[:, 1], ab[:, 1], ab[:, 0])
    jaccard, containment = sets.jaccard(ab[:, 0], ab[:, 1]), sets.containment(small, large)
    passes = doc_matches(sets, ab, config)
    return [{"a": a, "b": b, "jaccard": round(float(j), 3), "containment": round(float(c), 3),
             "verdict": PASSES if ok else SHORT if c >= config.doc_containment_threshold else BELOW,
             "grams": [int(n) for n in size]}
            for (a, b), j, c, ok, size in zip(pairs, jaccard, containment, passes, sizes)]


# ----------------------------------------------------------------------------------------------
def print_analysis(analysis: dict[str, Any], examples: int = 5) -> None:
    for name, a in analysis.items():
        seg = a["segments_devset"]
        print(f"\n=== misses of '{name}' ({fmt_params(a['params'])}) ===")
        print(f"devset: {seg['missed_drops']} drop-labelled segments kept")
        for cat, c in seg["categories"].items():
            print(f"  {c['count']:>4}  {cat}")
            for it in c["items"][:examples]:
                extra = ""
                if "kept_copy" in it:
                    extra = f"  <- kept {it['kept_copy'][:60]!r}  J(n=1..5) {list(it['jaccard_by_n'].values())}"
                elif "commonest_variant" in it:
                    extra = (f"  vs {it['commonest_variant'][:50]!r} "
                             f"J(n=1..5) {list(it['jaccard_to_commonest_by_n'].values())}")
                elif "unrelated_docs_label_group" in it:
                    extra = (f"  [label group: {it['label_group_size']} copies, "
                             f"{it['unrelated_docs_label_group']} unrelated docs]")
                print(f"          {it['source']}:{it['start']} ({it['words']} w) "
                      f"{it['text'][:60]!r}{extra}")
        by_role = Counter(it["role"] for it in seg["lost"])
        print(f"content loss: {len(seg['lost'])} keep-labelled segments removed "
              f"({', '.join(f'{n} as {r}' for r, n in by_role.items())})")
        for it in seg["lost"][:3 * examples]:
            print(f"          {it['source']}:{it['start']} role={it['role']} "
                  f"label={it['label_kind']} {it['text'][:70]!r}")
        print("segment pairs missed by label kind: " + ", ".join(
            f"{k or 'null'} {v['missed']}/{v['true_pairs']}" for k, v in seg["pair_misses_by_kind"].items()))
        for key in ("documents_noise3", "documents_devset"):
            d = a[key]
            print(f"{key}: {len(d['missed_pairs'])}/{d['true_pairs']} true pairs missed "
                  f"({'; '.join(f'{v} {k}' for k, v in d['missed_by_verdict'].items())}), "
                  f"{len(d['false_pairs'])}/{d['predicted_pairs']} predicted pairs false, "
                  f"{len(d['labelled_duplicates_left_alone'])} labelled duplicates left alone")
            for kind in ("missed_pairs", "false_pairs"):
                for p in d[kind][:examples]:
                    print(f"   {kind[:6]} J {p['jaccard']:.3f} C {p['containment']:.3f} "
                          f"grams {p['grams'][0]}/{p['grams'][1]}  {p['a']} ~ {p['b']}")
        lsh = a["segment_lsh"]
        print(f"segment LSH: b={lsh['b']} r={lsh['r']}, P(candidate | J): " + ", ".join(
            f"{j}: {p:.3f}" for j, p in lsh["p_candidate"].items()))
