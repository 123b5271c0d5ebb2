"""Fixtures for the web app: an app on a temporary migrated SQLite database, its client and CLI runner."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.web import create_app, upgrade_db
from app.web.extensions import db

from .classset import class_zip
from .support import ROOT, RUBRIC
from .teacher_support import create_assignment, job_id, mark_all, teacher_client, upload


@pytest.fixture(scope="session")
def rubrics_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default rubric, a small levels rubric, a points rubric, and one broken file."""
    folder = tmp_path_factory.mktemp("rubrics")
    shutil.copy(ROOT / "rubrics" / f"{RUBRIC}.yaml", folder)
    shutil.copy(ROOT / "tests" / "data" / "rubrics" / "mini.yaml", folder)
    shutil.copy(ROOT / "rubrics" / "examples" / "asap-set1.yaml", folder)
    (folder / "broken.yaml").write_text("id: broken\ntitle: Broken\nversion: nope\n", encoding="utf-8")
    return folder


def make_app(db_file: Path, rubrics: Path, **config: Any) -> Flask:
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}",
        "ESSAYCOACH_RUBRICS": str(rubrics),
    }
    settings.update(config)
    return create_app(settings)


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory, rubrics_dir: Path) -> Path:
    """One database upgraded by the real migrations, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("db") / "template.sqlite"
    app = make_app(path, rubrics_dir)
    upgrade_db(app)
    with app.app_context():
        db.engine.dispose()
    return path


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change settings."""
    return {}


@pytest.fixture
def app(tmp_path: Path, migrated_db: Path, rubrics_dir: Path, app_config: dict[str, Any]) -> Iterator[Flask]:
    db_file = tmp_path / "essaycoach.sqlite"
    shutil.copy(migrated_db, db_file)
    app = make_app(db_file, rubrics_dir, **app_config)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def marked(app: Flask) -> tuple[FlaskClient, int]:
    """A teacher with a class of 30 uploaded and marked with the default rubric file: (client, assignment id)."""
    t = teacher_client(app)
    aid = create_assignment(t, title="10B: centralisation")
    job_id(upload(t, aid, class_zip(), "10B essays.zip"))
    assert mark_all(app) == 30
    return t, aid
