"""What the teacher's calibration page needs: the rubric's current version, the teacher's marks for it, the model's state.

Calibration learns from the overrides a teacher saved in their own classes (app.web.overrides.teacher_marks,
scoped to the teacher), only for essays marked with the rubric's current version: a mark given under another
version is not evidence about this one, so those are counted and left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..calibrate import ModelError
from ..calibrate_report import MIN_ESSAYS
from ..calibrate_store import ModelMismatch, NoModel, load
from ..calibrate_train import MarkedEssay
from ..rubric import Rubric
from .assignments import member_of
from .attempts import Session
from .models import Assignment, Attempt, RubricRecord, RubricVersion, Teacher
from .overrides import TeacherMark, teacher_marks
from .rubric_store import latest, record_for, rubric_of, snapshot_file
from .rubrics import RubricStore, UnknownRubric


@dataclass(frozen=True)
class Marks:
    """The teacher's marks for a rubric: those usable for its current version, and how many were left out."""

    rubric: Rubric
    version: RubricVersion
    essays: list[MarkedEssay]
    other_versions: int
    shared: bool  # a rubric file: every teacher's marking with it uses the model adopted for it

    @property
    def needed(self) -> int:
        return max(0, MIN_ESSAYS - len(self.essays))


def current_version(session: Session, teacher: Teacher, files: RubricStore, slug: str) -> RubricVersion:
    """The version essays are marked with now: a rubric file's current content, or the latest version of the teacher's own rubric."""
    record = session.query(RubricRecord).filter_by(slug=slug).one_or_none()
    if record is not None and record.origin == "app":
        return latest(session, record_for(session, teacher, slug))  # UnknownRubric for another teacher's rubric
    if slug not in files.ids():
        raise UnknownRubric(slug)
    return snapshot_file(session, files, slug)


def essay(mark: TeacherMark) -> MarkedEssay:
    """An override as training data; results marked with a calibration keep the rules' mark as `rubric_mark`."""
    result = dict(mark.result or {})
    result.setdefault("rubric_mark", result.get("mark"))
    return MarkedEssay(str(mark.attempt_id), mark.text, mark.teacher_mark, result)


def marks_for(session: Session, teacher: Teacher, files: RubricStore, slug: str) -> Marks:
    version = current_version(session, teacher, files, slug)
    listed = teacher_marks(session, slug, teacher=teacher)
    usable = [m for m in listed if m.rubric_version_id == version.id and m.result]
    return Marks(rubric_of(version), version, [essay(m) for m in usable], len(listed) - len(usable), version.record.origin == "file")


def feedback_links(session: Session, teacher: Teacher, ids: list[str]) -> dict[str, dict[str, int]]:
    """url_for arguments of teacher.student for each essay id (an attempt id) in the teacher's own classes."""
    out: dict[str, dict[str, int]] = {}
    for essay_id in ids:
        attempt = session.get(Attempt, int(essay_id)) if essay_id.isdigit() else None
        if attempt is None or attempt.assignment_id is None:
            continue
        a = session.get(Assignment, attempt.assignment_id)
        member = member_of(session, a, attempt.student) if a is not None and a.teacher_id == teacher.id else None
        if a is not None and member is not None:
            out[essay_id] = {"assignment_id": a.id, "member_id": member.id, "attempt": attempt.id}
    return out


def model_state(rubric: Rubric) -> dict[str, Any] | None:
    """The saved model for the rubric as the page shows it, or None when none has been trained."""
    try:
        model = load(rubric.id)
    except NoModel:
        return None
    except ModelError as exc:
        return {"error": str(exc)}
    try:
        model.check(rubric)
        fits, why = True, ""
    except ModelMismatch as exc:
        fits, why = False, str(exc)
    return {
        "adopted": model.adopted, "n": model.training.get("n"), "date": model.training.get("date"), "recommended": model.recommended,
        "verdict": model.verdict, "fits": fits, "why": why, "version": model.rubric_version,
    }
