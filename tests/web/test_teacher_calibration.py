"""The calibration page: a teacher trains on their own overrides, reads the agreement report, adopts and drops the model."""

from __future__ import annotations

import re

import pytest

from app.calibrate_store import adopted_calibration, load, model_path
from app.web import services
from app.web.extensions import db
from app.web.models import Attempt, Teacher
from app.web.overrides import save_override

from .support import RUBRIC
from .teacher_support import (
    post,
    teacher_client,
)

PAGE = f"/teacher/calibration/{RUBRIC}"


@pytest.fixture(autouse=True)
def models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("ESSAYCOACH_MODELS", str(folder))
    return folder


def override(app, aid: int, count: int, teacher_mark=lambda engine: engine) -> list[int]:
    """The teacher's own mark on the first `count` essays of the class (as the student page saves it)."""
    with app.app_context():
        teacher = db.session.query(Teacher).one()
        attempts = db.session.query(Attempt).filter_by(assignment_id=aid).order_by(Attempt.id).limit(count).all()
        for a in attempts:
            save_override(db.session, teacher, a, str(teacher_mark(a.mark)), "")
        return [a.id for a in attempts]


def harsh(engine: int) -> int:
    """A teacher who marks consistently 4 below the rubric: learnable, and the rubric's marks agree poorly."""
    return max(0, engine - 4)


def rubric(app):
    with app.app_context():
        return services(app).rubrics.get(RUBRIC)


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/teacher/login" in response.headers["Location"]
    assert client.get(PAGE, headers={"Accept": "application/json"}).status_code == 401


def test_fewer_than_20_marks_says_how_many_more(app, marked, models):
    t, aid = marked
    override(app, aid, 7)
    page = t.get(PAGE).get_data(as_text=True)
    assert re.search(r"You have marked <strong>7</strong> essays", page)
    assert "<strong>13 more</strong>" in page and 'id="train-form"' not in page
    refused = post(t, f"{PAGE}/train", page=PAGE)
    assert refused.status_code == 400 and "at least 20 essays" in refused.get_data(as_text=True)
    assert not model_path(RUBRIC, models).exists()


def test_another_teacher_sees_none_of_my_marks(app, marked, models):
    t, aid = marked
    override(app, aid, 25)
    assert "<strong>25</strong>" in t.get(PAGE).get_data(as_text=True)
    other = teacher_client(app, "other@school.example")
    page = other.get(PAGE).get_data(as_text=True)
    assert "You have marked <strong>0</strong>" in page and "<strong>20 more</strong>" in page
    assert post(other, f"{PAGE}/train", page=PAGE).status_code == 400
    assert not model_path(RUBRIC, models).exists()
    assert other.get("/teacher/calibration/no-such-rubric").status_code == 404


def test_the_page_is_linked_from_the_workspace(app, marked):
    t, aid = marked
    assert f'href="{PAGE}"' in t.get(f"/teacher/assignments/{aid}").get_data(as_text=True)
    assert f'href="{PAGE}"' in t.get("/teacher/rubrics/").get_data(as_text=True)


def test_marks_like_the_rubric_report_no_gain_and_cannot_be_adopted(app, marked, models):
    t, aid = marked
    override(app, aid, 24)  # the teacher agrees with every mark: nothing to gain
    page = t.get(PAGE).get_data(as_text=True)
    assert 'id="train-form"' in page
    response = post(t, f"{PAGE}/train", page=PAGE)
    report = response.get_data(as_text=True)
    assert response.status_code == 200, report[:500]
    agreement = report.split('id="agreement"')[1].split("</table>")[0]
    for row in ("Quadratic weighted kappa", "Exact agreement", "Adjacent agreement", "Standardised mean difference", "Pearson r"):
        assert row in agreement
    assert "Calibrated" in agreement and "Rubric only" in agreement and agreement.count("[") >= 6  # intervals beside both
    assert "Calibration does not beat the rubric's marks, so it will not be used." in report
    assert 'id="confusion-calibrated"' in report and 'id="confusion-rubric-only"' in report
    assert 'id="adopt-form"' not in report
    model = load(RUBRIC, models)
    assert model.training["n"] == 24 and not model.recommended and model.adopted is None
    refused = post(t, f"{PAGE}/adopt", page=PAGE)
    assert refused.status_code == 409 and "cannot be adopted" in refused.get_data(as_text=True)
    assert load(RUBRIC, models).adopted is None and adopted_calibration(rubric(app), models) is None


def test_a_consistent_teacher_trains_adopts_and_stops(app, marked, models):
    t, aid = marked
    override(app, aid, 30, harsh)
    response = post(t, f"{PAGE}/train", page=PAGE)
    report = response.get_data(as_text=True)
    assert response.status_code == 200, report[:500]
    assert "Calibration agrees with you better than the rubric" in report and "Recommended:" in report
    assert 'data-flag="high_smd"' in report  # the rubric-only marks are 4 higher than the teacher's
    assert 'id="adopt-form"' in report and 'id="drop-form"' not in report
    assert "No: essays get the rubric" in report

    adopted = post(t, f"{PAGE}/adopt", page=PAGE)
    assert adopted.status_code == 303 and adopted.headers["Location"].endswith(f"{PAGE}?done=adopted")
    page = t.get(adopted.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="state-adopted">Yes, since \d{4}-\d\d-\d\d', page)
    assert 'id="state-n">30 essays' in page and 'id="state-fits">Yes' in page
    assert 'id="drop-form"' in page and 'id="adopt-form"' not in page
    assert adopted_calibration(rubric(app), models) is not None

    dropped = post(t, f"{PAGE}/drop", page=PAGE)
    assert dropped.status_code == 303
    page = t.get(dropped.headers["Location"]).get_data(as_text=True)
    assert "No: essays get the rubric" in page and 'id="adopt-form"' in page
    assert adopted_calibration(rubric(app), models) is None and model_path(RUBRIC, models).exists()


def test_disagreements_link_to_the_essays_feedback(app, marked):
    t, aid = marked
    ids = override(app, aid, 30, lambda m: harsh(m) if m % 3 else m)  # partly learnable: some essays stay disagreed
    report = post(t, f"{PAGE}/train", page=PAGE).get_data(as_text=True)
    section = report.split('id="disagreements"')[1].split("</ol>")[0]
    links = re.findall(rf'href="/teacher/assignments/{aid}/students/\d+\?attempt=(\d+)"', section)
    assert links and all(int(x) in ids for x in links)
    first = re.search(r'href="(/teacher/assignments/[^"]+)"', section).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    assert t.get(first).status_code == 200
