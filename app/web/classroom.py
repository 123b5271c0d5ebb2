"""Students in a teacher's class: join with the class code and a name, then write, get feedback and revise.

The pages are the student app's own (write.html, feedback.html); the assignment decides the question, the rubric
version and what the student sees (success criteria before; concept names, hints and the mark after).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import (
    Blueprint,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from ..readers import MAX_BYTES, UnreadableEssay
from . import services
from .accounts import JOIN_LIMIT, TooManyAttempts, check_limit, record_failure
from .assignments import (
    AssignmentClosed,
    InvalidAssignment,
    InvalidCode,
    by_code,
    check_open,
    join,
    member_of,
)
from .attempts import (
    AttemptNotFound,
    diff_results,
    draft_number,
    get_attempt,
    mark_attempt,
    normalise_text,
    own_attempt,
    previous_attempt,
    save_attempt,
)
from .auth import client_ip
from .errors import UploadTooLarge, status_for
from .extensions import db
from .highlight import highlight_essay, spans_from_result
from .identity import current_student, ensure_student, set_new_token_cookie
from .models import Assignment, Attempt, Member, RubricVersion
from .overrides import override_of
from .rubric_store import rubric_of
from .student import _essay_from_request

bp = Blueprint("classroom", __name__)
LEVEL_TARGET = "To reach Level "  # how app/feedback.py words the target that names the next level
bp.after_request(set_new_token_cookie)  # a student who joins here for the first time gets their cookie


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    def my_classes() -> list[tuple[Assignment, Member]]:
        """The classes this browser's student has joined, newest first (for the home page)."""
        from sqlalchemy import select

        student = current_student()
        if student is None:
            return []
        q = select(Assignment, Member).join(Member, Member.assignment_id == Assignment.id)
        q = q.where(Member.student_id == student.id, Member.origin == "joined").order_by(Member.id.desc())
        return [(a, m) for a, m in db.session.execute(q)]

    return {"my_classes": my_classes}


@dataclass(frozen=True)
class Visibility:
    """What the student sees after submitting."""

    concepts: bool = True
    hints: bool = True
    mark: bool = True


def visibility(a: Assignment) -> Visibility:
    return Visibility(a.show_concepts, a.show_hints, a.show_mark)


def draft_key(a: Assignment, parent_id: int | None) -> str:
    return f"essaycoach:draft:class:{a.code}:{parent_id or 'new'}"


@bp.get("/join")
def join_page() -> str:
    return render_template("join.html", code=request.args.get("code", ""), name="", error=None)


@bp.post("/join")
def join_post() -> Response | tuple[str, int]:
    code, name = request.form.get("code", ""), request.form.get("name", "")
    try:
        check_limit(db.session, client_ip(), "join", JOIN_LIMIT)
        a = by_code(db.session, code)
        check_open(a)
        member = join(db.session, a, ensure_student(), name)
    except InvalidCode as exc:
        record_failure(db.session, client_ip(), "join")
        return render_template("join.html", code=code[:20], name=name[:80], error=str(exc)), 404
    except (TooManyAttempts, AssignmentClosed, InvalidAssignment) as exc:
        status = status_for(exc)
        return render_template("join.html", code=code[:20], name=name[:80], error=str(exc)), status[0] if status else 400
    return redirect(url_for("classroom.write", code=a.code, joined=member.id), 303)


def _membership(code: str) -> tuple[Assignment, Member | None]:
    a = by_code(db.session, code)
    return a, member_of(db.session, a, current_student())


def _parent(a: Assignment, raw: str | None) -> Attempt | None:
    attempt = own_attempt(db.session, current_student(), raw)
    return attempt if attempt is not None and attempt.assignment_id == a.id else None


def _write_page(a: Assignment, member: Member, *, text: str = "", parent: Attempt | None = None, error: str | None = None, status: int = 200) -> tuple[str, int]:
    from flask import session

    session.permanent = True
    return render_template(
        "write.html", rubric_id=a.rubric_version.record.slug, rubric=rubric_of(a.rubric_version), text=text, parent=parent, error=error,
        show_criteria=a.show_criteria, draft_key=draft_key(a, parent.id if parent else None), max_bytes=MAX_BYTES,
        assignment=a, member=member, question=a.question, form_action=url_for("classroom.submit", code=a.code),
    ), status


@bp.get("/class/<code>")
def write(code: str) -> Response | tuple[str, int]:
    a, member = _membership(code)
    if member is None:
        return redirect(url_for("classroom.join_page", code=a.code), 303)
    parent = _parent(a, request.args.get("revise"))
    return _write_page(a, member, text=parent.text if parent else "", parent=parent)


@bp.post("/class/<code>")
def submit(code: str) -> Response | tuple[str, int]:
    a, member = _membership(code)
    if member is None:
        return redirect(url_for("classroom.join_page", code=a.code), 303)
    parent = _parent(a, request.form.get("parent"))
    typed = request.form.get("essay", "")
    store = services()
    try:
        check_open(a)
        text, source = _essay_from_request()
        text = normalise_text(text)
        store.marking.check(text)
    except (UnreadableEssay, UploadTooLarge, AssignmentClosed, ValueError) as exc:
        mapped = status_for(exc)
        if mapped is None:
            raise
        message = f"{exc.name}: {exc.reason}" if isinstance(exc, UnreadableEssay) else str(exc)
        return _write_page(a, member, text=typed, parent=parent, error=message, status=mapped[0])
    version = a.rubric_version
    attempt = save_attempt(db.session, ensure_student(), version.record.slug, text, source=source, parent=parent,
                           assignment_id=a.id, rubric_version_id=version.id)
    mark_attempt(db.session, attempt, rubric_of(version), store.marking.mark)
    flash(draft_key(a, parent.id if parent else None), "clear-draft")
    return redirect(url_for("classroom.attempt", attempt_id=attempt.id), 303)


def _class_attempt(attempt_id: int) -> tuple[Attempt, Assignment]:
    item = get_attempt(db.session, current_student(), attempt_id)
    if item.assignment_id is None:
        raise AttemptNotFound()
    a = db.session.get(Assignment, item.assignment_id)
    assert a is not None
    return item, a


@bp.get("/class/attempts/<int:attempt_id>")
def attempt(attempt_id: int) -> tuple[str, int]:
    item, a = _class_attempt(attempt_id)
    number = draft_number(db.session, item)
    clear = get_flashed_messages(category_filter=["clear-draft"])
    if not item.marked:
        status = 500 if item.status == "failed" else 202
        retry = url_for("classroom.retry", attempt_id=item.id)
        return render_template("unmarked.html", attempt=item, number=number, clear_draft=clear, retry_url=retry), status
    vis = visibility(a)
    result = item.result or {}
    if not vis.mark:  # the engine's "To reach Level N (...)" target would tell the level the teacher hid
        feedback = dict(result.get("feedback") or {})
        feedback["targets"] = [t for t in feedback.get("targets", []) if not t.startswith(LEVEL_TARGET)]
        result = {**result, "feedback": feedback}
    prev = previous_attempt(db.session, item)
    changes = diff_results(prev.result, result) if prev is not None and prev.result else None
    spans = spans_from_result(result, item.text) if vis.concepts else []
    if not vis.hints:  # highlights still name the concept, but say nothing about why or the correction
        spans = [replace(s, note="") for s in spans]
    context: dict[str, Any] = {
        "attempt": item, "r": result, "number": number, "essay": highlight_essay(item.text, spans), "prev": prev,
        "prev_number": draft_number(db.session, prev) if prev else None, "changes": changes, "clear_draft": clear, "vis": vis,
        "assignment": a, "override": override_of(db.session, item),
        "revise_url": url_for("classroom.write", code=a.code, revise=item.id), "write_url": url_for("classroom.write", code=a.code),
        "prev_url": url_for("classroom.attempt", attempt_id=prev.id) if prev else None,
    }
    return render_template("feedback.html", **context), 200


@bp.post("/class/attempts/<int:attempt_id>/mark")
def retry(attempt_id: int) -> Response:
    item, _a = _class_attempt(attempt_id)
    version = db.session.get(RubricVersion, item.rubric_version_id) if item.rubric_version_id else None
    if not item.marked and version is not None:
        mark_attempt(db.session, item, rubric_of(version), services().marking.mark)
    return redirect(url_for("classroom.attempt", attempt_id=item.id), 303)
