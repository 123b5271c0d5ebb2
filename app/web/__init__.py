"""The web app (student pages, teacher workspace, JSON API): create_app() builds a Flask app from the environment."""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request

from ..readers import MAX_BYTES
from .marking import Marking
from .rubrics import RubricStore

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Room for the multipart wrapping around a 2 MB file, so the engine's own limits give the message.
MAX_REQUEST_BYTES = MAX_BYTES + 64 * 1024
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass
class Services:
    """What the views need besides the database, one set per app."""

    rubrics: RubricStore
    marking: Marking
    worker: Any = None  # the BatchWorker marking uploaded classes in the background (None when not started)


def services(app: Flask | None = None) -> Services:
    return (app or current_app).extensions["essaycoach"]  # type: ignore[no-any-return]


def database_url(url: str | None, instance_path: str) -> str:
    """DATABASE_URL as SQLAlchemy wants it; default an SQLite file in the instance folder."""
    if not url:
        return "sqlite:///" + os.path.join(instance_path, "essaycoach.sqlite")
    for prefix in ("postgres://", "postgresql://"):  # Heroku-style URLs; psycopg 3 is the driver we ship
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one made once and kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    rubrics = os.environ.get("ESSAYCOACH_RUBRICS")
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=database_url(os.environ.get("DATABASE_URL"), app.instance_path),
        ESSAYCOACH_RUBRICS=rubrics,
        # "all", "none" or a comma-separated list of rubric ids whose success criteria students may see
        SHOW_CRITERIA=os.environ.get("ESSAYCOACH_SHOW_CRITERIA", "all"),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_REQUEST_BYTES,  # Flask's 500 kB default would cut long pasted essays short
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("ESSAYCOACH_SECURE_COOKIES") == "1",
        STUDENT_COOKIE="essaycoach_student",
        STUDENT_COOKIE_DAYS=400,
        WTF_CSRF_TIME_LIMIT=None,  # essays take longer than an hour to write; the token lives with the session
        JSON_SORT_KEYS=False,
        TEACHER_SESSION_HOURS=int(os.environ.get("ESSAYCOACH_TEACHER_SESSION_HOURS", "12")),
        # The background marker for uploaded classes; tests (TESTING) run queued essays themselves.
        BATCH_WORKER=os.environ.get("ESSAYCOACH_BATCH_WORKER", "1") != "0",
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the result's field order

    from . import errors
    from .extensions import csrf, db, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    app.before_request(_upload_limit)  # before CSRFProtect, which reads (and so limits) the form first
    csrf.init_app(app)
    folder = app.config["ESSAYCOACH_RUBRICS"]
    app.extensions["essaycoach"] = Services(RubricStore(Path(folder) if folder else None), Marking())

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _tune_sqlite(db.engine)

    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .batch import bp as batch_bp
    from .batches import BatchWorker
    from .classroom import bp as classroom_bp
    from .student import bp as student_bp
    from .teacher import bp as teacher_bp
    from .teacher_calibration import bp as teacher_calibration_bp
    from .teacher_exports import bp as teacher_exports_bp
    from .teacher_rubrics import bp as teacher_rubrics_bp

    app.register_blueprint(student_bp)
    app.register_blueprint(classroom_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(teacher_bp)
    app.register_blueprint(teacher_rubrics_bp)
    app.register_blueprint(batch_bp)
    app.register_blueprint(teacher_exports_bp)
    app.register_blueprint(teacher_calibration_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # JSON API: no cookies are read, so there is nothing to forge
    errors.register(app)
    app.before_request(_start_timer)
    app.after_request(_security_headers)
    if app.config["BATCH_WORKER"] and not app.config.get("TESTING"):
        services(app).worker = BatchWorker(app)
        services(app).worker.start()
    return app


# Upload endpoints accept a whole class in one request; every other request keeps the 2 MB limit.
UPLOAD_ENDPOINTS = {"batch.upload"}


def _upload_limit() -> None:
    if request.endpoint in UPLOAD_ENDPOINTS:
        from .uploads import MAX_UPLOAD_BYTES

        request.max_content_length = MAX_UPLOAD_BYTES + 64 * 1024


def _start_timer() -> None:
    g.started = time.perf_counter()


def _tune_sqlite(engine: Any) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(conn: sqlite3.Connection, record: Any) -> None:
        # WAL lets pages read while an essay is being saved; foreign keys are off in SQLite by default.
        cur = conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # Private links carry the student's token in the URL: never send it to another site.
    response.headers["Referrer-Policy"] = "no-referrer"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    if "started" in g:  # server-side time, read by bench/api.py and visible in browser dev tools
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - g.started) * 1000:.2f}"
    return response


def upgrade_db(app: Flask) -> None:
    """Bring the database schema up to date with the migrations (never drops saved essays)."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
