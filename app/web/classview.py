"""The class view: students x concepts (developed / found / missing), the concepts most often missed, the marks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..report import concept_status
from .assignments import Row


@dataclass(frozen=True)
class Concept:
    id: str
    label: str
    number: int


@dataclass
class ConceptTotals:
    concept: Concept
    developed: int = 0
    found: int = 0  # found but not developed
    missing: int = 0

    @property
    def essays(self) -> int:
        return self.developed + self.found + self.missing

    def share(self, what: str) -> float:
        return getattr(self, what) / self.essays if self.essays else 0.0


@dataclass
class Heatmap:
    concepts: list[Concept]
    rows: list[tuple[Row, list[tuple[Concept, str]]]]  # each marked essay: (concept, "developed" | "found" | "missing" | "")
    totals: list[ConceptTotals] = field(default_factory=list)

    @property
    def most_missed(self) -> list[ConceptTotals]:
        return sorted((t for t in self.totals if t.missing), key=lambda t: (-t.missing, t.concept.number))


def concepts_of(result_or_rubric: Any) -> list[Concept]:
    """The concepts, numbered in rubric order, from a Rubric."""
    return [Concept(c.id, c.label, n) for n, c in enumerate(result_or_rubric.concepts, start=1)]


def heatmap(rows: list[Row], concepts: list[Concept], sort: str = "name") -> Heatmap:
    """Cells for every marked essay; concepts a result does not have (another rubric version) are blank."""
    totals = {c.id: ConceptTotals(c) for c in concepts}
    cells: list[tuple[Row, list[tuple[Concept, str]]]] = []
    for r in rows:
        if r.attempt is None or not r.attempt.marked or not r.attempt.result:
            continue
        states = {c["id"]: concept_status(c) for c in r.attempt.result["concepts"]}
        line = [(c, states.get(c.id, "")) for c in concepts]
        for c, state in line:
            if state:
                setattr(totals[c.id], state, getattr(totals[c.id], state) + 1)
        cells.append((r, line))
    if sort == "mark":
        cells.sort(key=lambda item: (-(item[0].final_mark or 0), item[0].member.name.lower()))
    elif sort == "coverage":
        cells.sort(key=lambda item: (-(item[0].attempt.coverage or 0), item[0].member.name.lower()))  # type: ignore[union-attr]
    return Heatmap(concepts, cells, list(totals.values()))


# -- the results table ----------------------------------------------------------------------
SORTS = ("name", "mark", "level", "coverage", "misconceptions", "flags", "status")


@dataclass
class ClassResults:
    rows: list[Row]
    flags: dict[int, list[Any]]
    pairs: list[Any]

    def sorted(self, key: str, descending: bool) -> list[Row]:
        """Rows by a column; students with no mark (or no essay) always last, then by name."""
        def value(r: Row) -> Any:
            a = r.attempt
            if key == "mark":
                return r.final_mark
            if key == "level":
                return a.level if a is not None and a.marked else None
            if key == "coverage":
                return a.coverage if a is not None and a.marked else None
            if key == "misconceptions":
                return len((a.result or {}).get("misconceptions", [])) if a is not None and a.marked else None
            if key == "flags":
                return len(self.flags.get(r.member.id, []))
            if key == "status":
                return a.status if a is not None else "none"
            return r.member.name.lower()

        present = [r for r in self.rows if value(r) is not None]
        absent = [r for r in self.rows if value(r) is None]
        present.sort(key=lambda r: r.member.name.lower())
        present.sort(key=value, reverse=descending)
        return present + absent


def class_results(rows: list[Row]) -> ClassResults:
    from .flags import class_flags

    flags, pairs = class_flags(rows)
    return ClassResults(rows, flags, pairs)
