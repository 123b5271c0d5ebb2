"""The essay as HTML with detected concepts and misconceptions marked in the student's own words.

Built server-side from the result's evidence offsets. Every piece of essay text goes through
markupsafe.escape, so HTML in an essay is shown as text. Overlapping spans are handled by cutting the
essay at every span boundary: each piece knows all the spans covering it, so no tag ever crosses another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from markupsafe import Markup, escape

PALETTE = 8  # concept colours c0..c7 in app.css; numbers, not colour alone, tell concepts apart
_BREAK = re.compile(r"[ \t]*\n\s*")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # "concept" or "misconception"
    number: int  # concept number in the checklist (1-based); misconceptions count separately
    label: str
    matched: str
    state: str  # "explained", "named" or "mis"
    note: str  # why the concept matters / the correction

    @property
    def css(self) -> str:
        return "hl-mis" if self.kind == "misconception" else f"hl-c{(self.number - 1) % PALETTE}"

    @property
    def tag(self) -> str:
        return f"!{self.number}" if self.kind == "misconception" else str(self.number)


def spans_from_result(result: dict[str, Any], text: str) -> list[Span]:
    """Concept and misconception evidence as spans, dropping any whose offsets do not fit the text."""
    spans: list[Span] = []
    for n, concept in enumerate(result["concepts"], start=1):
        state = "explained" if concept["developed"] else "named"
        for ev in concept["evidence"]:
            spans.append(Span(ev["start"], ev["end"], "concept", n, concept["label"], ev["text"], state, concept["why"]))
    for n, mis in enumerate(result["misconceptions"], start=1):
        for ev in mis["evidence"]:
            spans.append(Span(ev["start"], ev["end"], "misconception", n, mis["label"], ev["text"], "mis", mis["message"]))
    unique = {(s.start, s.end, s.kind, s.number): s for s in spans if 0 <= s.start < s.end <= len(text)}
    return list(unique.values())


def _primary(active: list[Span]) -> Span:
    # A factual slip outranks a concept; among equals the innermost (shortest) span shows its colour.
    return min(active, key=lambda s: (s.kind != "misconception", s.end - s.start, s.number))


STATES = {
    "explained": ("✓ Explained, not just named.", "Why it matters:"),
    "named": ("◐ Named: explain it or link it to your argument.", "Why it matters:"),
    "mis": ("✗ This looks like a factual slip.", "Correction:"),
}


def _tip(active: list[Span], tip_id: str) -> Markup:
    items = []
    for s in sorted(active, key=lambda s: (s.kind != "misconception", s.number)):
        head = "Check this fact" if s.kind == "misconception" else f"Concept {s.number}"
        state, lead = STATES[s.state]
        note = Markup(" {} {}").format(lead, s.note) if s.note else ""  # no note: the teacher hid the hints
        items.append(
            Markup(
                '<span class="tip-item"><strong>{}: {}</strong><span class="tip-match">Matched “{}”</span>'
                '<span class="tip-state {}">{}</span>{}</span>'
            ).format(head, s.label, s.matched, s.state, state, note)
        )
    return Markup('<span class="tip" role="tooltip" id="{}">{}</span>').format(tip_id, Markup("").join(items))


def highlight_essay(text: str, spans: list[Span]) -> Markup:
    """Paragraphs of the essay with <mark>s; each mark is focusable and describes the concepts it shows."""
    cuts = {0, len(text)}
    for s in spans:
        cuts.update((s.start, s.end))
    breaks = [(m.start(), m.end()) for m in _BREAK.finditer(text)]
    for a, b in breaks:
        cuts.update((a, b))
    break_starts = {a: b for a, b in breaks}
    starts: dict[int, list[Span]] = {}
    ends: dict[int, list[Span]] = {}
    for s in spans:
        starts.setdefault(s.start, []).append(s)
        ends.setdefault(s.end, []).append(s)
    active: list[Span] = []  # swept along the cuts, so long essays stay linear in the number of spans
    order = sorted(cuts)
    out: list[Markup | str] = [Markup("<p>")]
    piece = 0
    for a, b in pairwise(order):
        if a in ends:
            active = [s for s in active if s.end > a]
        active.extend(starts.get(a, ()))
        if a in break_starts and break_starts[a] == b:
            out.append(Markup("</p>\n<p>"))
            continue
        chunk = escape(text[a:b])
        if active:
            piece += 1
            p = _primary(active)
            kinds = " hl-multi" if len(active) > 1 else ""
            tip_id = f"tip-{piece}"
            out.append(
                Markup('<mark class="hl {}{}" tabindex="0" aria-describedby="{}">{}{}</mark>').format(
                    p.css, kinds, tip_id, chunk, _tip(active, tip_id)
                )
            )
        else:
            out.append(chunk)
        for s in sorted(ends.get(b, []), key=lambda s: (s.kind != "misconception", s.number)):
            out.append(Markup('<span class="tag tag-{}" aria-hidden="true">{}</span>').format(s.css, s.tag))
    out.append(Markup("</p>"))
    html = Markup("").join(out)
    return Markup(str(html).replace("<p></p>", ""))
