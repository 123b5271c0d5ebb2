"""The OpenAPI 3.1 document for /api/v1; tests validate real responses against it, so it cannot drift."""

from __future__ import annotations

from typing import Any

from .. import __version__

_STR = {"type": "string"}
_INT = {"type": "integer"}
_SHARE = {"type": "number", "minimum": 0, "maximum": 1}


def _obj(props: dict[str, Any], *, extra: bool = False) -> dict[str, Any]:
    # Every listed field is always present; results may gain fields (the contract is only ever extended).
    return {"type": "object", "required": list(props), "properties": props, "additionalProperties": extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


_SUMMARY: dict[str, Any] = {
    "id": _STR, "title": _STR, "subject": _STR, "version": _INT, "question": _STR,
    "scoring": {"enum": ["levels", "points"]}, "min_mark": _INT, "max_mark": _INT,
}

SCHEMAS: dict[str, Any] = {
    "Evidence": _obj({"text": _STR, "start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 0}, "sentence": _STR}),
    "Concept": _obj({
        "id": _STR, "label": _STR, "found": {"type": "boolean"}, "developed": {"type": "boolean"},
        "precise": {"type": ["boolean", "null"]}, "weight": {"type": "number"}, "why": _STR, "message": _STR,
        "evidence": _list("Evidence"),
    }, extra=True),
    "Misconception": _obj({"id": _STR, "label": _STR, "message": _STR, "evidence": _list("Evidence")}, extra=True),
    "Skill": _obj({
        "id": {"enum": ["judgement", "counter_argument", "evidence", "explanation", "focus"]}, "label": _STR,
        "found": {"type": "boolean"}, "count": {"type": "integer", "minimum": 0}, "message": _STR, "evidence": _list("Evidence"),
    }, extra=True),
    "Flag": _obj({"id": _STR, "message": _STR}, extra=True),
    "Result": _obj({
        "source": _STR,
        "rubric": _obj({"id": _STR, "version": _INT, "title": _STR}, extra=True),
        "question": _STR,
        "word_count": {"type": "integer", "minimum": 0},
        "concepts": _list("Concept"),
        "misconceptions": _list("Misconception"),
        "skills": _list("Skill"),
        "coverage": _SHARE,
        "development": _SHARE,
        "skills_score": _SHARE,
        "key_elements": {"type": "integer", "minimum": 0},
        "mark": _INT,
        "min_mark": _INT,
        "max_mark": _INT,
        "level": {"type": ["integer", "null"]},
        "level_descriptor": _STR,
        "flags": _list("Flag"),
        "feedback": _obj({"strengths": {"type": "array", "items": _STR}, "targets": {"type": "array", "items": _STR}, "next_step": _STR}, extra=True),
        "engine": _obj({"version": _STR}, extra=True),
    }, extra=True),
    "RubricSummary": _obj(_SUMMARY),
    "RubricList": _obj({"rubrics": _list("RubricSummary")}),
    "Level": _obj({"level": _INT, "marks": {"type": "array", "items": _INT, "minItems": 2, "maxItems": 2}, "descriptor": _STR}),
    "Criterion": _obj({"id": _STR, "label": _STR, "why": _STR}),
    "RubricDetail": _obj({
        **_SUMMARY,
        "questions": {"type": "array", "items": _STR, "minItems": 1},
        "levels": {**_list("Level"), "description": "empty for a points rubric"},
        "success_criteria": {
            "description": "The key concepts, or null when the teacher does not let students see them.",
            "oneOf": [_list("Criterion"), {"type": "null"}],
        },
    }),
    "FeedbackRequest": _obj({
        "rubric": {"type": "string", "description": "a rubric id from GET /rubrics"},
        "text": {"type": "string", "description": "the essay; evidence offsets refer to it exactly as sent"},
    }),
    "Error": _obj({"error": _obj({"code": _STR, "message": _STR})}),
}


def _error(description: str, codes: list[str]) -> dict[str, Any]:
    return {
        "description": f"{description} (error.code: {', '.join(codes)})",
        "content": {"application/json": {"schema": _ref("Error")}},
    }


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def openapi_document(server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "EssayCoach API",
            "version": __version__,
            "description": "Feedback on practice essays against a rubric. Every error is {error: {code, message}}.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/feedback": {
                "post": {
                    "summary": "Mark an essay against a rubric",
                    "operationId": "feedback",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("FeedbackRequest")}}},
                    "responses": {
                        "200": _ok("The result: concepts with evidence offsets, misconceptions, skills, level, mark, feedback. An essay under the rubric's minimum length is marked and flagged too_short.", "Result"),
                        "400": _error("Empty or whitespace-only essay, missing or wrong fields, or malformed JSON", ["empty_essay", "invalid_request", "malformed_json"]),
                        "404": _error("No rubric with that id", ["unknown_rubric"]),
                        "413": _error("Over 20,000 words or 2,000,000 characters, or a body over 2 MB", ["essay_too_long", "too_large"]),
                        "415": _error("The body is not sent as application/json", ["unsupported_media_type"]),
                        "500": _error("The rubric file is invalid, or an unexpected error", ["rubric_invalid", "internal_error"]),
                    },
                }
            },
            "/rubrics": {
                "get": {
                    "summary": "The rubrics (questions) served",
                    "operationId": "listRubrics",
                    "responses": {"200": _ok("Valid rubrics, by title", "RubricList")},
                }
            },
            "/rubrics/{rubric_id}": {
                "get": {
                    "summary": "One rubric: question, levels and (if allowed) success criteria",
                    "operationId": "getRubric",
                    "parameters": [{"name": "rubric_id", "in": "path", "required": True, "schema": _STR}],
                    "responses": {
                        "200": _ok("The rubric", "RubricDetail"),
                        "404": _error("No rubric with that id", ["unknown_rubric"]),
                        "500": _error("The rubric file is invalid", ["rubric_invalid"]),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {"200": {"description": "OpenAPI 3.1 document", "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
