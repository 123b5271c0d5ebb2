"""`essaycoach create-teacher EMAIL`: asks for the password twice (hidden), hashes it, refuses duplicates and weak ones."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.web.extensions import db
from app.web.models import Teacher

from .conftest import make_app
from .teacher_support import login


@pytest.fixture
def env(tmp_path: Path, rubrics_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.sqlite"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("ESSAYCOACH_RUBRICS", str(rubrics_dir))
    monkeypatch.setenv("SECRET_KEY", "cli-secret")
    return path


def run(*args: str, input: str = "") -> object:
    return CliRunner().invoke(main, ["create-teacher", *args], input=input)


def test_create_teacher_on_a_fresh_database_then_log_in(env, rubrics_dir):
    result = run("Head@School.Example", input="a good long password\na good long password\n")
    assert result.exit_code == 0, result.output
    assert "Teacher account created for head@school.example" in result.output
    assert "a good long password" not in result.output  # hidden input is not echoed
    assert result.output.count("Password") == 1 and "Repeat the password" in result.output
    row = sqlite3.connect(env).execute("select email, password_hash from teachers").fetchone()
    assert row[0] == "head@school.example" and row[1].startswith("scrypt:") and "good long" not in row[1]
    app = make_app(env, rubrics_dir)
    client = app.test_client()
    assert login(client, "head@school.example", "a good long password").status_code == 303
    with app.app_context():
        db.engine.dispose()


def test_the_two_passwords_must_match(env):
    result = run("t@school.example", input="first password!!\nsecond password!\nfirst password!!\nfirst password!!\n")
    assert result.exit_code == 0 and "do not match" in result.output.lower()


def test_a_short_password_is_refused(env):
    result = run("t@school.example", input="short\nshort\n")
    assert result.exit_code == 1 and "at least 10 characters" in result.output
    assert sqlite3.connect(env).execute("select count(*) from teachers").fetchone()[0] == 0


def test_a_second_account_for_the_same_email_is_refused_and_reset_works(env, rubrics_dir):
    assert run("t@school.example", input="password one!!\npassword one!!\n").exit_code == 0
    again = run("T@school.example", input="password two!!\npassword two!!\n")
    assert again.exit_code == 1 and "already a teacher account" in again.output
    reset = run("t@school.example", "--reset-password", input="password two!!\npassword two!!\n")
    assert reset.exit_code == 0 and "New password set" in reset.output
    app = make_app(env, rubrics_dir)
    client = app.test_client()
    assert login(client, "t@school.example", "password one!!").status_code == 401
    assert login(client, "t@school.example", "password two!!").status_code == 303
    with app.app_context():
        assert db.session.query(Teacher).count() == 1
        db.engine.dispose()


def test_not_an_email_and_reset_of_nobody(env):
    assert run("not-an-email", input="a good long password\na good long password\n").exit_code == 1
    nobody = run("nobody@school.example", "--reset-password")
    assert nobody.exit_code == 1 and "no teacher account" in nobody.output


def test_help_is_listed():
    result = CliRunner().invoke(main, ["--help"])
    assert "create-teacher" in result.output
