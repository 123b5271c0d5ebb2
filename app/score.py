"""Scoring: coverage, development and skills combined into a level and mark, or key elements counted into points."""

from __future__ import annotations

from dataclasses import dataclass, field

from .detect import Detection
from .rubric import Level, Rubric


@dataclass(frozen=True)
class Flag:
    id: str
    message: str


@dataclass
class Score:
    coverage: float
    development: float
    skills: float
    composite: float
    mark: int
    max_mark: int
    min_mark: int
    level: int | None
    level_descriptor: str
    elements: int
    next_level: Level | None = None
    missing_for_next: list[str] = field(default_factory=list)  # skill ids the next level needs
    flags: list[Flag] = field(default_factory=list)


def _weighted(rubric: Rubric, det: Detection) -> tuple[float, float, float]:
    weights = {c.id: c.weight for c in rubric.concepts}
    total = sum(weights.values())
    coverage = sum(weights[c.id] for c in det.concepts if c.found) / total
    development = sum(weights[c.id] for c in det.concepts if c.developed) / total
    skill_w = {s.id: rubric.skill(s.id).weight for s in det.skills}
    skills_total = sum(skill_w.values())
    skills = sum(skill_w[s.id] for s in det.skills if s.found) / skills_total if skills_total else 0.0
    return coverage, development, skills


def _flags(rubric: Rubric, det: Detection, coverage: float) -> list[Flag]:
    flags = []
    min_words = rubric.scoring.min_words
    if det.word_count < min_words:
        words = f"{det.word_count} word{'' if det.word_count == 1 else 's'}"
        flags.append(Flag("too_short", f"At {words} this is too short to mark reliably: write at least {min_words} words."))
    focused = any(s.found for s in det.skills if s.id == "focus")
    if det.word_count >= min_words and coverage < rubric.scoring.off_topic_coverage and not focused:
        flags.append(Flag("off_topic", "This does not seem to answer the question: it uses almost none of the ideas the question is about."))
    return flags


def score(rubric: Rubric, det: Detection) -> Score:
    """Turn what was detected into a mark on the rubric's scale."""
    coverage, development, skills = _weighted(rubric, det)
    flags = _flags(rubric, det, coverage)
    elements = sum(1 for c in det.concepts if (c.developed if rubric.scoring.count == "developed" else c.found))
    if rubric.scoring.method == "points":
        return _points(rubric, det, coverage, development, skills, elements, flags)

    w = rubric.scoring.weights
    total_w = (w.coverage + w.development + w.skills) or 1.0
    composite = (w.coverage * coverage + w.development * development + w.skills * skills) / total_w
    composite = max(0.0, min(1.0, composite - rubric.scoring.misconception_penalty * len(det.misconceptions)))
    found_skills = {s.id for s in det.skills if s.found}
    levels = rubric.levels_sorted()
    chosen = levels[0]
    blocked = any(f.id in ("too_short", "off_topic") for f in flags)
    if not blocked:
        for lv in levels[1:]:
            if not _meets(lv, composite, coverage, development, found_skills):
                break
            chosen = lv
    idx = levels.index(chosen)
    nxt = levels[idx + 1] if idx + 1 < len(levels) else None
    lo, hi = chosen.marks
    if blocked or composite == 0.0:
        mark = rubric.min_mark if composite == 0.0 or det.word_count < rubric.scoring.min_words else lo
    else:
        ceiling = nxt.min_score if nxt else 1.0
        span = ceiling - chosen.min_score
        frac = 1.0 if span <= 0 else (composite - chosen.min_score) / span
        if nxt is not None and composite >= nxt.min_score:
            # Held back by a requirement (a skill, development) despite its score: a mid-band mark,
            # so naming every term without explaining them does not earn the top of the band.
            frac = 0.5
        mark = lo + round(max(0.0, min(1.0, frac)) * (hi - lo))
    missing = [s for s in (nxt.requires_skills if nxt else []) if s not in found_skills]
    return Score(coverage, development, skills, composite, mark, rubric.max_mark, rubric.min_mark, chosen.level, chosen.descriptor, elements, nxt, missing, flags)


def _meets(lv: Level, composite: float, coverage: float, development: float, skills: set[str]) -> bool:
    return (
        composite >= lv.min_score
        and coverage >= lv.min_coverage
        and development >= lv.min_developed
        and all(s in skills for s in lv.requires_skills)
    )


def _points(rubric: Rubric, det: Detection, coverage: float, development: float, skills: float, elements: int, flags: list[Flag]) -> Score:
    mark, descriptor = rubric.min_mark, "No key elements"
    for rule in sorted(rubric.scoring.rules, key=lambda r: -r.points):
        if elements >= rule.min_elements:
            mark = rule.points
            descriptor = rule.descriptor or f"{elements} key element{'s' if elements != 1 else ''}"
            break
    return Score(coverage, development, skills, coverage, mark, rubric.max_mark, rubric.min_mark, None, descriptor, elements, None, [], flags)
