"""A class of 30 essays for batch-marking tests, the end-to-end test and bench/batch.py (no app imports).

27 essays are drawn sentence by sentence from the sample essays of one level band each (seeded, so the set is
the same every run and no two share much wording), plus three that a teacher should see flagged: a near-copy of
another student's essay, one far too short, and one off the question.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "app" / "samples" / "stalinist-centralisation"
FIRST = ["Amira", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hassan", "Isla", "Jack", "Kai", "Lena", "Maya", "Noah", "Olivia",
         "Priya", "Quinn", "Rosa", "Sam", "Tom", "Uma", "Victor", "Wren", "Xavier", "Yusuf", "Zara", "Alfie", "Bea", "Cal", "Dina"]
LAST = ["Khan", "Osei", "Martin", "Patel", "Jones", "Murphy", "Li", "Ali", "Brown", "Wilson", "Nowak", "Fischer", "Singh", "Evans", "Smith",
        "Kaur", "Adams", "Garcia", "Taylor", "Hughes", "Begum", "Costa", "Davies", "Lopez", "Ahmed", "Price", "Reid", "Moore", "Hall", "Young"]
COPIER, COPIED = 28, 6  # Cal Moore hands in a lightly edited copy of Grace Li's essay
SHORT = "Stalin had all the power because he was General Secretary."


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def _bands() -> dict[str, list[list[str]]]:
    bands: dict[str, list[list[str]]] = {}
    for p in sorted(SAMPLES.glob("l[2-5]-*.txt")):
        bands.setdefault(p.name[:2], []).append(_sentences(p.read_text(encoding="utf-8")))
    return bands


def _edit(text: str, rng: random.Random) -> str:
    """A copy with one word in ten dropped or changed, as a copier covering their tracks might."""
    words = text.split(" ")
    out = []
    for w in words:
        r = rng.random()
        if r < 0.05:
            continue
        out.append(w.lower() if r < 0.1 else w)
    return " ".join(out)


def class_essays(n: int = 30, seed: int = 1) -> list[tuple[str, str]]:
    """(student name, essay text) for n students."""
    rng = random.Random(seed)
    bands = _bands()
    keys = sorted(bands)
    out: list[tuple[str, str]] = []
    for i in range(n):
        group = bands[keys[i % len(keys)]]
        picked = []
        for si, sents in enumerate(group):
            k = max(2, len(sents) // 5)
            picked += [(idx, si, sents[idx]) for idx in sorted(rng.sample(range(len(sents)), min(k, len(sents))))]
        picked.sort(key=lambda x: (x[0], x[1]))
        body = [s for *_, s in picked]
        text = "\n\n".join(" ".join(body[j:j + 4]) for j in range(0, len(body), 4))
        out.append((f"{FIRST[i % 30]} {LAST[i % 30]}", text))
    if n > COPIER:
        out[COPIER] = (out[COPIER][0], _edit(out[COPIED][1], rng))
    if n > 29:
        out[29] = (out[29][0], SHORT)
        out[27] = (out[27][0], (SAMPLES / "l1-off-topic-first-world-war.txt").read_text(encoding="utf-8"))
    return out


def class_zip(essays: list[tuple[str, str]] | None = None) -> bytes:
    """The class as a teacher would zip it: one .txt per student, named after them, in a folder."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in essays or class_essays():
            z.writestr(f"10B essays/{name}.txt", text)
    return buf.getvalue()
