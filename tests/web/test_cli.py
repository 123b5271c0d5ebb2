"""`essaycoach serve` and the migrations: the database is upgraded on start and upgrading keeps saved essays."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import waitress
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner

from app.cli import main
from app.web import upgrade_db
from app.web.extensions import db

from .conftest import make_app
from .support import attempt_id, sample, submit


def test_serve_help_lists_host_and_port():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output and "DATABASE_URL" in result.output


def test_serve_upgrades_the_database_warms_up_and_runs_waitress(tmp_path: Path, rubrics_dir: Path, monkeypatch):
    calls = {}

    def fake_serve(app, **kwargs):
        calls.update(kwargs, app=app)

    monkeypatch.setattr(waitress, "serve", fake_serve)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'served.sqlite'}")
    monkeypatch.setenv("ESSAYCOACH_RUBRICS", str(rubrics_dir))
    monkeypatch.setenv("SECRET_KEY", "x")
    result = CliRunner().invoke(main, ["serve", "--host", "127.0.0.1", "--port", "5123"])
    assert result.exit_code == 0, result.output
    assert calls["host"] == "127.0.0.1" and calls["port"] == 5123
    tables = {r[0] for r in sqlite3.connect(tmp_path / "served.sqlite").execute("select name from sqlite_master where type='table'")}
    assert {"students", "attempts", "alembic_version"} <= tables
    services = calls["app"].extensions["essaycoach"]
    assert services.marking.ready.wait(60), "the marking engine was not warmed up"


def test_serve_rejects_a_bad_port():
    assert CliRunner().invoke(main, ["serve", "--port", "70000"]).exit_code == 2


def test_models_match_the_migrations(app):
    with app.app_context(), db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diffs == []


def test_upgrading_again_keeps_saved_essays(app, client):
    aid = attempt_id(submit(client, sample("l4-theory-and-reality.txt")))
    upgrade_db(app)  # what every `essaycoach serve` does
    upgrade_db(app)
    assert "Estimated Level" in client.get(f"/attempts/{aid}").get_data(as_text=True)


def test_a_fresh_database_is_created_by_migrations(tmp_path: Path, rubrics_dir: Path):
    path = tmp_path / "fresh.sqlite"
    app = make_app(path, rubrics_dir)
    tables = "select name from sqlite_master where type='table'"
    assert not sqlite3.connect(path).execute(tables).fetchall()
    upgrade_db(app)
    assert {"students", "attempts"} <= {r[0] for r in sqlite3.connect(path).execute(tables)}
    client = app.test_client()
    assert attempt_id(submit(client, sample("l4-theory-and-reality.txt"))) == 1
    with app.app_context():
        db.engine.dispose()


def test_python_m_app_web_is_the_same_command():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "app.web", "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0 and "--port" in out.stdout and "python -m app.web" in out.stdout
