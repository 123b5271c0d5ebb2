"""Teacher-style feedback from detection and score: what went well, even better if, one next step."""

from __future__ import annotations

from dataclasses import dataclass

from .detect import CompiledRubric, Detection
from .rubric import Concept
from .score import Score

MAX_STRENGTHS = 4
MAX_UNDEVELOPED_TARGETS = 3


@dataclass
class Feedback:
    strengths: list[str]
    targets: list[str]
    next_step: str


def concept_message(concept: Concept, found: bool, developed: bool) -> str:
    if found:
        text = concept.feedback.found or f"You use {concept.label}."
        if not developed:
            text += f" Go further: explain how {concept.label} mattered to the question, not just name it."
        return text
    return concept.feedback.missing or f"Missing: {concept.label}. {concept.why}"


def build_feedback(compiled: CompiledRubric, det: Detection, sc: Score) -> Feedback:
    rubric = compiled.rubric
    concepts = {c.id: c for c in rubric.concepts}
    by_weight = sorted(det.concepts, key=lambda m: -concepts[m.id].weight)
    flags = {f.id: f for f in sc.flags}

    strengths: list[str] = []
    if det.best_sentence and not flags:
        strengths.append(f'Your strongest sentence: "{_clip(det.best_sentence["text"])}"')
    developed = [concepts[m.id].label for m in by_weight if m.developed]
    if developed:
        strengths.append(f"You explain, not just name: {_join(developed[:5])}.")
    elif any(m.found for m in det.concepts):
        strengths.append(f"You use key ideas: {_join([concepts[m.id].label for m in by_weight if m.found][:5])}.")
    for s in det.skills:
        if s.found and len(strengths) < MAX_STRENGTHS:
            strengths.append(compiled.skill_feedback[s.id]["found"])

    targets: list[str] = [f.message for f in sc.flags]
    for mid, _ in det.misconceptions.items():
        mis = next(m for m in rubric.misconceptions if m.id == mid)
        targets.append(f"Check your facts - {mis.label}: {mis.correction}")
    if sc.next_level is not None:
        need = [compiled.skill_labels[s].lower() for s in sc.missing_for_next]
        goal = f"To reach Level {sc.next_level.level} ({sc.next_level.descriptor})"
        if need:
            targets.append(f"{goal}, your essay needs {_join(need)}.")
        else:
            targets.append(f"{goal}, explain more of the key ideas and link each one to a judgement on the question.")
    for m in by_weight:
        if not m.found:
            c = concepts[m.id]
            targets.append(f"Missing - {c.label}: {c.feedback.missing or c.why}")
    undeveloped = [m for m in by_weight if m.found and not m.developed]
    for m in undeveloped[:MAX_UNDEVELOPED_TARGETS]:
        targets.append(f"You mention {concepts[m.id].label} but do not explain its significance: say what it led to or why it mattered.")
    for m in det.concepts:
        c = concepts[m.id]
        if m.found and m.precise is False and c.precision is not None:
            targets.append(f"Be precise about {c.label}: include {c.precision.description}.")
    missing_skills = [s for s in det.skills if not s.found and s.id not in sc.missing_for_next]
    for s in missing_skills:
        targets.append(compiled.skill_feedback[s.id]["missing"])

    return Feedback(strengths, targets, _next_step(compiled, det, sc, by_weight, undeveloped))


def _next_step(compiled: CompiledRubric, det: Detection, sc: Score, by_weight: list, undeveloped: list) -> str:  # type: ignore[type-arg]
    rubric = compiled.rubric
    concepts = {c.id: c for c in rubric.concepts}
    flags = {f.id for f in sc.flags}
    if "too_short" in flags:
        return f"Write a full answer of at least {rubric.scoring.min_words} words: open with your answer to the question, then give one paragraph per point."
    if "off_topic" in flags:
        return f"Re-read the question - \"{rubric.questions[0]}\" - and plan one paragraph on each of its key ideas before writing."
    if sc.missing_for_next:
        return compiled.skill_feedback[sc.missing_for_next[0]]["missing"]
    if det.misconceptions:
        mid = next(iter(det.misconceptions))
        mis = next(m for m in rubric.misconceptions if m.id == mid)
        return f"Correct this slip first: {mis.correction}"
    missing = [m for m in by_weight if not m.found]
    if missing and (not undeveloped or concepts[missing[0].id].weight >= concepts[undeveloped[0].id].weight):
        c = concepts[missing[0].id]
        return f"Add a paragraph on {c.label}: {c.why}"
    if undeveloped:
        c = concepts[undeveloped[0].id]
        return f"Develop your point on {c.label}: add a sentence explaining what it led to (\"this meant that...\") and how it answers the question."
    weak = [s for s in det.skills if not s.found]
    if weak:
        return compiled.skill_feedback[weak[0].id]["missing"]
    return "Sharpen your conclusion: weigh your strongest factor against the counter-argument and give a clear final judgement."


def _clip(text: str, limit: int = 280) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
