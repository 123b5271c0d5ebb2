"""The marking service: one entry point, text + rubric -> result in the JSON contract, used by CLI, API and pages."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Protocol

from spacy.language import Language

from . import __version__
from .detect import CompiledRubric, compile_rubric, detect
from .essay import MAX_CHARS, MAX_WORDS, EmptyEssay, EssayError, EssayTooLong, check_text  # noqa: F401  (re-exported)
from .feedback import build_feedback, concept_message
from .nlp import get_nlp
from .rubric import Rubric
from .score import score


@dataclass
class Marker:
    """A pipeline plus the rubrics compiled for it, so matchers are built once per rubric content.

    Compiled rubrics are kept in a small LRU cache keyed by content, so a long-running server that
    reloads rubrics neither recompiles them per request nor grows without bound.
    """

    nlp: Language
    max_rubrics: int = 32
    _compiled: OrderedDict[str, CompiledRubric] = field(default_factory=OrderedDict)

    def compiled(self, rubric: Rubric) -> CompiledRubric:
        key = rubric.digest
        entry = self._compiled.get(key)
        if entry is None:
            entry = self._compiled[key] = compile_rubric(self.nlp, rubric)
            while len(self._compiled) > self.max_rubrics:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(key)
        return entry


_default: Marker | None = None


def default_marker() -> Marker:
    global _default
    if _default is None:
        _default = Marker(get_nlp())
    return _default


class Calibration(Protocol):
    """A teacher's calibrated model (app.calibrate_store.CalibrationModel): the rules' result in, a mark out."""

    def calibrated_mark(self, result: Mapping[str, Any], text: str, rubric: Rubric) -> int: ...


def mark_text(
    text: str, rubric: Rubric, *, source: str = "-", marker: Marker | None = None, calibration: Calibration | None = None
) -> dict[str, Any]:
    """Mark one essay against a rubric and return the result object (see README: result format).

    With a `calibration` (a model the teacher adopted), `mark` is the calibrated mark; `rubric_mark`
    always keeps the rules' mark and `mark_source` says which one `mark` is.
    """
    check_text(text)
    marker = marker or default_marker()
    compiled = marker.compiled(rubric)
    doc = marker.nlp(text)
    det = detect(doc, compiled, text)
    sc = score(rubric, det)
    fb = build_feedback(compiled, det, sc)
    concepts = {c.id: c for c in rubric.concepts}
    mis = {m.id: m for m in rubric.misconceptions}
    result = {
        "source": source,
        "rubric": {"id": rubric.id, "version": rubric.version, "title": rubric.title},
        "question": rubric.questions[0],
        "word_count": det.word_count,
        "concepts": [
            {
                "id": m.id,
                "label": concepts[m.id].label,
                "found": m.found,
                "developed": m.developed,
                "precise": m.precise,
                "weight": concepts[m.id].weight,
                "why": concepts[m.id].why,
                "message": concept_message(concepts[m.id], m.found, m.developed),
                "evidence": m.evidence,
            }
            for m in det.concepts
        ],
        "misconceptions": [
            {"id": mid, "label": mis[mid].label, "message": mis[mid].correction, "evidence": ev}
            for mid, ev in det.misconceptions.items()
        ],
        "skills": [
            {
                "id": s.id,
                "label": compiled.skill_labels[s.id],
                "found": s.found,
                "count": s.count,
                "message": compiled.skill_feedback[s.id]["found" if s.found else "missing"],
                "evidence": s.evidence,
            }
            for s in det.skills
        ],
        "coverage": round(sc.coverage, 3),
        "development": round(sc.development, 3),
        "skills_score": round(sc.skills, 3),
        "key_elements": sc.elements,
        "mark": sc.mark,
        "min_mark": sc.min_mark,
        "max_mark": sc.max_mark,
        "rubric_mark": sc.mark,
        "calibrated_mark": None,
        "mark_source": "rubric",
        "level": sc.level,
        "level_descriptor": sc.level_descriptor,
        "flags": [asdict(f) for f in sc.flags],
        "feedback": asdict(fb),
        "engine": {"version": __version__},
    }
    if calibration is not None:
        calibrated = calibration.calibrated_mark(result, text, rubric)
        result.update(mark=calibrated, calibrated_mark=calibrated, mark_source="calibrated")
    return result

