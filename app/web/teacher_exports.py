"""Teacher exports: gradebook CSVs (Moodle, Canvas, Google Classroom), full CSV and JSON, feedback pages (print or zip)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, render_template, request
from werkzeug.wrappers import Response

from . import exports
from .assignments import assignment_for, class_rows
from .auth import me, require_teacher
from .classview import class_results
from .extensions import db
from .highlight import highlight_essay, spans_from_result
from .models import Assignment
from .overrides import override_of
from .rubric_store import rubric_of
from .rubrics import UnknownRubric

bp = Blueprint("teacher_exports", __name__, url_prefix="/teacher/assignments/<int:assignment_id>")
bp.before_request(require_teacher)


def _download(body: str | bytes, filename: str, mimetype: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _gradebooks(a: Assignment, identifier: str) -> dict[str, exports.Gradebook]:
    rows = class_rows(db.session, a)
    rubric = rubric_of(a.rubric_version)
    return {
        "moodle": exports.moodle(a, rows, identifier),
        "canvas": exports.canvas(a, rows, rubric.max_mark),
        "classroom": exports.classroom(a, rows),
    }


@bp.get("/exports")
def index(assignment_id: int) -> str:
    a = assignment_for(db.session, me(), assignment_id)
    identifier = request.args.get("by", "email")
    return render_template("teacher/exports.html", a=a, books=_gradebooks(a, identifier), by=identifier)


@bp.get("/export/<kind>.csv")
def gradebook_csv(assignment_id: int, kind: str) -> Response:
    a = assignment_for(db.session, me(), assignment_id)
    if kind == "results":
        rows = class_rows(db.session, a)
        results = class_results(rows)
        concept_ids = [c.id for c in rubric_of(a.rubric_version).concepts]
        text = exports.results_csv(a, rows, concept_ids, results.flags)
        return _download(text, f"{exports.slug(a.title)}-results.csv", "text/csv")
    if kind not in exports.GRADEBOOKS:
        raise UnknownRubric(kind)  # an unknown export: 404
    book = _gradebooks(a, request.args.get("by", "email"))[kind]
    return _download(book.text, book.filename, "text/csv")


@bp.get("/export/results.json")
def results_json(assignment_id: int) -> Response:
    a = assignment_for(db.session, me(), assignment_id)
    rows = class_rows(db.session, a)
    v = a.rubric_version
    rubric = {"id": v.record.slug, "version": v.version, "title": v.title}
    text = exports.results_json(a, rows, class_results(rows).flags, rubric)
    return _download(text, f"{exports.slug(a.title)}-results.json", "application/json")


def _reports(a: Assignment) -> list[dict[str, Any]]:
    """Every student with a marked essay, in name order, with what teacher/_report.html shows."""
    out = []
    for r in class_rows(db.session, a):
        attempt = r.attempt
        if attempt is None or not attempt.marked or not attempt.result:
            continue
        out.append({
            "member": r.member, "attempt": attempt, "r": attempt.result, "override": override_of(db.session, attempt),
            "essay": highlight_essay(attempt.text, spans_from_result(attempt.result, attempt.text)),
        })
    return out


@bp.get("/feedback")
def print_all(assignment_id: int) -> str:
    """Every student's feedback, one per printed page."""
    a = assignment_for(db.session, me(), assignment_id)
    return render_template("teacher/print_all.html", a=a, reports=_reports(a))


@bp.get("/export/feedback.zip")
def feedback_zip(assignment_id: int) -> Response:
    a = assignment_for(db.session, me(), assignment_id)
    reports = _reports(a)
    names = exports.page_filenames([rep["member"].name for rep in reports])
    pages = [(name, render_template("teacher/feedback_page.html", a=a, standalone=True, **rep)) for name, rep in zip(names, reports)]
    index = render_template("teacher/feedback_index.html", a=a, entries=list(zip(names, reports)))
    css = (Path(current_app.static_folder or "") / "css" / "app.css").read_bytes()
    return _download(exports.feedback_zip(pages, index, css), f"{exports.slug(a.title)}-feedback.zip", "application/zip")
