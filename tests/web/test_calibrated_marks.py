"""The web app shows a teacher's adopted calibration: calibrated mark, rubric mark kept, source named."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from app.cli import main

from .conftest import make_app

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "calibration"
SLIP = "Water evaporates from the warm sea. The sea has to boil first. Then the vapour condenses into clouds."


def test_adopted_model_marks_api_feedback(tmp_path, migrated_db, monkeypatch):
    monkeypatch.setenv("ESSAYCOACH_MODELS", str(tmp_path / "models"))
    rubrics = tmp_path / "rubrics"
    rubrics.mkdir()
    shutil.copy(DATA / "water-cycle.yaml", rubrics / "water-cycle-cal.yaml")
    db_file = tmp_path / "db.sqlite"
    shutil.copy(migrated_db, db_file)
    client = make_app(db_file, rubrics).test_client()

    def feedback() -> dict:
        response = client.post("/api/v1/feedback", json={"rubric": "water-cycle-cal", "text": SLIP})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    before = feedback()
    assert (before["mark"], before["mark_source"], before["calibrated_mark"]) == (2, "rubric", None)
    trained = CliRunner().invoke(main, ["train", "--rubric", str(rubrics / "water-cycle-cal.yaml"), "--adopt", str(DATA / "marked.csv")])
    assert trained.exit_code == 0, trained.output
    after = feedback()
    assert (after["mark"], after["rubric_mark"], after["calibrated_mark"], after["mark_source"]) == (1, 2, 1, "calibrated")


def test_model_that_no_longer_fits_falls_back_to_rubric_marks(tmp_path, migrated_db, monkeypatch):
    monkeypatch.setenv("ESSAYCOACH_MODELS", str(tmp_path / "models"))
    rubrics = tmp_path / "rubrics"
    rubrics.mkdir()
    path = rubrics / "water-cycle-cal.yaml"
    shutil.copy(DATA / "water-cycle.yaml", path)
    trained = CliRunner().invoke(main, ["train", "--rubric", str(path), "--adopt", str(DATA / "marked.csv")])
    assert trained.exit_code == 0, trained.output
    path.write_text(path.read_text(encoding="utf-8").replace("version: 1", "version: 2"), encoding="utf-8")
    db_file = tmp_path / "db.sqlite"
    shutil.copy(migrated_db, db_file)
    response = make_app(db_file, rubrics).test_client().post("/api/v1/feedback", json={"rubric": "water-cycle-cal", "text": SLIP})
    assert response.status_code == 200
    assert response.get_json()["mark_source"] == "rubric"
