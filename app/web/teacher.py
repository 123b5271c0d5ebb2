"""Teacher pages: dashboard, assignments (create, settings), the results table, students, overrides, class view."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from . import services
from .assignments import (
    InvalidAssignment,
    MemberNotFound,
    Settings,
    assignment_for,
    assignments_of,
    class_rows,
    create_assignment,
    is_open,
    member_attempts,
    member_for,
    member_of,
    update_assignment,
    update_member,
)
from .auth import me, require_teacher
from .batches import active_jobs, progress, recent_jobs
from .charts import mark_distribution
from .classview import SORTS, class_results, concepts_of, heatmap
from .extensions import db
from .highlight import highlight_essay, spans_from_result
from .models import Assignment, Attempt, RubricVersion
from .overrides import InvalidOverride, override_of, save_override
from .rubric_store import listing, record_for, rubric_of, snapshot_file, version_of
from .rubrics import UnknownRubric

bp = Blueprint("teacher", __name__, url_prefix="/teacher")
bp.before_request(require_teacher)


def load(assignment_id: int) -> Assignment:
    return assignment_for(db.session, me(), assignment_id)


@bp.get("/")
def dashboard() -> str:
    return render_template("teacher/dashboard.html", assignments=assignments_of(db.session, me()), is_open=is_open)


# -- creating and editing assignments -------------------------------------------------------------
def rubric_choices() -> list[tuple[str, str]]:
    """(value, label) for every rubric version a teacher may set: rubric files, then every version of their own."""
    out = []
    for item in listing(db.session, me(), services().rubrics):
        if item.origin == "file":
            out.append((f"file:{item.slug}", f"{item.title} (rubric file, version {item.version})"))
        else:
            record = record_for(db.session, me(), item.slug)
            for v in reversed(record.versions):
                out.append((f"app:{item.slug}:{v.version}", f"{v.title} ({item.slug}, version {v.version})"))
    return out


def chosen_version(value: str) -> RubricVersion:
    kind, _, rest = value.partition(":")
    if kind == "file":
        return snapshot_file(db.session, services().rubrics, rest)
    slug, _, number = rest.rpartition(":")
    if kind != "app" or not number.isdigit():
        raise UnknownRubric(value[:64])
    return version_of(db.session, record_for(db.session, me(), slug), int(number))


def _day(raw: str, *, end: bool) -> datetime | None:
    """A date field as a UTC moment: the start of the day to open, the end of the day to close."""
    if not raw.strip():
        return None
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidAssignment("closes_at" if end else "opens_at", f"'{raw[:20]}' is not a date (YYYY-MM-DD).") from None
    moment = datetime.combine(day, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if end else moment


def settings_from_form(default_question: str = "") -> Settings:
    f = request.form
    return Settings(
        title=f.get("title", ""), question=f.get("question", "").strip() or default_question,
        opens_at=_day(f.get("opens_at", ""), end=False), closes_at=_day(f.get("closes_at", ""), end=True),
        show_criteria=bool(f.get("show_criteria")), show_concepts=bool(f.get("show_concepts")),
        show_hints=bool(f.get("show_hints")), show_mark=bool(f.get("show_mark")),
    )


@bp.get("/assignments/new")
def new_assignment() -> str:
    return render_template("teacher/assignment_form.html", assignment=None, choices=rubric_choices(), form={"rubric": request.args.get("rubric", ""),
                           "show_criteria": "1", "show_concepts": "1", "show_hints": "1", "show_mark": "1"}, error=None, field=None)


@bp.post("/assignments/new")
def create() -> Response | tuple[str, int]:
    form = request.form.to_dict()
    try:
        version = chosen_version(form.get("rubric", ""))
        assignment = create_assignment(db.session, me(), version, settings_from_form(rubric_of(version).questions[0]))
    except (InvalidAssignment, UnknownRubric) as exc:
        field = exc.field if isinstance(exc, InvalidAssignment) else "rubric"
        message = str(exc) if isinstance(exc, InvalidAssignment) else "Choose one of your rubrics."
        return render_template("teacher/assignment_form.html", assignment=None, choices=rubric_choices(), form=form, error=message, field=field), 400
    return redirect(url_for("teacher.assignment", assignment_id=assignment.id), 303)


@bp.route("/assignments/<int:assignment_id>/settings", methods=["GET", "POST"])
def settings(assignment_id: int) -> Response | tuple[str, int]:
    a = load(assignment_id)
    if request.method == "GET":
        form = {"title": a.title, "question": a.question, "opens_at": _date_value(a.opens_at, end=False), "closes_at": _date_value(a.closes_at, end=True),
                **{k: "1" if getattr(a, k) else "" for k in ("show_criteria", "show_concepts", "show_hints", "show_mark")}}
        return render_template("teacher/assignment_form.html", assignment=a, choices=[], form=form, error=None, field=None), 200
    try:
        update_assignment(db.session, a, settings_from_form(a.question))
    except InvalidAssignment as exc:
        return render_template("teacher/assignment_form.html", assignment=a, choices=[], form=request.form.to_dict(), error=str(exc), field=exc.field), 400
    return redirect(url_for("teacher.assignment", assignment_id=a.id), 303)


def _date_value(moment: datetime | None, *, end: bool) -> str:
    if moment is None:
        return ""
    return ((moment - timedelta(days=1)) if end else moment).date().isoformat()


# -- results -------------------------------------------------------------------------------------
def newer_versions(a: Assignment) -> list[RubricVersion]:
    """Versions of the assignment's rubric the teacher can re-mark with (their own rubrics only)."""
    current = a.rubric_version
    if current.record.origin != "app":
        return []
    return [v for v in reversed(current.record.versions) if v.id != current.id]


@bp.get("/assignments/<int:assignment_id>")
def assignment(assignment_id: int) -> str:
    a = load(assignment_id)
    sort = request.args.get("sort", "name")
    sort = sort if sort in SORTS else "name"
    descending = request.args.get("dir", "desc" if sort in ("mark", "level", "coverage", "flags") else "asc") == "desc"
    results = class_results(class_rows(db.session, a))
    jobs = [progress(db.session, j) for j in active_jobs(db.session, a)]
    recent = [(j, progress(db.session, j)) for j in recent_jobs(db.session, a)]
    return render_template(
        "teacher/assignment.html", a=a, rows=results.sorted(sort, descending), results=results, sort=sort, descending=descending,
        jobs=jobs, recent=recent, rubric=rubric_of(a.rubric_version), is_open=is_open(a), newer=newer_versions(a),
        join_url=url_for("classroom.join_page", code=a.code, _external=True),
    )


@bp.get("/assignments/<int:assignment_id>/class")
def class_view(assignment_id: int) -> str:
    a = load(assignment_id)
    rows = class_rows(db.session, a)
    rubric = rubric_of(a.rubric_version)
    sort = request.args.get("sort", "name")
    hm = heatmap(rows, concepts_of(rubric), sort=sort if sort in ("name", "mark", "coverage") else "name")
    marks = [r.final_mark for r, _ in hm.rows if r.final_mark is not None]
    chart = mark_distribution(marks, rubric.min_mark, rubric.max_mark)
    return render_template("teacher/class_view.html", a=a, hm=hm, chart=chart, rubric=rubric, marks=marks, sort=sort)


@bp.get("/assignments/<int:assignment_id>/compare/<int:first>/<int:second>")
def compare(assignment_id: int, first: int, second: int) -> str:
    a = load(assignment_id)
    results = class_results(class_rows(db.session, a))
    by_member = {r.member.id: r for r in results.rows}
    left, right = member_for(db.session, a, first), member_for(db.session, a, second)
    pair = next((p for p in results.pairs if {p.a, p.b} == {left.id, right.id}), None)
    return render_template("teacher/compare.html", a=a, left=by_member[left.id], right=by_member[right.id], pair=pair)


# -- one student ---------------------------------------------------------------------------------
def report_context(a: Assignment, attempt: Attempt | None) -> dict[str, Any]:
    """What templates/teacher/_report.html needs for one essay."""
    if attempt is None or not attempt.marked or not attempt.result:
        return {"attempt": attempt, "r": None, "essay": None, "override": None}
    return {
        "attempt": attempt, "r": attempt.result, "override": override_of(db.session, attempt),
        "essay": highlight_essay(attempt.text, spans_from_result(attempt.result, attempt.text)),
    }


@bp.get("/assignments/<int:assignment_id>/students/<int:member_id>")
def student(assignment_id: int, member_id: int) -> str:
    a = load(assignment_id)
    member = member_for(db.session, a, member_id)
    history = member_attempts(db.session, a, member)
    wanted = request.args.get("attempt", type=int)
    shown = next((x for x in history if x.id == wanted), history[-1] if history else None)
    return render_template("teacher/student.html", a=a, member=member, history=history, errors={}, **report_context(a, shown))


@bp.post("/assignments/<int:assignment_id>/students/<int:member_id>")
def update_student(assignment_id: int, member_id: int) -> Response | tuple[str, int]:
    a = load(assignment_id)
    member = member_for(db.session, a, member_id)
    try:
        update_member(db.session, member, request.form.get("name", ""), request.form.get("email", ""), request.form.get("sis_id", ""))
    except InvalidAssignment as exc:
        db.session.rollback()
        history = member_attempts(db.session, a, member)
        ctx = report_context(a, history[-1] if history else None)
        return render_template("teacher/student.html", a=a, member=member, history=history, errors={exc.field: str(exc)}, **ctx), 400
    return redirect(url_for("teacher.student", assignment_id=a.id, member_id=member.id), 303)


@bp.post("/assignments/<int:assignment_id>/attempts/<int:attempt_id>/override")
def override(assignment_id: int, attempt_id: int) -> Response | tuple[str, int]:
    a = load(assignment_id)
    attempt = db.session.get(Attempt, attempt_id)
    member = member_of(db.session, a, attempt.student) if attempt is not None and attempt.assignment_id == a.id else None
    if attempt is None or member is None:
        raise MemberNotFound()
    try:
        save_override(db.session, me(), attempt, request.form.get("mark", ""), request.form.get("comment", ""))
    except InvalidOverride as exc:
        history = member_attempts(db.session, a, member)
        ctx = report_context(a, attempt)
        return render_template("teacher/student.html", a=a, member=member, history=history, errors={exc.field: str(exc)},
                               typed={"mark": request.form.get("mark", ""), "comment": request.form.get("comment", "")}, **ctx), 400
    return redirect(url_for("teacher.student", assignment_id=a.id, member_id=member.id, attempt=attempt.id, saved=1) + "#override", 303)
