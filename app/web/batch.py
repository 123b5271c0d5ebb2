"""Teacher pages for batch marking: upload a class (zip or CSV), watch the job's progress, re-mark with a newer version."""

from __future__ import annotations

from flask import (
    Blueprint,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from . import services
from .assignments import assignment_for
from .auth import me, require_teacher
from .batches import enqueue_remark, enqueue_upload, job_for, progress
from .extensions import db
from .models import RubricVersion
from .rubrics import UnknownRubric
from .uploads import MAX_UPLOAD_BYTES, UploadRefused, read_upload

bp = Blueprint("batch", __name__, url_prefix="/teacher")
bp.before_request(require_teacher)


def _wake() -> None:
    worker = services().worker
    if worker is not None:
        worker.wake()


@bp.post("/assignments/<int:assignment_id>/upload")
def upload(assignment_id: int) -> Response | tuple[str, int]:
    """Read the upload now (bad files are reported by name), queue the essays, and return to the results page."""
    a = assignment_for(db.session, me(), assignment_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        return _refused(a.id, "Choose a .zip or .csv file to upload.")
    data = file.read(MAX_UPLOAD_BYTES + 1)
    try:
        class_upload = read_upload(data, file.filename)
    except UploadRefused as exc:
        return _refused(a.id, str(exc))
    job = enqueue_upload(db.session, me(), a, class_upload, file.filename)
    _wake()
    return redirect(url_for("teacher.assignment", assignment_id=a.id, job=job.id) + "#progress", 303)


def _refused(assignment_id: int, message: str) -> tuple[str, int]:
    a = assignment_for(db.session, me(), assignment_id)
    return render_template("teacher/upload_refused.html", a=a, message=message), 400


@bp.get("/jobs/<int:job_id>.json")
def job_progress(job_id: int) -> Response:
    """Polled by static/js/teacher.js for the progress bar."""
    job = job_for(db.session, me(), job_id)
    return jsonify(progress(db.session, job).as_json())


@bp.post("/assignments/<int:assignment_id>/remark")
def remark(assignment_id: int) -> Response:
    """The explicit action that re-marks the class with another version; earlier results are kept as they were."""
    a = assignment_for(db.session, me(), assignment_id)
    version = db.session.get(RubricVersion, request.form.get("version", type=int) or 0)
    if version is None or version.rubric_pk != a.rubric_version.rubric_pk:
        raise UnknownRubric(str(request.form.get("version", ""))[:20])
    job = enqueue_remark(db.session, me(), a, version)
    _wake()
    return redirect(url_for("teacher.assignment", assignment_id=a.id, job=job.id) + "#progress", 303)
