"""Assignments: create and edit them, class codes, students joining, members, and each member's latest essay.

Everything a teacher reads goes through `assignment_for(session, teacher, id)`, which answers 404 for another
teacher's assignment, so no page can show one teacher another's class.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from .attempts import Session, new_student
from .models import (
    Assignment,
    Attempt,
    Member,
    Override,
    RubricVersion,
    Student,
    Teacher,
)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed by students
CODE_LENGTH = 6
MAX_NAME = 80


class AssignmentNotFound(LookupError):
    """No such assignment for this teacher (also when it is another teacher's)."""

    def __init__(self) -> None:
        super().__init__("There is no such assignment in your classes.")


class MemberNotFound(LookupError):
    def __init__(self) -> None:
        super().__init__("There is no such student in this class.")


class InvalidCode(LookupError):
    """A class code that matches no assignment."""

    def __init__(self) -> None:
        super().__init__("That class code does not match any class. Check it with your teacher.")


class AssignmentClosed(PermissionError):
    """The assignment is not open for submissions now."""


class InvalidAssignment(ValueError):
    """Assignment settings that cannot be saved; `field` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass
class Settings:
    """What a teacher sets on an assignment."""

    title: str
    question: str
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    show_criteria: bool = True
    show_concepts: bool = True
    show_hints: bool = True
    show_mark: bool = True


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _check(settings: Settings) -> None:
    if not settings.title.strip():
        raise InvalidAssignment("title", "Give the assignment a title.")
    if len(settings.title) > 200:
        raise InvalidAssignment("title", "The title may be at most 200 characters.")
    if not settings.question.strip():
        raise InvalidAssignment("question", "Write the question students answer.")
    if settings.opens_at and settings.closes_at and aware(settings.closes_at) <= aware(settings.opens_at):  # type: ignore[operator]
        raise InvalidAssignment("closes_at", "The closing date must be after the opening date.")


def new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Assignment.id).where(Assignment.code == code)) is None:
            return code


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())[:12]


def create_assignment(session: Session, teacher: Teacher, version: RubricVersion, settings: Settings) -> Assignment:
    _check(settings)
    assignment = Assignment(teacher_id=teacher.id, rubric_version_id=version.id, code=new_code(session))
    _apply(assignment, settings)
    session.add(assignment)
    session.commit()
    return assignment


def update_assignment(session: Session, assignment: Assignment, settings: Settings) -> Assignment:
    _check(settings)
    _apply(assignment, settings)
    session.commit()
    return assignment


def _apply(assignment: Assignment, s: Settings) -> None:
    assignment.title, assignment.question = s.title.strip(), s.question.strip()
    assignment.opens_at, assignment.closes_at = s.opens_at, s.closes_at
    assignment.show_criteria, assignment.show_concepts = s.show_criteria, s.show_concepts
    assignment.show_hints, assignment.show_mark = s.show_hints, s.show_mark


def set_rubric_version(session: Session, assignment: Assignment, version: RubricVersion) -> None:
    """New submissions are marked with this version; essays already marked keep theirs (re-mark explicitly)."""
    assignment.rubric_version_id = version.id
    session.commit()


def assignment_for(session: Session, teacher: Teacher, assignment_id: int) -> Assignment:
    found = session.get(Assignment, assignment_id)
    if found is None or found.teacher_id != teacher.id:
        raise AssignmentNotFound()
    return found


def assignments_of(session: Session, teacher: Teacher) -> list[tuple[Assignment, int, int]]:
    """(assignment, members, marked essays) for the teacher's dashboard, newest first."""
    members = select(func.count(Member.id)).where(Member.assignment_id == Assignment.id).scalar_subquery()
    marked = (
        select(func.count(Attempt.id)).where(Attempt.assignment_id == Assignment.id, Attempt.status == "marked").scalar_subquery()
    )
    q = select(Assignment, members, marked).where(Assignment.teacher_id == teacher.id).order_by(Assignment.id.desc())
    return [(a, int(m or 0), int(k or 0)) for a, m, k in session.execute(q)]


def by_code(session: Session, raw: str) -> Assignment:
    code = normalise_code(raw)
    found = session.scalar(select(Assignment).where(Assignment.code == code)) if len(code) >= 4 else None
    if found is None:
        raise InvalidCode()
    return found


def is_open(assignment: Assignment, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    opens, closes = aware(assignment.opens_at), aware(assignment.closes_at)
    return (opens is None or now >= opens) and (closes is None or now < closes)


def check_open(assignment: Assignment) -> None:
    now = datetime.now(UTC)
    opens, closes = aware(assignment.opens_at), aware(assignment.closes_at)
    if opens is not None and now < opens:
        raise AssignmentClosed(f"This assignment opens on {opens:%d %b %Y at %H:%M} UTC.")
    if closes is not None and now >= closes:
        raise AssignmentClosed(f"This assignment closed on {closes:%d %b %Y at %H:%M} UTC. Ask your teacher if you still need to submit.")


# -- members ---------------------------------------------------------------------------
def clean_name(raw: str) -> str:
    return " ".join("".join(ch for ch in raw if ch.isprintable()).split())[:MAX_NAME]


def join(session: Session, assignment: Assignment, student: Student, name: str) -> Member:
    """The student's membership of the class (made on first join; the first name given is kept)."""
    display = clean_name(name)
    if not display:
        raise InvalidAssignment("name", "Type your name as your teacher will recognise it.")
    found = member_of(session, assignment, student)
    if found is not None:
        return found
    member = Member(assignment_id=assignment.id, student_id=student.id, name=display, origin="joined")
    session.add(member)
    session.commit()
    return member


def member_of(session: Session, assignment: Assignment, student: Student | None) -> Member | None:
    if student is None:
        return None
    return session.scalar(select(Member).where(Member.assignment_id == assignment.id, Member.student_id == student.id))


def member_for(session: Session, assignment: Assignment, member_id: int) -> Member:
    found = session.get(Member, member_id)
    if found is None or found.assignment_id != assignment.id:
        raise MemberNotFound()
    return found


def member_by_name(session: Session, assignment: Assignment, name: str, origin: str | None = None) -> Member | None:
    q = select(Member).where(Member.assignment_id == assignment.id, func.lower(Member.name) == name.lower())
    if origin is not None:
        q = q.where(Member.origin == origin)
    return session.scalars(q.order_by(Member.id)).first()


def uploaded_member(session: Session, assignment: Assignment, name: str, email: str | None = None, sis_id: str | None = None) -> Member:
    """The uploaded student with this name (a later upload adds a draft), or a new one with no link.

    Never a student who joined with the code, even with the same name: their drafts would show them the upload.
    """
    display = clean_name(name) or "Unnamed"
    member = member_by_name(session, assignment, display, origin="upload")
    if member is None:
        student, _token = new_student(session)  # nobody holds the token: only the teacher sees this work
        member = Member(assignment_id=assignment.id, student_id=student.id, name=display, origin="upload")
        session.add(member)
        session.flush()
    if email and not member.email:
        member.email = email[:254]
    if sis_id and not member.sis_id:
        member.sis_id = sis_id[:64]
    return member


def update_member(session: Session, member: Member, name: str, email: str, sis_id: str) -> Member:
    display = clean_name(name)
    if not display:
        raise InvalidAssignment("name", "A student needs a name.")
    email = email.strip()
    if email and ("@" not in email or len(email) > 254 or any(ch.isspace() for ch in email)):
        raise InvalidAssignment("email", f"'{email[:60]}' is not an e-mail address.")
    member.name, member.email, member.sis_id = display, email or None, sis_id.strip()[:64] or None
    session.commit()
    return member


# -- essays ----------------------------------------------------------------------------
@dataclass
class Row:
    """A class member with their latest essay and the teacher's override of it, if any."""

    member: Member
    attempt: Attempt | None
    override: Override | None
    drafts: int

    @property
    def final_mark(self) -> int | None:
        if self.override is not None:
            return self.override.mark
        return self.attempt.mark if self.attempt is not None and self.attempt.marked else None


def class_rows(session: Session, assignment: Assignment) -> list[Row]:
    """Every member, in name order, with their latest essay for this assignment."""
    latest = (
        select(Attempt.student_id, func.max(Attempt.id).label("last"), func.count(Attempt.id).label("n"))
        .where(Attempt.assignment_id == assignment.id)
        .group_by(Attempt.student_id)
        .subquery()
    )
    q = (
        select(Member, Attempt, Override, latest.c.n)
        .outerjoin(latest, latest.c.student_id == Member.student_id)
        .outerjoin(Attempt, Attempt.id == latest.c.last)
        .outerjoin(Override, Override.attempt_id == Attempt.id)
        .where(Member.assignment_id == assignment.id)
        .order_by(func.lower(Member.name), Member.id)
    )
    return [Row(m, a, o, int(n or 0)) for m, a, o, n in session.execute(q)]


def member_attempts(session: Session, assignment: Assignment, member: Member) -> list[Attempt]:
    q = select(Attempt).where(Attempt.assignment_id == assignment.id, Attempt.student_id == member.student_id).order_by(Attempt.id)
    return list(session.scalars(q))
