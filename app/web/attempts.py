"""Attempt services: students by token, save then mark an essay, compare drafts, progress over attempts."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as _Session
from sqlalchemy.orm import scoped_session

from ..rubric import Rubric
from .models import Attempt, Student

log = logging.getLogger(__name__)

TOKEN_BYTES = 24  # 192 bits: unguessable, and short enough to bookmark
MarkFn = Callable[[str, Rubric, str], dict[str, Any]]
Session = _Session | scoped_session[Any]  # a plain session, or Flask-SQLAlchemy's db.session


class AttemptNotFound(LookupError):
    """No such attempt for this student (also when it exists but is someone else's: no hint either way)."""

    def __init__(self) -> None:
        super().__init__("There is no such attempt in your history.")


class StudentNotFound(LookupError):
    """The private link's token belongs to no one."""

    def __init__(self) -> None:
        super().__init__("That private link is not valid. Check that you copied all of it.")


# -- students -------------------------------------------------------------------
def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def find_student(session: Session, token: str | None) -> Student | None:
    if not token or len(token) > 128:
        return None
    return session.scalar(select(Student).where(Student.token_hash == hash_token(token)))


def new_student(session: Session) -> tuple[Student, str]:
    """A new anonymous student and their token (the only time the token exists in clear)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    student = Student(token_hash=hash_token(token))
    session.add(student)
    session.flush()
    return student, token


# -- attempts -------------------------------------------------------------------
def normalise_text(text: str) -> str:
    """Browsers send textarea line breaks as CRLF; store exactly the text that is marked, so offsets match."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def save_attempt(
    session: Session, student: Student, rubric_id: str, text: str, *, source: str = "typed", parent: Attempt | None = None,
    assignment_id: int | None = None, rubric_version_id: int | None = None,
) -> Attempt:
    """Save the essay before marking, so a marking failure loses nothing (for a class: its assignment and rubric version)."""
    attempt = Attempt(
        student_id=student.id, rubric_id=rubric_id, text=text, source=source[:255], status="saved",
        assignment_id=assignment_id, rubric_version_id=rubric_version_id,
    )
    if parent is not None and parent.student_id == student.id and parent.rubric_id == rubric_id and parent.assignment_id == assignment_id:
        attempt.parent_id = parent.id
    session.add(attempt)
    session.commit()
    return attempt


def mark_attempt(session: Session, attempt: Attempt, rubric: Rubric, mark: MarkFn) -> Attempt:
    """Mark a saved attempt; on failure it stays saved with status 'failed' and can be marked again."""
    try:
        result = mark(attempt.text, rubric, attempt.source)
    except Exception as exc:  # any engine failure: keep the essay, record why, let the student retry
        log.exception("marking attempt %s failed", attempt.id)
        attempt.status, attempt.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        session.commit()
        return attempt
    attempt.status, attempt.error, attempt.result = "marked", None, result
    attempt.rubric_version = result["rubric"]["version"]
    attempt.word_count, attempt.mark, attempt.max_mark = result["word_count"], result["mark"], result["max_mark"]
    attempt.level, attempt.coverage = result["level"], result["coverage"]
    attempt.marked_at = datetime.now(UTC)
    session.commit()
    return attempt


def get_attempt(session: Session, student: Student | None, attempt_id: int) -> Attempt:
    attempt = session.get(Attempt, attempt_id) if student is not None else None
    if attempt is None or attempt.student_id != student.id:  # type: ignore[union-attr]
        raise AttemptNotFound()
    return attempt


def own_attempt(session: Session, student: Student | None, raw: str | None) -> Attempt | None:
    """The student's attempt whose id is `raw` (a form or query value), or None for anything else."""
    if not raw or not raw.isdigit():
        return None
    try:
        return get_attempt(session, student, int(raw))
    except AttemptNotFound:
        return None


def _stream(attempt: Attempt) -> Any:
    """Drafts are numbered and compared within one stream: practice at a question, or one class assignment."""
    if attempt.assignment_id is None:
        return Attempt.assignment_id.is_(None)
    return Attempt.assignment_id == attempt.assignment_id


def attempts_for(session: Session, student: Student | None, rubric_id: str) -> list[Attempt]:
    """Practice attempts at a question (class work is shown on its class page, under the teacher's settings)."""
    if student is None:
        return []
    q = select(Attempt).where(Attempt.student_id == student.id, Attempt.rubric_id == rubric_id, Attempt.assignment_id.is_(None))
    return list(session.scalars(q.order_by(Attempt.id)))


def draft_number(session: Session, attempt: Attempt) -> int:
    """1 for a student's first attempt at a question (or assignment), 2 for the next, ..."""
    q = select(func.count(Attempt.id)).where(
        Attempt.student_id == attempt.student_id, Attempt.rubric_id == attempt.rubric_id, Attempt.id <= attempt.id, _stream(attempt)
    )
    return int(session.scalar(q) or 1)


def previous_attempt(session: Session, attempt: Attempt) -> Attempt | None:
    """The marked draft this one revises: its parent, else the student's last marked attempt before it."""
    if attempt.parent_id is not None:
        parent = session.get(Attempt, attempt.parent_id)
        if parent is not None and parent.marked:
            return parent
    q = (
        select(Attempt)
        .where(Attempt.student_id == attempt.student_id, Attempt.rubric_id == attempt.rubric_id, _stream(attempt))
        .where(Attempt.id < attempt.id, Attempt.status == "marked")
        .order_by(Attempt.id.desc())
        .limit(1)
    )
    return session.scalar(q)


@dataclass(frozen=True)
class QuestionSummary:
    rubric_id: str
    attempts: int
    last_id: int
    best_mark: int | None


def questions_attempted(session: Session, student: Student | None) -> list[QuestionSummary]:
    if student is None:
        return []
    q = (
        select(Attempt.rubric_id, func.count(Attempt.id), func.max(Attempt.id), func.max(Attempt.mark))
        .where(Attempt.student_id == student.id, Attempt.assignment_id.is_(None))
        .group_by(Attempt.rubric_id)
        .order_by(func.max(Attempt.id).desc())
    )
    return [QuestionSummary(r, int(n), int(last), best) for r, n, last, best in session.execute(q)]


# -- what changed between drafts ----------------------------------------------
@dataclass
class Changes:
    """What a new draft gained and lost against the previous one (labels, in rubric order)."""

    gained: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    now_developed: list[str] = field(default_factory=list)
    no_longer_developed: list[str] = field(default_factory=list)
    fixed_misconceptions: list[str] = field(default_factory=list)
    new_misconceptions: list[str] = field(default_factory=list)
    level_before: int | None = None
    level_after: int | None = None
    mark_before: int = 0
    mark_after: int = 0
    coverage_before: float = 0.0
    coverage_after: float = 0.0
    words_before: int = 0
    words_after: int = 0

    @property
    def level_change(self) -> int:
        return (self.level_after or 0) - (self.level_before or 0)

    @property
    def mark_change(self) -> int:
        return self.mark_after - self.mark_before

    @property
    def nothing(self) -> bool:
        concept_lists = (self.gained, self.lost, self.now_developed, self.no_longer_developed)
        return not any(concept_lists) and not self.fixed_misconceptions and not self.new_misconceptions and not self.mark_change


def diff_results(before: dict[str, Any], after: dict[str, Any]) -> Changes:
    """Compare two results of the same rubric by concept and misconception id."""
    old = {c["id"]: c for c in before["concepts"]}
    changes = Changes(
        level_before=before["level"], level_after=after["level"], mark_before=before["mark"], mark_after=after["mark"],
        coverage_before=before["coverage"], coverage_after=after["coverage"],
        words_before=before["word_count"], words_after=after["word_count"],
    )
    for c in after["concepts"]:
        was = old.get(c["id"], {"found": False, "developed": False})
        if c["found"] and not was["found"]:
            changes.gained.append(c["label"])
        elif was["found"] and not c["found"]:
            changes.lost.append(c["label"])
        if c["developed"] and was["found"] and not was["developed"]:  # newly found ones are listed as gained
            changes.now_developed.append(c["label"])
        elif was["developed"] and c["found"] and not c["developed"]:
            changes.no_longer_developed.append(c["label"])
    before_mis = {m["id"]: m["label"] for m in before["misconceptions"]}
    after_mis = {m["id"]: m["label"] for m in after["misconceptions"]}
    changes.fixed_misconceptions = [label for mid, label in before_mis.items() if mid not in after_mis]
    changes.new_misconceptions = [label for mid, label in after_mis.items() if mid not in before_mis]
    return changes
