"""Teacher log-in and log-out, the signed-session identity, and the guard every teacher blueprint uses."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from .accounts import InvalidLogin, TooManyAttempts, authenticate, session_stamp
from .extensions import db
from .models import Teacher

bp = Blueprint("auth", __name__, url_prefix="/teacher")

SESSION_KEYS = ("teacher_id", "teacher_stamp", "teacher_since")


def client_ip() -> str:
    # Behind a proxy, wrap the app in werkzeug's ProxyFix so remote_addr is the client's address.
    return request.remote_addr or "unknown"


def current_teacher() -> Teacher | None:
    """The teacher logged in on this session (signed cookie), looked up once per request."""
    if "teacher" not in g:
        teacher = None
        tid = session.get("teacher_id")
        since = session.get("teacher_since", 0)
        max_age = current_app.config["TEACHER_SESSION_HOURS"] * 3600
        if isinstance(tid, int) and isinstance(since, int | float) and time.time() - since < max_age:
            found = db.session.get(Teacher, tid)
            if found is not None and session.get("teacher_stamp") == session_stamp(found):
                teacher = found
        g.teacher = teacher
    return g.teacher  # type: ignore[no-any-return]


def me() -> Teacher:
    """The logged-in teacher, in views behind require_teacher."""
    teacher = current_teacher()
    if teacher is None:  # pragma: no cover - require_teacher runs first
        raise RuntimeError("teacher view reached without a logged-in teacher")
    return teacher


def require_teacher() -> Response | tuple[Response, int] | None:
    """before_request for teacher blueprints: log-in page for pages, 401 JSON for JSON endpoints."""
    if current_teacher() is not None:
        return None
    if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
        return jsonify(error={"code": "login_required", "message": "Log in as a teacher first."}), 401
    target = request.full_path if request.method == "GET" else request.path
    return redirect(url_for("auth.login", next=target.rstrip("?")), 302)


def safe_next(target: str | None) -> str:
    """Only a path inside the teacher workspace: never an open redirect to another site."""
    default = url_for("teacher.dashboard")
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/teacher") or "\\" in target:
        return default
    return target


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"teacher_user": current_teacher}


@bp.get("/login")
def login() -> str | Response:
    if current_teacher() is not None:
        return redirect(safe_next(request.args.get("next")), 303)
    return render_template("teacher/login.html", next=request.args.get("next", ""), email="", error=None)


@bp.post("/login")
def login_post() -> tuple[str, int] | Response:
    email = request.form.get("email", "")
    nxt = request.form.get("next", "")
    try:
        teacher = authenticate(db.session, email, request.form.get("password", ""), client_ip())
    except (InvalidLogin, TooManyAttempts) as exc:
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        page = render_template("teacher/login.html", next=nxt, email=email[:254], error=str(exc))
        headers: dict[str, Any] = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else {}
        return page, status, headers  # type: ignore[return-value]
    session.clear()  # a fresh session (and CSRF token) for the logged-in teacher
    session.permanent = True
    session.update(teacher_id=teacher.id, teacher_stamp=session_stamp(teacher), teacher_since=int(time.time()))
    return redirect(safe_next(nxt), 303)


@bp.post("/logout")
def logout() -> Response:
    for key in SESSION_KEYS:
        session.pop(key, None)
    return redirect(url_for("auth.login"), 303)
