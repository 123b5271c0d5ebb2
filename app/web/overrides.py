"""Teachers' overrides of a mark (with a comment), and the list calibration learns from.

An override belongs to one marked essay (attempt). The engine's result is never changed: the override sits
beside it, exports use it as the final mark, and `teacher_marks` hands calibration (issue 5) every essay a
teacher has marked for a rubric: the text, the teacher's mark and the rubric version the engine used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from .attempts import Session
from .models import Assignment, Attempt, Override, RubricRecord, RubricVersion, Teacher

MAX_COMMENT = 4000


class InvalidOverride(ValueError):
    """An override that cannot be saved (mark outside the scale, essay not marked); `field` is the form field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def save_override(session: Session, teacher: Teacher, attempt: Attempt, raw_mark: str, comment: str) -> Override | None:
    """Set (or, with an empty mark and comment, remove) the teacher's mark and comment for a marked essay."""
    if not attempt.marked:
        raise InvalidOverride("mark", "This essay has not been marked yet.")
    comment = comment.replace("\r\n", "\n").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidOverride("comment", f"The comment may be at most {MAX_COMMENT:,} characters.")
    existing = session.scalar(select(Override).where(Override.attempt_id == attempt.id))
    text = raw_mark.strip()
    if not text and not comment:
        if existing is not None:
            session.delete(existing)
            session.commit()
        return None
    result = attempt.result or {}
    low, high = int(result.get("min_mark", 0)), int(result.get("max_mark", attempt.max_mark or 0))
    if not text:
        mark = existing.mark if existing is not None else int(attempt.mark or 0)
    else:
        try:
            mark = int(text)
        except ValueError:
            raise InvalidOverride("mark", f"'{text[:20]}' is not a whole number of marks.") from None
    if not low <= mark <= high:
        raise InvalidOverride("mark", f"The mark must be between {low} and {high}.")
    now = datetime.now(UTC)
    if existing is None:
        existing = Override(attempt_id=attempt.id, teacher_id=teacher.id, mark=mark, comment=comment, created_at=now, updated_at=now)
        session.add(existing)
    else:
        existing.mark, existing.comment, existing.teacher_id, existing.updated_at = mark, comment, teacher.id, now
    session.commit()
    return existing


def override_of(session: Session, attempt: Attempt) -> Override | None:
    return session.scalar(select(Override).where(Override.attempt_id == attempt.id))


@dataclass(frozen=True)
class TeacherMark:
    """One essay a teacher marked: what calibration needs to learn the teacher's marking."""

    text: str
    teacher_mark: int
    engine_mark: int | None
    rubric_id: str
    rubric_version: int
    rubric_version_id: int | None
    result: dict[str, Any] | None  # the engine's result for this text and version (features without re-marking)
    comment: str
    teacher_id: int
    attempt_id: int | None = None  # where the essay lives in the workspace (links to its feedback page)
    assignment_id: int | None = None


def teacher_marks(session: Session, rubric_id: str, *, version: int | None = None, teacher: Teacher | None = None) -> list[TeacherMark]:
    """Every overridden essay marked with rubric `rubric_id` (optionally one version, one teacher), oldest first."""
    q = (
        select(Override, Attempt, RubricVersion)
        .join(Attempt, Attempt.id == Override.attempt_id)
        .join(RubricVersion, RubricVersion.id == Attempt.rubric_version_id)
        .join(RubricRecord, RubricRecord.id == RubricVersion.rubric_pk)
        .join(Assignment, Assignment.id == Attempt.assignment_id)
        .where(RubricRecord.slug == rubric_id, Attempt.status == "marked")
        .order_by(Override.id)
    )
    if version is not None:
        q = q.where(RubricVersion.version == version)
    if teacher is not None:
        q = q.where(Assignment.teacher_id == teacher.id)
    return [
        TeacherMark(a.text, o.mark, a.mark, rubric_id, v.version, v.id, a.result, o.comment, o.teacher_id, a.id, a.assignment_id)
        for o, a, v in session.execute(q)
    ]
