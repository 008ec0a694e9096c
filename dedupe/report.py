"""The run report: what was read, skipped, clustered and removed (JSON and Markdown)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

from .model import ROLES, Corpus, Decisions, Level, Skip

TOP_CLUSTERS = 10


@dataclass
class Report:
    documents: int = 0
    skipped: list[dict] = field(default_factory=list)
    segments: int = 0
    segments_removed: int = 0
    chars: int = 0
    chars_removed: int = 0
    documents_dropped: int = 0
    clusters_by_kind: dict[str, int] = field(default_factory=dict)
    removed_by_role: dict[str, int] = field(default_factory=dict)
    top_clusters: list[dict] = field(default_factory=list)

    @classmethod
    def build(cls, corpus: Corpus, dec: Decisions, skips: list[Skip], cluster_texts: list[str]) -> "Report":
        """The report of a run; `cluster_texts` are aligned with `dec.clusters`."""
        removed = ~dec.kept
        kinds = Counter(c.kind.value for c in dec.clusters)
        roles = Counter(ROLES[r].value for r in dec.role[removed].tolist())
        top = sorted((i for i, c in enumerate(dec.clusters) if c.level is Level.SEGMENT),
                     key=lambda i: (-dec.clusters[i].size, dec.clusters[i].cluster_id))[:TOP_CLUSTERS]
        return cls(
            documents=corpus.n_docs,
            skipped=[{"source": s.source, "reason": s.reason} for s in skips],
            segments=corpus.n_occurrences,
            segments_removed=int(removed.sum()),
            chars=int(corpus.occ_len.sum()),
            chars_removed=int(corpus.occ_len[removed].sum()),
            documents_dropped=int((~dec.doc_kept).sum()),
            clusters_by_kind=dict(sorted(kinds.items())),
            removed_by_role=dict(sorted(roles.items())),
            top_clusters=[{"cluster_id": c.cluster_id, "kind": c.kind.value, "size": c.size,
                           "n_docs": c.n_docs, "text": _clip(cluster_texts[i])}
                          for i, c in ((i, dec.clusters[i]) for i in top)],
        )

    def summary(self) -> str:
        """One line for logs."""
        return (f"{self.documents} documents, {len(self.skipped)} skipped, {self.segments} segments, "
                f"{self.segments_removed} removed ({self.chars_removed} of {self.chars} characters), "
                f"clusters {self.clusters_by_kind}")

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"

    def to_markdown(self) -> str:
        lines = [
            "# Deduplication report",
            "",
            "| measure | value |",
            "|---|---:|",
            f"| documents read | {self.documents} |",
            f"| inputs skipped | {len(self.skipped)} |",
            f"| segments | {self.segments} |",
            f"| segments removed | {self.segments_removed} |",
            f"| characters removed | {self.chars_removed} of {self.chars} |",
            f"| near-duplicate documents marked | {self.documents_dropped} |",
        ]
        lines += [f"| clusters: {k} | {v} |" for k, v in self.clusters_by_kind.items()]
        lines += [f"| removed as {k} | {v} |" for k, v in self.removed_by_role.items()]
        if self.top_clusters:
            lines += ["", "## Largest segment clusters", "", "| cluster | kind | size | docs | text |",
                      "|---|---|---:|---:|---|"]
            lines += [f"| {c['cluster_id']} | {c['kind']} | {c['size']} | {c['n_docs']} | "
                      f"{_cell(c['text'])} |" for c in self.top_clusters]
        if self.skipped:
            lines += ["", "## Skipped inputs", "", "| source | reason |", "|---|---|"]
            lines += [f"| {_cell(s['source'])} | {_cell(s['reason'])} |" for s in self.skipped]
        return "\n".join(lines) + "\n"


def _clip(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
