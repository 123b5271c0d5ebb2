"""JSON API /api/v1: feedback on an essay, the rubrics served, and the OpenAPI document describing both."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from ..rubric import Rubric
from . import services
from .errors import InvalidRequest, MalformedJSON, UnsupportedMediaType
from .openapi import openapi_document
from .rubrics import criteria_visible

bp = Blueprint("api", __name__, url_prefix="/api/v1")

FEEDBACK_FIELDS = {"rubric", "text"}


def rubric_summary(rubric_id: str, rubric: Rubric) -> dict[str, Any]:
    return {
        "id": rubric_id,
        "title": rubric.title,
        "subject": rubric.subject,
        "version": rubric.version,
        "question": rubric.questions[0],
        "scoring": rubric.scoring.method,
        "min_mark": rubric.min_mark,
        "max_mark": rubric.max_mark,
    }


def rubric_detail(rubric_id: str, rubric: Rubric, show_criteria: bool) -> dict[str, Any]:
    detail = rubric_summary(rubric_id, rubric)
    detail["questions"] = list(rubric.questions)
    detail["levels"] = [{"level": lv.level, "marks": list(lv.marks), "descriptor": lv.descriptor} for lv in rubric.levels_sorted()]
    detail["success_criteria"] = (
        [{"id": c.id, "label": c.label, "why": c.why} for c in rubric.concepts] if show_criteria else None
    )
    return detail


def _json_body() -> Any:
    if not request.is_json:
        raise UnsupportedMediaType('Send JSON with the header Content-Type: application/json, e.g. {"rubric": "...", "text": "..."}.')
    try:
        return json.loads(request.get_data(cache=False))
    except ValueError:  # includes bad UTF-8
        raise MalformedJSON("The request body is not valid JSON.") from None


@bp.post("/feedback")
def feedback() -> Response:
    body = _json_body()
    if not isinstance(body, dict):
        raise InvalidRequest('The body must be a JSON object: {"rubric": "<rubric id>", "text": "<the essay>"}.')
    missing = sorted(FEEDBACK_FIELDS - body.keys())
    if missing:
        raise InvalidRequest(f"Missing field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.")
    unknown = sorted(set(body) - FEEDBACK_FIELDS)
    if unknown:
        raise InvalidRequest(f"Unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)[:200]}; send only rubric and text.")
    for name in sorted(FEEDBACK_FIELDS):
        if not isinstance(body[name], str):
            raise InvalidRequest(f"'{name}' must be a string.")
    store = services()
    rubric = store.rubrics.get(body["rubric"])
    # Offsets in the result refer to the text exactly as sent, so it is marked unchanged.
    return jsonify(store.marking.mark(body["text"], rubric, "api"))


@bp.get("/rubrics")
def rubrics() -> Response:
    return jsonify(rubrics=[rubric_summary(rid, r) for rid, r in services().rubrics.all()])


@bp.get("/rubrics/<rubric_id>")
def rubric(rubric_id: str) -> Response:
    r = services().rubrics.get(rubric_id)
    return jsonify(rubric_detail(rubric_id, r, criteria_visible(current_app.config["SHOW_CRITERIA"], rubric_id)))


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(url_for("api.feedback", _external=True).rsplit("/", 1)[0]))
