"""Student pages: pick a question, write or upload, feedback, revise and resubmit, progress, private link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, flash, get_flashed_messages, redirect, render_template, request, session, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from ..readers import MAX_BYTES, UnreadableEssay, display_name, read_bytes
from ..rubric import Rubric
from . import services
from .attempts import (
    StudentNotFound,
    attempts_for,
    diff_results,
    draft_number,
    find_student,
    get_attempt,
    mark_attempt,
    normalise_text,
    own_attempt,
    previous_attempt,
    questions_attempted,
    save_attempt,
)
from .charts import Point, coverage_meter, progress_chart
from .errors import UploadTooLarge, status_for
from .extensions import db
from .highlight import highlight_essay, spans_from_result
from .identity import current_student, ensure_student, private_link, remember, set_new_token_cookie
from .models import Attempt
from .rubrics import criteria_visible

bp = Blueprint("student", __name__)
bp.after_request(set_new_token_cookie)


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    def my_link() -> str | None:
        token = request.cookies.get(current_app.config["STUDENT_COOKIE"])
        return private_link(token) if token and current_student() is not None else None

    return {"my_link": my_link, "coverage_meter": coverage_meter, "when": when}


def when(moment: datetime) -> Markup:
    """A UTC time as <time>; feedback.js shows it in the student's own time zone."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return Markup('<time datetime="{}">{} UTC</time>').format(utc.isoformat(timespec="seconds"), utc.strftime("%d %b %Y, %H:%M"))


def criteria_allowed(rubric_id: str) -> bool:
    return criteria_visible(current_app.config["SHOW_CRITERIA"], rubric_id)


def draft_key(rubric_id: str, parent_id: int | None) -> str:
    return f"essaycoach:draft:{rubric_id}:{parent_id or 'new'}"


@bp.get("/")
def index() -> str:
    done = {q.rubric_id: q for q in questions_attempted(db.session, current_student())}
    questions = [(rid, r, criteria_allowed(rid)) for rid, r in services().rubrics.all()]
    return render_template("index.html", questions=questions, done=done)


def _write_page(rubric_id: str, rubric: Rubric, *, text: str = "", parent: Attempt | None = None, error: str | None = None, status: int = 200) -> tuple[str, int]:
    session.permanent = True  # the CSRF token lives in the session: keep it while a long essay is written
    return (
        render_template(
            "write.html", rubric_id=rubric_id, rubric=rubric, text=text, parent=parent, error=error,
            show_criteria=criteria_allowed(rubric_id), draft_key=draft_key(rubric_id, parent.id if parent else None),
            max_bytes=MAX_BYTES,
        ),
        status,
    )


def _parent(rubric_id: str, raw: str | None) -> Attempt | None:
    """The attempt being revised, if it is this student's and for this question; otherwise none."""
    attempt = own_attempt(db.session, current_student(), raw)
    return attempt if attempt is not None and attempt.rubric_id == rubric_id else None


@bp.get("/write/<rubric_id>")
def write(rubric_id: str) -> tuple[str, int]:
    rubric = services().rubrics.get(rubric_id)
    parent = _parent(rubric_id, request.args.get("revise"))
    return _write_page(rubric_id, rubric, text=parent.text if parent else "", parent=parent)


def _essay_from_request() -> tuple[str, str]:
    """(text, source): an uploaded file wins over the text box."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise UploadTooLarge(f"{display_name(upload.filename)}: the file is more than 2 MB; the limit is 2 MB.")
        return read_bytes(data, upload.filename), display_name(upload.filename)
    return request.form.get("essay", ""), "typed"


@bp.post("/write/<rubric_id>")
def submit(rubric_id: str) -> Response | tuple[str, int]:
    store = services()
    rubric = store.rubrics.get(rubric_id)
    parent = _parent(rubric_id, request.form.get("parent"))
    typed = request.form.get("essay", "")
    try:
        text, source = _essay_from_request()
        text = normalise_text(text)
        store.marking.check(text)
    except (UnreadableEssay, UploadTooLarge, ValueError) as exc:
        mapped = status_for(exc)
        if mapped is None:
            raise
        message = f"{exc.name}: {exc.reason}" if isinstance(exc, UnreadableEssay) else str(exc)
        return _write_page(rubric_id, rubric, text=typed, parent=parent, error=message, status=mapped[0])
    student = ensure_student()
    attempt = save_attempt(db.session, student, rubric_id, text, source=source, parent=parent)
    mark_attempt(db.session, attempt, rubric, store.marking.mark)
    flash(draft_key(rubric_id, parent.id if parent else None), "clear-draft")
    return redirect(url_for("student.attempt", attempt_id=attempt.id), 303)


@bp.get("/attempts/<int:attempt_id>")
def attempt(attempt_id: int) -> tuple[str, int] | Response:
    item = get_attempt(db.session, current_student(), attempt_id)
    if item.assignment_id is not None:  # written for a class: its page applies the teacher's settings
        return redirect(url_for("classroom.attempt", attempt_id=item.id), 303)
    number = draft_number(db.session, item)
    clear = get_flashed_messages(category_filter=["clear-draft"])
    if not item.marked:
        status = 500 if item.status == "failed" else 202
        return render_template("unmarked.html", attempt=item, number=number, clear_draft=clear), status
    result = item.result or {}
    prev = previous_attempt(db.session, item)
    changes = diff_results(prev.result, result) if prev is not None and prev.result else None
    essay = highlight_essay(item.text, spans_from_result(result, item.text))
    return (
        render_template(
            "feedback.html", attempt=item, r=result, number=number, essay=essay, prev=prev,
            prev_number=draft_number(db.session, prev) if prev else None, changes=changes, clear_draft=clear,
        ),
        200,
    )


@bp.post("/attempts/<int:attempt_id>/mark")
def retry(attempt_id: int) -> Response:
    item = get_attempt(db.session, current_student(), attempt_id)
    if item.assignment_id is not None:
        return redirect(url_for("classroom.retry", attempt_id=item.id), 307)
    if not item.marked:
        mark_attempt(db.session, item, services().rubrics.get(item.rubric_id), services().marking.mark)
    return redirect(url_for("student.attempt", attempt_id=item.id), 303)


@bp.get("/progress")
def progress_index() -> str:
    store = services().rubrics
    rows = []
    for q in questions_attempted(db.session, current_student()):
        try:
            title = store.get(q.rubric_id).title
        except LookupError:  # the rubric file was removed: the history is still the student's
            title = q.rubric_id
        rows.append((q, title))
    return render_template("progress_index.html", rows=rows)


@bp.get("/progress/<rubric_id>")
def progress(rubric_id: str) -> str:
    items = attempts_for(db.session, current_student(), rubric_id)
    if not items:
        services().rubrics.get(rubric_id)  # unknown rubric: 404; known but not attempted: empty page
    try:
        rubric: Rubric | None = services().rubrics.get(rubric_id)
    except LookupError:
        rubric = None
    numbered = list(enumerate(items, start=1))
    points = [Point(f"Draft {n}", a.mark or 0, a.max_mark or 1, a.coverage or 0.0) for n, a in numbered if a.marked]
    chart = progress_chart(points) if points else None
    return render_template("progress.html", rubric_id=rubric_id, rubric=rubric, attempts=numbered, chart=chart)


@bp.get("/me/<token>")
def me(token: str) -> Response:
    """The private link: puts the token in this browser's cookie, then drops it from the address bar."""
    if find_student(db.session, token) is None:
        raise StudentNotFound()
    return remember(redirect(url_for("student.progress_index"), 303), token)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    return {"ok": True, "marking_ready": services().marking.ready.is_set()}


