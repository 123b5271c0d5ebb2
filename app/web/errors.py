"""Every error page: domain errors and HTTP errors as HTML for pages and {error: {code, message}} for /api/."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..essay import EmptyEssay, EssayError, EssayTooLong
from ..readers import UnreadableEssay
from ..rubric import RubricError
from .accounts import AccountError, InvalidLogin, TooManyAttempts
from .assignments import (
    AssignmentClosed,
    AssignmentNotFound,
    InvalidAssignment,
    InvalidCode,
    MemberNotFound,
)
from .attempts import AttemptNotFound, StudentNotFound
from .batches import JobNotFound
from .models import ImmutableRow
from .overrides import InvalidOverride
from .rubric_store import RubricIdTaken
from .rubrics import UnknownRubric
from .uploads import UploadRefused

log = logging.getLogger(__name__)


class InvalidRequest(ValueError):
    """A request the API cannot use (wrong fields or types); the message says what to send."""


class MalformedJSON(ValueError):
    """The API body is not valid JSON."""


class UnsupportedMediaType(ValueError):
    """The API was sent something other than JSON."""


class UploadTooLarge(ValueError):
    """An uploaded file bigger than the engine accepts."""


# (status, code) per domain error; the exception's message is shown as it is.
DOMAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {
    EmptyEssay: (400, "empty_essay"),
    EssayTooLong: (413, "essay_too_long"),
    EssayError: (400, "invalid_essay"),
    UploadTooLarge: (413, "essay_too_long"),
    UnreadableEssay: (400, "unreadable_file"),
    InvalidRequest: (400, "invalid_request"),
    MalformedJSON: (400, "malformed_json"),
    UnsupportedMediaType: (415, "unsupported_media_type"),
    UnknownRubric: (404, "unknown_rubric"),
    AttemptNotFound: (404, "not_found"),
    StudentNotFound: (404, "not_found"),
    # teacher workspace
    InvalidLogin: (401, "invalid_login"),
    TooManyAttempts: (429, "too_many_attempts"),
    AccountError: (400, "invalid_account"),
    AssignmentNotFound: (404, "not_found"),
    MemberNotFound: (404, "not_found"),
    JobNotFound: (404, "not_found"),
    InvalidCode: (404, "unknown_class_code"),
    AssignmentClosed: (403, "assignment_closed"),
    InvalidAssignment: (400, "invalid_request"),
    InvalidOverride: (400, "invalid_request"),
    UploadRefused: (400, "upload_refused"),
    RubricIdTaken: (409, "rubric_id_taken"),
    ImmutableRow: (409, "immutable"),
}

HTTP_MESSAGES = {
    400: "The request could not be understood.",
    404: "There is nothing at this address.",
    405: "This address does not accept that kind of request.",
    413: "That is too big to mark: an essay may be at most 2 MB and 20,000 words. Your draft is still kept in this browser.",
    429: "Too many requests: wait a few minutes and try again.",
    500: "Something went wrong on our side. Your essay is saved: try again in a moment.",
}
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 429: "too_many_requests"}
UPLOAD_TOO_LARGE = "That upload is too big: a class upload may be at most 32 MB. Split it into smaller zips."


def wants_json() -> bool:
    """The JSON API, and the teacher pages' small JSON endpoints (job progress, "Try it")."""
    return request.path.startswith("/api/") or request.path.endswith(".json")


def error_response(status: int, code: str, message: str) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("error.html", status=status, code=code, message=message), status


def status_for(exc: Exception) -> tuple[int, str] | None:
    """The (status, code) of a domain error, or None for an exception that is a bug."""
    for cls in type(exc).__mro__:
        found = DOMAIN_ERRORS.get(cls)
        if found:
            return found
    return None


def _domain(exc: Exception) -> tuple[Response | str, int]:
    mapped = status_for(exc)
    if mapped is None:
        return _unexpected(exc)
    return error_response(mapped[0], mapped[1], str(exc))


def _rubric_error(exc: RubricError) -> tuple[Response | str, int]:
    log.error("invalid rubric served: %s", exc)
    return error_response(500, "rubric_invalid", "This question's rubric has errors, so it cannot be used to mark. Please tell your teacher.")


def _csrf(exc: CSRFError) -> tuple[Response | str, int]:
    message = "This form has expired or did not come from this site. Go back, reload the page and send it again: your draft is kept in this browser."
    return error_response(400, "csrf_failed", message)


def _http(exc: HTTPException) -> tuple[Response | str, int] | HTTPException:
    status = exc.code or 500
    if status < 400:  # redirects raised as exceptions are not errors
        return exc
    code = HTTP_CODES.get(status) or (exc.name or "error").lower().replace(" ", "_")
    message = HTTP_MESSAGES.get(status) or exc.description or exc.name
    if status == 413 and request.path.startswith("/teacher/"):
        message = UPLOAD_TOO_LARGE
    return error_response(status, code, message)


def _unexpected(exc: Exception) -> tuple[Response | str, int]:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", HTTP_MESSAGES[500])


def register(app: Flask) -> None:
    for cls in DOMAIN_ERRORS:
        app.register_error_handler(cls, _domain)
    app.register_error_handler(RubricError, _rubric_error)
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)
