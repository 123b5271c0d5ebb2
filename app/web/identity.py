"""Anonymous students: the token lives in an HttpOnly SameSite cookie and in a private link they can bookmark."""

from __future__ import annotations

from flask import current_app, g, request, url_for
from werkzeug.wrappers import Response

from .attempts import find_student, new_student
from .extensions import db
from .models import Student


def current_student() -> Student | None:
    """The student whose token is in this request's cookie, looked up once per request."""
    if "student" not in g:
        g.student = find_student(db.session, request.cookies.get(current_app.config["STUDENT_COOKIE"]))
    return g.student  # type: ignore[no-any-return]


def ensure_student() -> Student:
    """The current student, or a new one whose token is set as a cookie on this response (see remember)."""
    student = current_student()
    if student is None:
        student, token = new_student(db.session)
        g.student, g.new_token = student, token
    return student


def remember(response: Response, token: str) -> Response:
    config = current_app.config
    response.set_cookie(
        config["STUDENT_COOKIE"],
        token,
        max_age=config["STUDENT_COOKIE_DAYS"] * 86400,
        httponly=True,
        samesite="Lax",
        secure=config["SESSION_COOKIE_SECURE"],
    )
    return response


def set_new_token_cookie(response: Response) -> Response:
    """after_request: a student created during this request gets their cookie."""
    token = g.pop("new_token", None)
    return remember(response, token) if token else response


def private_link(token: str) -> str:
    return url_for("student.me", token=token, _external=True)
