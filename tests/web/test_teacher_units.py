"""Pieces of the teacher workspace on their own: near-duplicate threshold, charts, names, migrations, serve."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
import waitress
from click.testing import CliRunner
from flask_migrate import downgrade, upgrade

from app.cli import main
from app.web import MIGRATIONS
from app.web.attempts import hash_token
from app.web.charts import mark_distribution
from app.web.exports import page_filenames, split_name
from app.web.extensions import db
from app.web.flags import DUPLICATE_THRESHOLD, near_duplicates

from .conftest import make_app
from .support import SAMPLES


def samples() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))}


def edited(text: str, rate: float, seed: int) -> str:
    rng = random.Random(seed)
    out = []
    for word in text.split():
        r = rng.random()
        if r < rate / 2:
            continue
        out.append(word.upper() if r < rate else word)
    return " ".join(out)


def test_different_essays_on_one_question_are_not_near_duplicates():
    texts = samples()
    assert len(texts) == 14
    assert near_duplicates(texts) == []
    assert near_duplicates(texts, threshold=0.3) == [] or max(p.similarity for p in near_duplicates(texts, threshold=0.25)) <= 0.31


def test_copies_and_half_copies_are_near_duplicates():
    texts = samples()
    base = texts["l4-theory-and-reality"]
    other = texts["l2-describing-institutions"]
    half = " ".join(base.split()[: len(base.split()) // 2] + other.split()[len(other.split()) // 2 :])
    pairs = near_duplicates({**texts, "copy": edited(base, 0.1, 1), "half": half})
    found = {(p.a, p.b): p.similarity for p in pairs}
    assert found[("copy", "l4-theory-and-reality")] > 0.8
    assert found[("half", "l4-theory-and-reality")] >= DUPLICATE_THRESHOLD
    assert all(DUPLICATE_THRESHOLD <= s <= 1 for s in found.values())


def test_near_duplicates_of_nothing():
    assert near_duplicates({}) == [] and near_duplicates({1: "one essay"}) == []
    assert near_duplicates({1: "...", 2: "!!!"}) == []
    assert near_duplicates({1: "same words here", 2: "same words here"})[0].similarity == 1.0


def test_the_mark_distribution_has_a_bar_per_mark_or_per_band():
    svg = str(mark_distribution([3, 3, 10, 25], 0, 25))
    assert svg.count('class="bar"') == 3 and ">2</text>" in svg and ">3: 2; 10: 1; 25: 1</desc>" in svg
    assert "3: 2 students" in svg and "25: 1 student<" in svg
    wide = str(mark_distribution([0, 50, 99, 100], 0, 100))
    assert wide.count('class="axis"') > 10 and "95–100" in wide and "95-100: 2" in wide
    assert "No marks yet" in str(mark_distribution([], 0, 10))


@pytest.mark.parametrize(("name", "parts"), [("Amira Khan", ("Amira", "Khan")), ("Mary Ann O'Neil", ("Mary Ann", "O'Neil")), ("Cher", ("Cher", ""))])
def test_split_name(name, parts):
    assert split_name(name) == parts


def test_feedback_page_names_are_safe():
    assert page_filenames(["Amira Khan", "../../etc", "Zoë Ünal", "<script>"]) == ["01-amira-khan.html", "02-etc.html", "03-zo-nal.html", "04-script.html"]


def test_upgrading_from_the_student_app_keeps_every_essay(tmp_path: Path, rubrics_dir: Path):
    """A database made by revision 0001 (students and attempts only), with essays, upgraded to the teacher workspace."""
    path = tmp_path / "old.sqlite"
    app = make_app(path, rubrics_dir)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0001")
    con = sqlite3.connect(path)
    con.execute("insert into students (token_hash, created_at) values (?, '2026-01-05 10:00:00')", (hash_token("old-token"),))
    for i, text in enumerate(["First draft about the Politburo.", "Second draft about the Politburo and factions."], start=1):
        con.execute(
            "insert into attempts (student_id, rubric_id, parent_id, source, text, status, created_at) values (1, 'stalinist-centralisation', ?, 'typed', ?, 'saved', '2026-01-05 10:00:00')",
            (i - 1 or None, text),
        )
    con.commit()
    con.close()
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
    con = sqlite3.connect(path)
    assert con.execute("select id, parent_id, text, assignment_id from attempts order by id").fetchall() == [
        (1, None, "First draft about the Politburo.", None), (2, 1, "Second draft about the Politburo and factions.", None)]
    assert {"teachers", "assignments", "members", "batch_jobs", "overrides", "rubric_versions"} <= {r[0] for r in con.execute("select name from sqlite_master")}
    assert con.execute("pragma foreign_key_check").fetchall() == []
    con.close()
    client = app.test_client()
    client.set_cookie("essaycoach_student", "old-token")
    assert "2 attempts" in client.get("/progress").get_data(as_text=True)
    with app.app_context():  # and back down, keeping the students' essays
        downgrade(directory=str(MIGRATIONS), revision="0001")
        db.engine.dispose()
    assert sqlite3.connect(path).execute("select count(*) from attempts").fetchone()[0] == 2


def test_serve_starts_the_batch_worker(tmp_path: Path, rubrics_dir: Path, monkeypatch):
    calls = {}
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: calls.update(app=app))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'served.sqlite'}")
    monkeypatch.setenv("ESSAYCOACH_RUBRICS", str(rubrics_dir))
    monkeypatch.setenv("SECRET_KEY", "x")
    assert CliRunner().invoke(main, ["serve", "--port", "5124"]).exit_code == 0
    worker = calls["app"].extensions["essaycoach"].worker
    try:
        assert worker is not None and worker.thread.is_alive()
        assert worker.idle.wait(30), "the worker never reached its idle loop (it waits for the migrated tables first)"
    finally:
        worker.stop()
        with calls["app"].app_context():
            db.engine.dispose()
