"""Batch marking in the background: jobs and their essays live in the database, so a restart loses nothing.

An upload becomes a BatchJob plus one Attempt per essay with status "queued". A worker thread started with
the app claims queued attempts one at a time ("marking"), marks them through the one door to the engine and
commits each result ("marked" or "failed"). On start the worker puts back any "marking" attempt left by a
process that stopped mid-essay, so unfinished jobs resume. One worker per process; run one server process
(waitress, as `essaycoach serve` does) or point several at a database where this reset is acceptable.
"""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update

from .assignments import class_rows, uploaded_member
from .attempts import Session, mark_attempt
from .extensions import db
from .models import (
    Assignment,
    Attempt,
    BatchJob,
    Member,
    Override,
    RubricVersion,
    Teacher,
)
from .rubric_store import rubric_of
from .uploads import Upload

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0  # how often an idle worker looks for work another process queued


class JobNotFound(LookupError):
    def __init__(self) -> None:
        super().__init__("There is no such marking job in your classes.")


@dataclass(frozen=True)
class Progress:
    job_id: int
    status: str  # "queued", "running" or "done"
    total: int
    marked: int
    failed: int
    problems: list[dict[str, str]]

    @property
    def done(self) -> int:
        return self.marked + self.failed

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else round(100 * self.done / self.total)

    def as_json(self) -> dict[str, Any]:
        return {
            "job": self.job_id, "status": self.status, "total": self.total, "marked": self.marked, "failed": self.failed,
            "done": self.done, "percent": self.percent, "problems": self.problems,
        }


def _latest_attempt(session: Session, assignment: Assignment, member: Member) -> Attempt | None:
    q = select(Attempt).where(Attempt.assignment_id == assignment.id, Attempt.student_id == member.student_id)
    return session.scalar(q.order_by(Attempt.id.desc()).limit(1))


def enqueue_upload(session: Session, teacher: Teacher, assignment: Assignment, upload: Upload, filename: str) -> BatchJob:
    """One job holding every readable essay (queued) and the per-file problems, committed together."""
    version = session.get(RubricVersion, assignment.rubric_version_id)
    assert version is not None
    job = BatchJob(
        assignment_id=assignment.id, teacher_id=teacher.id, kind="upload", filename=filename[:255],
        problems=[{"name": p.name, "reason": p.reason} for p in upload.problems], total=len(upload.essays),
        status="queued" if upload.essays else "done", finished_at=None if upload.essays else datetime.now(UTC),
    )
    session.add(job)
    session.flush()
    for essay in upload.essays:
        member = uploaded_member(session, assignment, essay.student, essay.email, essay.sis_id)
        parent = _latest_attempt(session, assignment, member)
        session.add(
            Attempt(
                student_id=member.student_id, rubric_id=version.record.slug, text=essay.text, source=essay.name[:255],
                status="queued", assignment_id=assignment.id, rubric_version_id=version.id, job_id=job.id,
                parent_id=parent.id if parent is not None else None,
            )
        )
    session.commit()
    return job


def enqueue_remark(session: Session, teacher: Teacher, assignment: Assignment, version: RubricVersion) -> BatchJob:
    """Re-mark every member's latest essay with `version` as new attempts; earlier results stay as they were.

    A teacher's override is carried to the new attempt (same text: the teacher's judgement still stands).
    """
    rows = [r for r in class_rows(session, assignment) if r.attempt is not None and r.attempt.rubric_version_id != version.id]
    job = BatchJob(assignment_id=assignment.id, teacher_id=teacher.id, kind="remark", filename=f"re-mark with version {version.version}",
                   problems=[], total=len(rows), status="queued" if rows else "done", finished_at=None if rows else datetime.now(UTC))
    session.add(job)
    session.flush()
    assignment.rubric_version_id = version.id
    for row in rows:
        old = row.attempt
        assert old is not None
        new = Attempt(
            student_id=old.student_id, rubric_id=version.record.slug, text=old.text, source=old.source, status="queued",
            assignment_id=assignment.id, rubric_version_id=version.id, job_id=job.id, parent_id=old.id,
        )
        session.add(new)
        if row.override is not None:
            session.flush()
            session.add(Override(attempt_id=new.id, teacher_id=row.override.teacher_id, mark=row.override.mark, comment=row.override.comment))
    session.commit()
    return job


def job_for(session: Session, teacher: Teacher, job_id: int) -> BatchJob:
    job = session.get(BatchJob, job_id)
    if job is None or job.teacher_id != teacher.id:
        raise JobNotFound()
    return job


def progress(session: Session, job: BatchJob) -> Progress:
    counts = dict(
        session.execute(select(Attempt.status, func.count(Attempt.id)).where(Attempt.job_id == job.id).group_by(Attempt.status)).all()
    )
    marked, failed = int(counts.get("marked", 0)), int(counts.get("failed", 0))
    waiting = int(counts.get("queued", 0)) + int(counts.get("marking", 0))
    status = "done" if waiting == 0 else ("running" if marked + failed or counts.get("marking") else "queued")
    return Progress(job.id, status, job.total, marked, failed, list(job.problems or []))


def active_jobs(session: Session, assignment: Assignment) -> list[BatchJob]:
    q = select(BatchJob).where(BatchJob.assignment_id == assignment.id, BatchJob.status != "done").order_by(BatchJob.id)
    return list(session.scalars(q))


def recent_jobs(session: Session, assignment: Assignment, limit: int = 5) -> list[BatchJob]:
    q = select(BatchJob).where(BatchJob.assignment_id == assignment.id).order_by(BatchJob.id.desc()).limit(limit)
    return list(session.scalars(q))


# -- the worker ----------------------------------------------------------------------------
def requeue_interrupted(session: Session) -> int:
    """Attempts a stopped process was marking go back in the queue (their text is saved; nothing is lost)."""
    result = session.execute(update(Attempt).where(Attempt.status == "marking").values(status="queued"))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claim_next(session: Session) -> Attempt | None:
    """The oldest queued attempt, switched to "marking" only if no other worker took it first."""
    while True:
        candidate = session.scalar(select(Attempt.id).where(Attempt.status == "queued").order_by(Attempt.id).limit(1))
        if candidate is None:
            return None
        taken = session.execute(update(Attempt).where(Attempt.id == candidate, Attempt.status == "queued").values(status="marking"))
        session.commit()
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return session.get(Attempt, candidate)


def _finish_job(session: Session, job_id: int | None) -> None:
    if job_id is None:
        return
    waiting = session.scalar(select(func.count(Attempt.id)).where(Attempt.job_id == job_id, Attempt.status.in_(("queued", "marking"))))
    job = session.get(BatchJob, job_id)
    if job is not None:
        if not waiting and job.status != "done":
            job.status, job.finished_at = "done", datetime.now(UTC)
        elif waiting and job.status == "queued":
            job.status = "running"
        session.commit()


def mark_one(session: Session, marking: Any) -> bool:
    """Claim and mark one queued essay; False when the queue is empty."""
    attempt = claim_next(session)
    if attempt is None:
        return False
    version = session.get(RubricVersion, attempt.rubric_version_id) if attempt.rubric_version_id else None
    if version is None:
        attempt.status, attempt.error = "failed", "the rubric version it was queued with no longer exists"
        session.commit()
    else:
        mark_attempt(session, attempt, rubric_of(version), marking.mark)
    _finish_job(session, attempt.job_id)
    return True


def run_pending(app: Flask) -> int:
    """Mark everything queued now, in this thread (tests and the command line); returns how many were marked."""
    from . import services

    n = 0
    with app.app_context():
        while mark_one(db.session, services(app).marking):
            n += 1
        db.session.remove()
    return n


class BatchWorker:
    """One background thread per app marking queued essays; wake() after queueing to start at once."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._running = threading.Event()  # cleared by pause(): queued essays wait (and stay queued) until resume()
        self._running.set()
        self.thread: threading.Thread | None = None
        self.idle = threading.Event()

    def start(self) -> threading.Thread:
        self.thread = threading.Thread(target=self._run, name="essaycoach-batch-worker", daemon=True)
        self.thread.start()
        return self.thread

    def _resume(self) -> None:
        """Put back what a stopped process was marking; waits for the tables (serve migrates after starting us)."""
        while not self._stop.is_set():
            try:
                with self.app.app_context():
                    resumed = requeue_interrupted(db.session)
                    db.session.remove()
            except Exception:  # the schema is not there yet (or is being upgraded): try again shortly
                log.debug("batch worker waiting for the database", exc_info=True)
                self._stop.wait(0.5)
                continue
            if resumed:
                log.info("resuming %d essays left unmarked by the last run", resumed)
            return

    def wake(self) -> None:
        self._wake.set()

    def pause(self) -> None:
        """Finish the essay in hand, then mark nothing until resume() (maintenance, and tests that watch progress)."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def _run(self) -> None:
        from . import services

        marking = services(self.app).marking
        self._resume()
        # The class pages compare essays with scikit-learn: import it now, not on a teacher's first click.
        importlib.import_module("sklearn.feature_extraction.text")
        importlib.import_module("sklearn.metrics.pairwise")
        while not self._stop.is_set():
            self._wake.clear()
            worked = False
            try:
                with self.app.app_context():
                    while not self._stop.is_set() and self._running.is_set() and mark_one(db.session, marking):
                        worked = True
                    db.session.remove()
            except Exception:  # a database hiccup must not kill the worker: log it and try again later
                log.exception("batch worker error")
            if not worked:
                self.idle.set()
                self._wake.wait(POLL_SECONDS)
                self.idle.clear()
