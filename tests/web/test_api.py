"""JSON API /api/v1: every documented response is produced for real and validated against the OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .support import RUBRIC, sample

SPEC_URI = "urn:essaycoach:openapi"
ESSAY_600 = " ".join(sample("l5-sustained-judgement.txt").split()[:600])


def post(client, body: Any, *, raw: bytes | None = None, content_type: str = "application/json"):
    data = raw if raw is not None else json.dumps(body).encode()
    return client.post("/api/v1/feedback", data=data, content_type=content_type)


# (name, how to make the request, path template, method, status, error code or None)
CASES: list[tuple[str, Any, str, str, int, str | None]] = [
    ("feedback", lambda c: post(c, {"rubric": RUBRIC, "text": ESSAY_600}), "/feedback", "post", 200, None),
    ("feedback-points", lambda c: post(c, {"rubric": "asap-set1", "text": "You would need the amount of vinegar, the type of vinegar and the size of the samples."}), "/feedback", "post", 200, None),
    ("too-short", lambda c: post(c, {"rubric": RUBRIC, "text": "Stalin was General Secretary."}), "/feedback", "post", 200, None),
    ("empty", lambda c: post(c, {"rubric": RUBRIC, "text": "  \n "}), "/feedback", "post", 400, "empty_essay"),
    ("missing-field", lambda c: post(c, {"rubric": RUBRIC}), "/feedback", "post", 400, "invalid_request"),
    ("wrong-type", lambda c: post(c, {"rubric": RUBRIC, "text": 42}), "/feedback", "post", 400, "invalid_request"),
    ("unknown-field", lambda c: post(c, {"rubric": RUBRIC, "text": "x", "essay": "y"}), "/feedback", "post", 400, "invalid_request"),
    ("not-object", lambda c: post(c, ["rubric", "text"]), "/feedback", "post", 400, "invalid_request"),
    ("malformed", lambda c: post(c, None, raw=b'{"rubric": "x", "text": '), "/feedback", "post", 400, "malformed_json"),
    ("bad-utf8", lambda c: post(c, None, raw=b'{"rubric": "\xff"}'), "/feedback", "post", 400, "malformed_json"),
    ("unknown-rubric", lambda c: post(c, {"rubric": "nope", "text": ESSAY_600}), "/feedback", "post", 404, "unknown_rubric"),
    ("path-rubric", lambda c: post(c, {"rubric": "../../etc/passwd", "text": ESSAY_600}), "/feedback", "post", 404, "unknown_rubric"),
    ("too-many-words", lambda c: post(c, {"rubric": RUBRIC, "text": "word " * 20_001}), "/feedback", "post", 413, "essay_too_long"),
    ("too-large", lambda c: post(c, {"rubric": RUBRIC, "text": "x" * (2 * 1024 * 1024 + 70_000)}), "/feedback", "post", 413, "too_large"),
    ("form-body", lambda c: post(c, None, raw=b"rubric=x&text=y", content_type="application/x-www-form-urlencoded"), "/feedback", "post", 415, "unsupported_media_type"),
    ("broken-rubric", lambda c: post(c, {"rubric": "broken", "text": ESSAY_600}), "/feedback", "post", 500, "rubric_invalid"),
    ("list", lambda c: c.get("/api/v1/rubrics"), "/rubrics", "get", 200, None),
    ("get", lambda c: c.get(f"/api/v1/rubrics/{RUBRIC}"), "/rubrics/{rubric_id}", "get", 200, None),
    ("get-points", lambda c: c.get("/api/v1/rubrics/asap-set1"), "/rubrics/{rubric_id}", "get", 200, None),
    ("get-unknown", lambda c: c.get("/api/v1/rubrics/nope"), "/rubrics/{rubric_id}", "get", 404, "unknown_rubric"),
    ("get-broken", lambda c: c.get("/api/v1/rubrics/broken"), "/rubrics/{rubric_id}", "get", 500, "rubric_invalid"),
    ("openapi", lambda c: c.get("/api/v1/openapi.json"), "/openapi.json", "get", 200, None),
]


@pytest.fixture(scope="module")
def spec(tmp_path_factory, rubrics_dir, migrated_db) -> dict[str, Any]:
    from .conftest import make_app

    app = make_app(migrated_db, rubrics_dir)
    return app.test_client().get("/api/v1/openapi.json").get_json()


def validate_response(spec: dict[str, Any], path: str, method: str, response) -> None:
    """The status is documented for this operation, the body is JSON, and it matches the documented schema."""
    responses = spec["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {path} returned undocumented {status}"
    media = responses[status]["content"]
    assert response.mimetype in media, response.mimetype
    schema = media[response.mimetype]["schema"]
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": SPEC_URI + schema["$ref"]} if "$ref" in schema else schema, registry=registry)
    errors = sorted(validator.iter_errors(response.get_json()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_openapi_document_is_valid_openapi_3_1(spec):
    validate_spec(spec)
    assert spec["openapi"].startswith("3.1")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_responses_match_the_openapi_document(client, spec, case):
    _, make, path, method, status, code = case
    response = make(client)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    validate_response(spec, path, method, response)
    body = response.get_json()
    if code is not None:
        assert body["error"]["code"] == code and body["error"]["message"]
        assert "Traceback" not in body["error"]["message"]


def test_validation_catches_a_response_that_breaks_the_contract(client, spec):
    good = post(client, {"rubric": RUBRIC, "text": ESSAY_600})
    broken = json.loads(good.get_data())
    broken["mark"] = "seventeen"
    del broken["concepts"][0]["evidence"]
    good.set_data(json.dumps(broken))
    with pytest.raises(AssertionError, match="mark|evidence"):
        validate_response(spec, "/feedback", "post", good)


def test_every_documented_response_is_exercised(spec):
    documented = {(p, m, int(s)) for p, ops in spec["paths"].items() for m, op in ops.items() for s in op["responses"]}
    exercised = {(c[2], c[3], c[4]) for c in CASES}
    assert documented == exercised


def test_every_api_route_is_documented(app, spec):
    routes = {(r.rule.removeprefix("/api/v1").replace("<rubric_id>", "{rubric_id}"), m.lower())
              for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1") for m in r.methods - {"HEAD", "OPTIONS"}}
    documented = {(p, m) for p, ops in spec["paths"].items() for m in ops}
    assert routes == documented


def test_feedback_is_the_engines_result_with_offsets_into_the_text(client):
    text = "  " + ESSAY_600.replace(". ", ".\r\n", 3)  # offsets refer to the text exactly as sent
    body = post(client, {"rubric": RUBRIC, "text": text}).get_json()
    assert body["rubric"]["id"] == RUBRIC and body["word_count"] > 500 and body["level"] >= 3
    found = [c for c in body["concepts"] if c["found"]]
    assert found
    for c in found:
        for ev in c["evidence"]:
            assert text[ev["start"]:ev["end"]] == ev["text"]


def test_too_short_essay_is_marked_and_flagged(client):
    body = post(client, {"rubric": RUBRIC, "text": "Stalin was General Secretary."}).get_json()
    assert [f["id"] for f in body["flags"]] == ["too_short"]


def test_rubric_list_and_detail(client):
    listing = client.get("/api/v1/rubrics").get_json()["rubrics"]
    assert [r["id"] for r in listing] == ["asap-set1", "mini", RUBRIC]  # by title; the broken file is left out
    detail = client.get(f"/api/v1/rubrics/{RUBRIC}").get_json()
    assert detail["max_mark"] == 25 and len(detail["levels"]) == 5 and detail["success_criteria"]


@pytest.mark.parametrize("app_config", [{"SHOW_CRITERIA": "none"}])
def test_hidden_success_criteria_are_null(client, app_config):
    assert client.get(f"/api/v1/rubrics/{RUBRIC}").get_json()["success_criteria"] is None


def test_api_needs_no_csrf_token_and_sets_no_cookie(client):
    response = post(client, {"rubric": RUBRIC, "text": ESSAY_600})
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_unexpected_api_error_is_json_500(client, app, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app.extensions["essaycoach"].marking, "mark", explode)
    response = post(client, {"rubric": RUBRIC, "text": ESSAY_600})
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error", "message": response.get_json()["error"]["message"]}}
    assert "secret" not in response.get_data(as_text=True)


def test_api_404_and_405_are_json(client):
    assert client.get("/api/v1/nothing").get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/feedback").get_json()["error"]["code"] == "method_not_allowed"
