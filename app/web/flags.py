"""Flags on a class's essays: too short or empty, probably off-topic, failed to mark, and near-duplicate pairs.

Near-duplicates: every essay in the class becomes a TF-IDF vector of its words and two-word phrases (sublinear
term frequency, inverse document frequency over this class), and each pair with cosine similarity of at least
DUPLICATE_THRESHOLD is flagged. Two-word phrases make copied wording count far more than a shared topic: on
the 14 sample essays (different answers to one question) the highest similarity between two different essays
is 0.30, a copy with one word in ten changed scores 0.88, and an essay whose first half is copied 0.54.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .assignments import Row

DUPLICATE_THRESHOLD = 0.5
LABELS = {
    "too_short": "Too short",
    "off_topic": "Off-topic?",
    "duplicate": "Near-duplicate",
    "failed": "Not marked",
}


@dataclass(frozen=True)
class Pair:
    a: int  # member ids, a < b
    b: int
    similarity: float


@dataclass(frozen=True)
class Flag:
    kind: str  # too_short, off_topic, duplicate, failed
    message: str
    other: int | None = None  # the other member of a duplicate pair

    @property
    def label(self) -> str:
        return LABELS[self.kind]


def near_duplicates(texts: dict[int, str], threshold: float = DUPLICATE_THRESHOLD) -> list[Pair]:
    """Pairs of essays (by key) whose TF-IDF cosine similarity is at least `threshold`, most similar first."""
    keys = [k for k, t in texts.items() if t and t.strip()]
    if len(keys) < 2:
        return []
    from sklearn.feature_extraction.text import (
        TfidfVectorizer,  # late import: only the class pages need it
    )
    from sklearn.metrics.pairwise import cosine_similarity

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
    try:
        matrix = vectorizer.fit_transform([texts[k] for k in keys])
    except ValueError:  # no words at all (only punctuation or numbers)
        return []
    sims = cosine_similarity(matrix)
    pairs = []
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if sims[i, j] >= threshold:
                a, b = sorted((keys[i], keys[j]))
                pairs.append(Pair(a, b, round(float(sims[i, j]), 3)))
    return sorted(pairs, key=lambda p: -p.similarity)


def class_flags(rows: list[Row]) -> tuple[dict[int, list[Flag]], list[Pair]]:
    """Flags per member id for the latest essays, and the near-duplicate pairs."""
    flags: dict[int, list[Flag]] = {r.member.id: [] for r in rows}
    names = {r.member.id: r.member.name for r in rows}
    texts: dict[int, str] = {}
    for r in rows:
        a = r.attempt
        if a is None:
            continue
        if a.status == "failed":
            flags[r.member.id].append(Flag("failed", "Marking failed: re-mark it from the student's page."))
        texts[r.member.id] = a.text
        result = a.result or {}
        for f in result.get("flags", []):
            if f.get("id") in ("too_short", "off_topic"):
                flags[r.member.id].append(Flag(f["id"], f.get("message", "")))
    pairs = near_duplicates(texts)
    for p in pairs:
        pct = round(p.similarity * 100)
        flags[p.a].append(Flag("duplicate", f"{pct}% similar to {names[p.b]}'s essay", p.b))
        flags[p.b].append(Flag("duplicate", f"{pct}% similar to {names[p.a]}'s essay", p.a))
    return flags, pairs
