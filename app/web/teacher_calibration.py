"""Teacher page for calibration: train on my marks, read the agreement report, adopt or stop using the model (issue 5)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..calibrate import ModelError
from ..calibrate_report import MIN_ESSAYS
from ..calibrate_store import adopt, drop, save
from ..calibrate_train import train_marked
from ..evaluate import DataError
from . import services
from .auth import me, require_teacher
from .calibration import Marks, feedback_links, marks_for, model_state
from .extensions import db

bp = Blueprint("teacher_calibration", __name__, url_prefix="/teacher/calibration")
bp.before_request(require_teacher)

DONE = {"adopted": "The calibrated marks are now used for this rubric.", "dropped": "Calibration is no longer used: marks come from the rubric again."}


def _marks(rubric_id: str) -> Marks:
    return marks_for(db.session, me(), services().rubrics, rubric_id)


def _page(marks: Marks, *, report: dict[str, Any] | None = None, links: dict[str, Any] | None = None,
          error: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "teacher/calibration.html", m=marks, rubric=marks.rubric, state=model_state(marks.rubric), report=report, links=links or {},
        error=error, done=DONE.get(request.args.get("done", "")), minimum=MIN_ESSAYS,
    ), status


@bp.get("/<rubric_id>")
def page(rubric_id: str) -> tuple[str, int]:
    return _page(_marks(rubric_id))


@bp.post("/<rubric_id>/train")
def train(rubric_id: str) -> tuple[str, int]:
    marks = _marks(rubric_id)
    try:
        training = train_marked(marks.essays, marks.rubric, source="teacher overrides")
    except DataError as exc:
        return _page(marks, error=str(exc), status=400)
    save(training.model)
    links = feedback_links(db.session, me(), [w["id"] for w in training.report["most_disagreed"]])
    return _page(marks, report=training.report, links=links)


@bp.post("/<rubric_id>/adopt")
def use(rubric_id: str) -> Response | tuple[str, int]:
    marks = _marks(rubric_id)
    try:
        adopt(marks.rubric)
    except ModelError as exc:  # NotAdoptable, ModelMismatch, NoModel: said as it is
        return _page(marks, error=str(exc), status=409)
    return redirect(url_for("teacher_calibration.page", rubric_id=marks.rubric.id, done="adopted"), 303)


@bp.post("/<rubric_id>/drop")
def stop(rubric_id: str) -> Response | tuple[str, int]:
    marks = _marks(rubric_id)
    try:
        drop(marks.rubric.id)
    except ModelError as exc:
        return _page(marks, error=str(exc), status=409)
    return redirect(url_for("teacher_calibration.page", rubric_id=marks.rubric.id, done="dropped"), 303)
