"""Database tables: anonymous students and their attempts; teachers, versioned rubrics, assignments, batch jobs, overrides."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class Student(db.Model):  # type: ignore[name-defined,misc]
    """An anonymous student; only the SHA-256 of their token is stored, so a database leak reveals no links."""

    __tablename__ = "students"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    attempts: Mapped[list[Attempt]] = relationship(back_populates="student", order_by="Attempt.id")


class Attempt(db.Model):  # type: ignore[name-defined,misc]
    """One submitted draft; saved before marking (status 'saved'), then 'marked' with its result or 'failed'."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    rubric_id: Mapped[str] = mapped_column(String(64), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"), nullable=True)
    source: Mapped[str] = mapped_column(String(255), default="typed")
    text: Mapped[str] = mapped_column(Text)
    # saved -> marked | failed (student pages); queued -> marking -> marked | failed (batch jobs)
    status: Mapped[str] = mapped_column(String(16), default="saved", index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Copied out of the result so progress pages need not load every result document.
    rubric_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    word_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mark: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_mark: Mapped[int | None] = mapped_column(Integer, nullable=True)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    coverage: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    marked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Set for essays written for an assignment or uploaded by its teacher: the exact rubric version marked with.
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), nullable=True, index=True)
    rubric_version_id: Mapped[int | None] = mapped_column(ForeignKey("rubric_versions.id"), nullable=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("batch_jobs.id"), nullable=True, index=True)

    student: Mapped[Student] = relationship(back_populates="attempts")

    @property
    def marked(self) -> bool:
        return self.status == "marked" and self.result is not None


# -- teacher workspace ------------------------------------------------------------
class Teacher(db.Model):  # type: ignore[name-defined,misc]
    """A teacher account: e-mail (lower case) and a salted password hash (werkzeug scrypt)."""

    __tablename__ = "teachers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginFailure(db.Model):  # type: ignore[name-defined,misc]
    """One failed log-in (or class-code) attempt, for rate limiting by e-mail and address."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), index=True)  # "login:<email>" or "join"
    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class RubricRecord(db.Model):  # type: ignore[name-defined,misc]
    """A rubric known to the database: one made in the app (owner set) or a snapshot holder for a rubric file."""

    __tablename__ = "rubrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, index=True)  # the rubric's id in its YAML
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"), nullable=True, index=True)
    origin: Mapped[str] = mapped_column(String(8), default="app")  # "app" or "file"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    versions: Mapped[list[RubricVersion]] = relationship(back_populates="record", order_by="RubricVersion.version")


class RubricVersion(db.Model):  # type: ignore[name-defined,misc]
    """One saved version of a rubric: its YAML exactly as validated. Never updated (see the listener below)."""

    __tablename__ = "rubric_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rubric_pk: Mapped[int] = mapped_column(ForeignKey("rubrics.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    yaml: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    record: Mapped[RubricRecord] = relationship(back_populates="versions")


class ImmutableRow(RuntimeError):
    """A saved rubric version was about to be changed: versions are immutable, save a new one."""


@event.listens_for(RubricVersion, "before_update")
def _versions_are_immutable(mapper: Any, connection: Any, target: RubricVersion) -> None:
    raise ImmutableRow(f"rubric version {target.id} is immutable: save a new version instead")


class Assignment(db.Model):  # type: ignore[name-defined,misc]
    """A question set by a teacher, marked with one rubric version, joined by students with its class code."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teachers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id"))
    code: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # What students see: before submitting (success criteria) and after (concept names, hints, the mark).
    show_criteria: Mapped[bool] = mapped_column(Boolean, default=True)
    show_concepts: Mapped[bool] = mapped_column(Boolean, default=True)
    show_hints: Mapped[bool] = mapped_column(Boolean, default=True)
    show_mark: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    rubric_version: Mapped[RubricVersion] = relationship()


class Member(db.Model):  # type: ignore[name-defined,misc]
    """A student in an assignment's class: joined with the code, or created by the teacher's upload."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("assignment_id", "student_id", name="uq_members_assignment_student"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    sis_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the school's ID number for the student
    origin: Mapped[str] = mapped_column(String(8), default="joined")  # "joined" or "upload"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BatchJob(db.Model):  # type: ignore[name-defined,misc]
    """A batch of essays to mark in the background; its essays are attempts with job_id set (status queued until marked)."""

    __tablename__ = "batch_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teachers.id"))
    kind: Mapped[str] = mapped_column(String(8), default="upload")  # "upload" or "remark"
    filename: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued -> done
    total: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # files refused at upload: {name, reason}
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Override(db.Model):  # type: ignore[name-defined,misc]
    """The teacher's own mark and comment on one marked essay (calibration learns from these)."""

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), unique=True, index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teachers.id"))
    mark: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
