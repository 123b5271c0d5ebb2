"""The student pages through the Flask test client: questions, writing, feedback, revising, progress, identity."""

from __future__ import annotations

import re

import pytest

from app.web.extensions import db
from app.web.models import Attempt

from .support import RUBRIC, attempt_id, csrf_token, sample, submit

GOOD = "l4-theory-and-reality.txt"
MISCONCEPTIONS = "l3-misconceptions.txt"


def test_home_lists_questions_with_criteria(client):
    page = client.get("/").get_data(as_text=True)
    assert "To what extent was power in the Soviet state centralised" in page
    assert 'href="/write/stalinist-centralisation"' in page
    assert "Success criteria" in page and "Key ideas a strong answer uses" in page
    assert "broken" not in page.lower()  # an invalid rubric file is left out, not a crash


@pytest.mark.parametrize("app_config", [{"SHOW_CRITERIA": "none"}, {"SHOW_CRITERIA": "mini"}])
def test_teacher_can_hide_success_criteria(client, app_config):
    home = client.get("/").get_data(as_text=True)
    write = client.get(f"/write/{RUBRIC}").get_data(as_text=True)
    assert "Key ideas a strong answer uses" not in write
    if app_config["SHOW_CRITERIA"] == "mini":
        assert home.count("Key ideas a strong answer uses") == 1  # only the allowed rubric
        assert "Key ideas a strong answer uses" in client.get("/write/mini").get_data(as_text=True)
    else:
        assert "Key ideas a strong answer uses" not in home


def test_write_page_has_editor_upload_csrf_and_script(client):
    page = client.get(f"/write/{RUBRIC}").get_data(as_text=True)
    assert re.search(r'<textarea id="essay" name="essay"', page)
    assert 'id="word-count"' in page and 'type="file"' in page and 'accept=".txt,.md,.docx' in page
    assert 'name="csrf_token"' in page
    assert 'data-draft-key="essaycoach:draft:stalinist-centralisation:new"' in page
    assert '<script src="/static/js/write.js" defer></script>' in page


def test_static_files_are_served(client):
    for path in ("/static/css/app.css", "/static/js/write.js", "/static/js/feedback.js", "/static/favicon.svg"):
        assert client.get(path).status_code == 200, path


def test_submit_saves_marks_and_shows_highlighted_feedback(client, app):
    response = submit(client, sample(GOOD))
    aid = attempt_id(response)
    cookie = response.headers.get("Set-Cookie", "")
    assert "essaycoach_student=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get(f"/attempts/{aid}").get_data(as_text=True)
    assert "Estimated Level" in page
    with app.app_context():
        a = db.session.get(Attempt, aid)
        assert a.status == "marked" and a.text == sample(GOOD) and a.level == a.result["level"]
        result = a.result
    assert f"Estimated Level {result['level']}" in page and f"{result['mark']}<span class=\"score-max\">/25" in page
    # every found concept is highlighted in the student's own words, numbered like the checklist
    for n, c in enumerate(result["concepts"], start=1):
        if c["found"]:
            ev = c["evidence"][0]
            assert f'class="hl hl-c{(n - 1) % 8}' in page, c["id"]
            assert f"Concept {n}: {c['label']}" in page.replace("&#39;", "'")
            assert ev["text"] in page
        else:
            assert "Why it matters:" in page
    assert "What went well" in page and "Even better if" in page and "Your next step" in page
    assert result["feedback"]["next_step"].replace("'", "&#39;").replace('"', "&#34;") in page
    assert 'class="meter"' in page and "Argument skills" in page


def test_misconceptions_are_marked_with_corrections(client):
    aid = attempt_id(submit(client, sample(MISCONCEPTIONS)))
    page = client.get(f"/attempts/{aid}").get_data(as_text=True)
    assert 'class="hl hl-mis' in page and "Check your facts" in page
    assert "The nomenklatura system was introduced in 1923" in page


def test_too_short_essay_is_marked_and_says_so(client):
    aid = attempt_id(submit(client, "Stalin had power because he was General Secretary."))
    page = client.get(f"/attempts/{aid}").get_data(as_text=True)
    assert 'data-flag="too_short"' in page and "Too short to mark properly." in page


def test_html_in_an_essay_is_shown_as_text(client):
    evil = '<script>alert("x")</script> <img src=x onerror=alert(1)> ' + sample(GOOD)
    aid = attempt_id(submit(client, evil))
    page = client.get(f"/attempts/{aid}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_essay_is_saved_before_marking_and_can_be_retried(client, app, monkeypatch):
    marking = app.extensions["essaycoach"].marking
    real = marking.mark

    def broken(*args, **kwargs):
        raise RuntimeError("engine fell over")

    monkeypatch.setattr(marking, "mark", broken)
    aid = attempt_id(submit(client, sample(GOOD)))
    failed = client.get(f"/attempts/{aid}")
    assert failed.status_code == 500
    text = failed.get_data(as_text=True)
    assert "Your essay is saved, but marking failed" in text and "Traceback" not in text and "engine fell over" not in text
    with app.app_context():
        a = db.session.get(Attempt, aid)
        assert a.status == "failed" and a.text == sample(GOOD)
    monkeypatch.setattr(marking, "mark", real)
    token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
    retried = client.post(f"/attempts/{aid}/mark", data={"csrf_token": token})
    assert retried.status_code == 303
    assert "Estimated Level" in client.get(f"/attempts/{aid}").get_data(as_text=True)


def test_revise_prefills_last_draft_and_shows_what_changed(client):
    first = attempt_id(submit(client, sample("l2-describing-institutions.txt")))
    editor = client.get(f"/write/{RUBRIC}?revise={first}").get_data(as_text=True)
    assert f'name="parent" value="{first}"' in editor
    assert "The Politburo" in editor or sample("l2-describing-institutions.txt")[:40] in editor
    assert f"essaycoach:draft:{RUBRIC}:{first}" in editor
    second = attempt_id(submit(client, sample("l4-ban-on-factions-and-stalin.txt"), parent=first))
    page = client.get(f"/attempts/{second}").get_data(as_text=True)
    assert "What changed since" in page and "draft 1</a>" in page
    assert "+ New key ideas" in page
    assert re.search(r"Level \d → <strong>\d</strong>\s*\(up \d\)", page)


def test_revise_ignores_someone_elses_attempt(client, app):
    other = app.test_client()
    theirs = attempt_id(submit(other, sample(GOOD)))
    editor = client.get(f"/write/{RUBRIC}?revise={theirs}").get_data(as_text=True)
    assert sample(GOOD)[:60] not in editor and 'name="parent"' not in editor


def test_progress_shows_chart_and_all_attempts(client):
    for name in ("l2-describing-institutions.txt", "l3-stalin-and-the-party.txt", "l5-sustained-judgement.txt"):
        attempt_id(submit(client, sample(name)))
    page = client.get(f"/progress/{RUBRIC}").get_data(as_text=True)
    assert '<svg class="chart"' in page and page.count('class="dot-mark"') == 3 and 'class="line-mark"' in page
    assert page.count('<th scope="row">') == 3
    index = client.get("/progress").get_data(as_text=True)
    assert "3 attempts" in index and f"/progress/{RUBRIC}" in index


def test_progress_for_a_question_not_attempted_and_unknown(client):
    assert "No attempts at this question yet" in client.get(f"/progress/{RUBRIC}").get_data(as_text=True)
    assert client.get("/progress/no-such-question").status_code == 404
    assert "no essays yet" in client.get("/progress").get_data(as_text=True)


def test_private_link_restores_history_in_another_browser(client, app):
    aid = attempt_id(submit(client, sample(GOOD)))
    page = client.get("/progress").get_data(as_text=True)
    link = re.search(r'value="(http://localhost/me/[^"]+)"', page).group(1)
    laptop = app.test_client()
    assert laptop.get(f"/attempts/{aid}").status_code == 404
    response = laptop.get(link.replace("http://localhost", ""))
    assert response.status_code == 303 and response.headers["Location"].endswith("/progress")
    assert "HttpOnly" in response.headers["Set-Cookie"]
    assert laptop.get(f"/attempts/{aid}").status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_nobody_else_can_open_or_list_attempts(client, app):
    aid = attempt_id(submit(client, sample(GOOD)))
    stranger = app.test_client()
    assert stranger.get(f"/attempts/{aid}").status_code == 404  # 404, not 403: no hint it exists
    assert stranger.get(f"/attempts/{aid + 1000}").status_code == 404
    assert "no essays yet" in stranger.get("/progress").get_data(as_text=True)
    assert "No attempts at this question yet" in stranger.get(f"/progress/{RUBRIC}").get_data(as_text=True)
    assert stranger.get("/me/not-a-real-token").status_code == 404
    token = csrf_token(stranger)
    assert stranger.post(f"/attempts/{aid}/mark", data={"csrf_token": token}).status_code == 404
    # a forged cookie gets nothing either
    stranger.set_cookie("essaycoach_student", "forged-token-value")
    assert stranger.get(f"/attempts/{aid}").status_code == 404


def test_healthz(client):
    assert client.get("/healthz").get_json()["ok"] is True


def test_points_rubric_feedback_has_a_mark_but_no_level(client):
    text = "You would need to know the amount of vinegar, the type of vinegar and the size of each sample to repeat it properly."
    aid = attempt_id(submit(client, text, rubric="asap-set1"))
    page = client.get(f"/attempts/{aid}").get_data(as_text=True)
    assert "Estimated mark" in page and "Estimated Level" not in page and '<span class="score-max">/3' in page
    again = attempt_id(submit(client, text + " Also how long to rinse them.", rubric="asap-set1", parent=aid))
    changes = client.get(f"/attempts/{again}").get_data(as_text=True)
    assert "What changed since" in changes and "Level None" not in changes


def test_dates_are_marked_up_for_local_time(client):
    aid = attempt_id(submit(client, sample(GOOD)))
    page = client.get(f"/attempts/{aid}").get_data(as_text=True)
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00">\d\d \w{3} \d{4}, \d\d:\d\d UTC</time>', page)
