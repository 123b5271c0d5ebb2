"""Teacher pages for rubrics: list, create or clone, edit (form or YAML), versions, import/export, "Try it"."""

from __future__ import annotations

from typing import Any

import yaml
from flask import (
    Blueprint,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ..rubric import MAX_RUBRIC_BYTES, Rubric, RubricError
from . import services
from .auth import me, require_teacher
from .extensions import db
from .highlight import highlight_essay, spans_from_result
from .models import RubricVersion
from .rubric_form import build, form_values, place_problems, row_indexes, to_yaml
from .rubric_store import (
    RubricIdTaken,
    create_rubric,
    file_yaml,
    latest,
    listing,
    record_for,
    rubric_of,
    save_version,
    slug_free,
    validate_yaml,
    version_of,
)
from .rubrics import RUBRIC_ID

bp = Blueprint("teacher_rubrics", __name__, url_prefix="/teacher/rubrics")
bp.before_request(require_teacher)

TRY_CHARS = 20_000
BLANK = {
    "title": "", "subject": "", "questions": [""],
    "scale": {"marks": [0, 20], "levels": [
        {"level": 1, "marks": [1, 5], "descriptor": "Simple statements with little relevant knowledge."},
        {"level": 2, "marks": [6, 10], "descriptor": "Some relevant knowledge, mostly described.", "min_score": 0.2},
        {"level": 3, "marks": [11, 15], "descriptor": "Explains several key ideas with support.", "min_score": 0.45, "requires_skills": ["explanation"]},
        {"level": 4, "marks": [16, 20], "descriptor": "Analytical, with a supported judgement.", "min_score": 0.7, "requires_skills": ["explanation", "judgement"]},
    ]},
    "concepts": [{"id": "", "label": "", "why": ""}],
}


def _values(form: MultiDict[str, str]) -> dict[str, Any]:
    """Submitted fields, with multi-value checkboxes (levels' required skills) kept as lists."""
    out: dict[str, Any] = {}
    for key in form:
        out[key] = form.getlist(key) if key.endswith("-requires_skills") else form.get(key, "")
    return out


def _editor(values: dict[str, Any], *, mode: str, slug: str = "", errors: dict[str, list[str]] | None = None,
            general: list[str] | None = None, status: int = 200, base: RubricVersion | None = None, sample: str = "") -> tuple[str, int]:
    return render_template(
        "teacher/rubric_editor.html", v=values, rows=row_indexes(values), mode=mode, slug=slug, errors=errors or {},
        general=general or [], base=base, sample=sample,
    ), status


def _add_row(values: dict[str, Any], action: str) -> None:
    """The no-script way to add a row: "add-concepts" etc. re-renders the form with one more empty row."""
    kind = action.removeprefix("add-")
    if kind not in ("concepts", "misconceptions", "levels", "rules"):
        return
    rows = row_indexes(values)[kind]
    nxt = (max(rows) + 1) if rows else 0
    values[f"{kind}-{nxt}-{'label' if kind in ('concepts', 'misconceptions') else 'descriptor'}"] = ""


def _mark_skills_shown(values: dict[str, Any]) -> dict[str, Any]:
    for sid in ("judgement", "counter_argument", "evidence", "explanation", "focus"):
        values[f"skills-{sid}-shown"] = "1"
    return values


@bp.get("/")
def index() -> str:
    return render_template("teacher/rubrics.html", rubrics=listing(db.session, me(), services().rubrics))


@bp.get("/new")
def new() -> tuple[str, int]:
    source = request.args.get("from", "")
    base: RubricVersion | None = None
    if source:
        data, base_slug = _source_data(source, request.args.get("v", type=int))
        suggestion = _free_slug(f"{base_slug}-copy")
        data["title"] = f"{data.get('title', '')} (copy)"
    else:
        data, suggestion = dict(BLANK), ""
    values = _mark_skills_shown(form_values(data))
    values["slug"] = suggestion
    return _editor(values, mode="new", base=base)


def _free_slug(wanted: str) -> str:
    wanted = wanted[:60]
    candidate, n = wanted, 2
    while slug_free(db.session, services().rubrics, candidate):
        candidate, n = f"{wanted}-{n}", n + 1
    return candidate


def _source_data(slug: str, number: int | None) -> tuple[dict[str, Any], str]:
    """YAML data of a rubric file or one of the teacher's own versions, to clone."""
    files = services().rubrics
    if slug in files.ids():
        return yaml.safe_load(file_yaml(files, slug)), slug
    record = record_for(db.session, me(), slug)
    version = version_of(db.session, record, number) if number else latest(db.session, record)
    return yaml.safe_load(version.yaml), slug


def _check(built: Any, source: str) -> tuple[dict[str, list[str]], list[str], Rubric | None]:
    """Problems from reading the form and from the rubric validator, each on its field; the rubric when valid."""
    try:
        rubric = validate_yaml(to_yaml(built.data), source)
    except RubricError as exc:
        return (*place_problems(built, exc), None)
    errors = {k: list(v) for k, v in built.errors.items()}
    return errors, [], None if errors else rubric


@bp.post("/new")
def create() -> Response | tuple[str, int]:
    values = _values(request.form)
    action = request.form.get("action", "save")
    if action.startswith("add-"):
        _add_row(values, action)
        return _editor(values, mode="new")
    slug = values.get("slug", "").strip().lower()
    built = build(values, slug=slug or "new-rubric")
    errors, general, _ = _check(built, slug or "new-rubric")
    problem = slug_free(db.session, services().rubrics, slug)
    if problem:
        errors.setdefault("slug", []).insert(0, problem)
    if errors or general:
        taken = bool(problem) and RUBRIC_ID.match(slug) is not None and len(errors) == 1 and not general
        return _editor(values, mode="new", errors=errors, general=general, status=409 if taken else 400)
    try:
        version = create_rubric(db.session, me(), services().rubrics, slug, to_yaml(built.data), note=request.form.get("note") or None)
    except RubricIdTaken as exc:  # taken between the check and the save
        return _editor(values, mode="new", errors={"slug": [str(exc)]}, status=409)
    return redirect(url_for("teacher_rubrics.show", slug=version.record.slug, saved=1), 303)


@bp.get("/files/<slug>")
def show_file(slug: str) -> str:
    files = services().rubrics
    rubric = files.get(slug)
    return render_template("teacher/rubric.html", rubric=rubric, slug=slug, origin="file", versions=[], current=None, saved=False)


@bp.get("/files/<slug>.yaml")
def export_file(slug: str) -> Response:
    return _yaml_download(file_yaml(services().rubrics, slug), f"{slug}.yaml")


@bp.get("/<slug>")
def show(slug: str) -> str:
    record = record_for(db.session, me(), slug)
    current = latest(db.session, record)
    return render_template(
        "teacher/rubric.html", rubric=rubric_of(current), slug=slug, origin="app", versions=list(reversed(record.versions)),
        current=current, saved=bool(request.args.get("saved")),
    )


@bp.get("/<slug>/v<int:number>.yaml")
def export_version(slug: str, number: int) -> Response:
    version = version_of(db.session, record_for(db.session, me(), slug), number)
    return _yaml_download(version.yaml, f"{slug}-v{number}.yaml")


def _yaml_download(text: str, filename: str) -> Response:
    return Response(text, mimetype="application/yaml", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/<slug>/edit")
def edit(slug: str) -> tuple[str, int]:
    record = record_for(db.session, me(), slug)
    current = latest(db.session, record)
    return _editor(_mark_skills_shown(form_values(yaml.safe_load(current.yaml))), mode="edit", slug=slug, base=current)


@bp.post("/<slug>/edit")
def save(slug: str) -> Response | tuple[str, int]:
    record = record_for(db.session, me(), slug)
    current = latest(db.session, record)
    values = _values(request.form)
    action = request.form.get("action", "save")
    if action.startswith("add-"):
        _add_row(values, action)
        return _editor(values, mode="edit", slug=slug, base=current)
    built = build(values, slug=slug, version=current.version + 1)
    errors, general, _ = _check(built, slug)
    if errors or general:  # an invalid rubric is never saved
        return _editor(values, mode="edit", slug=slug, errors=errors, general=general, status=400, base=current)
    version = save_version(db.session, me(), record, to_yaml(built.data), note=request.form.get("note") or None)
    return redirect(url_for("teacher_rubrics.show", slug=slug, saved=version.version), 303)


@bp.route("/<slug>/yaml", methods=["GET", "POST"])
def edit_yaml(slug: str) -> Response | tuple[str, int]:
    """The whole rubric as YAML, for anything easier to write than to click (comments are kept)."""
    record = record_for(db.session, me(), slug)
    current = latest(db.session, record)
    if request.method == "GET":
        return render_template("teacher/rubric_yaml.html", slug=slug, text=current.yaml, problems=[], current=current), 200
    text = request.form.get("yaml", "")
    try:
        version = save_version(db.session, me(), record, text, note=request.form.get("note") or "edited as YAML")
    except RubricError as exc:
        return render_template("teacher/rubric_yaml.html", slug=slug, text=text, problems=exc.problems, current=current), 400
    return redirect(url_for("teacher_rubrics.show", slug=slug, saved=version.version), 303)


@bp.route("/import", methods=["GET", "POST"])
def import_yaml() -> Response | tuple[str, int]:
    if request.method == "GET":
        return render_template("teacher/rubric_import.html", problems=[], slug="", error=None), 200
    upload = request.files.get("file")
    slug = request.form.get("slug", "").strip().lower()
    if upload is None or not upload.filename:
        return render_template("teacher/rubric_import.html", problems=[], slug=slug, error="Choose a .yaml file to import."), 400
    data = upload.read(MAX_RUBRIC_BYTES + 1)
    try:
        text = data.decode("utf-8-sig")
        if len(data) > MAX_RUBRIC_BYTES:
            raise ValueError(f"the file is more than {MAX_RUBRIC_BYTES:,} bytes")
    except (UnicodeDecodeError, ValueError) as exc:
        reason = "not UTF-8 text: save it as UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
        return render_template("teacher/rubric_import.html", problems=[], slug=slug, error=f"{upload.filename}: {reason}."), 400
    if not slug:
        try:
            loaded = yaml.safe_load(text)
            slug = str(loaded.get("id", "")).strip().lower() if isinstance(loaded, dict) else ""
        except yaml.YAMLError:
            slug = ""
    try:
        version = create_rubric(db.session, me(), services().rubrics, slug, text, note=f"imported from {upload.filename[:200]}")
    except RubricIdTaken as exc:
        return render_template("teacher/rubric_import.html", problems=[], slug=slug, error=str(exc)), 409
    except RubricError as exc:
        return render_template("teacher/rubric_import.html", problems=exc.problems, slug=slug, error=None), 400
    return redirect(url_for("teacher_rubrics.show", slug=version.record.slug, saved=1), 303)


@bp.post("/try.json")
def try_it() -> Response | tuple[Response, int]:
    """Mark a sample paragraph with the rubric as it is in the editor now (nothing is saved)."""
    values = _values(request.form)
    sample = request.form.get("sample", "")[:TRY_CHARS]
    built = build(values, slug=(values.get("slug") or "draft").strip().lower() or "draft")
    errors, general, rubric = _check(built, "draft")
    if rubric is None:
        return jsonify(ok=False, errors=errors, general=general)
    if not sample.strip():
        return jsonify(ok=True, empty=True, errors={}, general=[])
    sample = sample.replace("\r\n", "\n")
    result = services().marking.mark(sample, rubric, "try")
    return jsonify(ok=True, errors={}, general=[], **_matches(result, sample, rubric))


def _matches(result: dict[str, Any], text: str, rubric: Rubric) -> dict[str, Any]:
    concepts = [
        {
            "number": n, "label": c["label"], "state": "developed" if c["developed"] else "found" if c["found"] else "missing",
            "matched": sorted({ev["text"] for ev in c["evidence"]}),
        }
        for n, c in enumerate(result["concepts"], start=1)
    ]
    misconceptions = [{"label": m["label"], "matched": sorted({ev["text"] for ev in m["evidence"]})} for m in result["misconceptions"]]
    return {
        "html": str(highlight_essay(text, spans_from_result(result, text))), "concepts": concepts, "misconceptions": misconceptions,
        "mark": result["mark"], "max_mark": result["max_mark"], "level": result["level"], "words": result["word_count"],
    }
