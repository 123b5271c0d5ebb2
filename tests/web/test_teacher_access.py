"""Who may use the teacher workspace: every teacher route refuses anonymous visitors and students (302 to the
log-in page, 401 for JSON), each teacher sees only their own classes (404 for another's), log-in is rate-limited,
sessions are signed, expire, and end when the password changes."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from flask import Flask

from app.web.accounts import LOGIN_LIMIT, set_password
from app.web.extensions import db
from app.web.models import Attempt, Member, Teacher

from .classset import class_zip
from .support import RUBRIC, attempt_id, sample, submit
from .teacher_support import (
    PASSWORD,
    class_code,
    create_assignment,
    editor_fields,
    job_id,
    join,
    login,
    make_teacher,
    mark_all,
    post,
    teacher_client,
    token,
    upload,
)

TEACHER_BLUEPRINTS = ("teacher", "teacher_rubrics", "batch", "teacher_exports")


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """Teacher A with a rubric, a marked class (uploaded) and a student who joined; ids of everything."""
    a = teacher_client(app, "a@school.example")
    fields = editor_fields(a, f"/teacher/rubrics/new?from={RUBRIC}")
    fields["slug"] = "a-rubric"
    assert post(a, "/teacher/rubrics/new", fields).status_code == 303
    aid = create_assignment(a, "app:a-rubric:1", title="A's class")
    job = job_id(upload(a, aid, class_zip()[:]))
    mark_all(app)
    with app.app_context():
        member = db.session.query(Member).filter_by(assignment_id=aid).first()
        attempt = db.session.query(Attempt).filter_by(assignment_id=aid).first()
        ids = {"assignment_id": aid, "member_id": member.id, "attempt_id": attempt.id, "job_id": job, "first": member.id, "second": member.id + 1}
    return {"client": a, "ids": ids, "code": class_code(a, aid)}


def teacher_routes(app: Flask) -> list[tuple[str, str, str]]:
    """(method, endpoint, rule) for every teacher route."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in TEACHER_BLUEPRINTS:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                out.append((method, rule.endpoint, rule.rule))
    return sorted(out)


def build(rule: str, ids: dict[str, Any]) -> str:
    values = {**ids, "slug": "a-rubric", "number": 1, "kind": "canvas"}
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)


def test_the_teacher_routes_are_all_listed(app):
    routes = teacher_routes(app)
    assert len(routes) >= 30, routes
    assert ("POST", "batch.upload", "/teacher/assignments/<int:assignment_id>/upload") in routes


@pytest.mark.parametrize("who", ["anonymous", "student"])
def test_anonymous_visitors_and_students_are_refused_everywhere(app, world, who):
    visitor = app.test_client()
    if who == "student":  # a real student: practised, joined A's class and wrote there
        attempt_id(submit(visitor, sample("l4-theory-and-reality.txt")))
        assert join(visitor, world["code"], "Sneaky Sam").status_code == 303
        assert visitor.get_cookie("essaycoach_student") is not None
    csrf = token(visitor, "/join")
    for method, endpoint, rule in teacher_routes(app):
        url = build(rule, world["ids"])
        response = visitor.open(url, method=method, data={"csrf_token": csrf} if method == "POST" else None)
        assert response.status_code in (302, 401, 403), (method, url, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/teacher/login?next="), (url, response.headers["Location"])
        if url.endswith(".json"):
            assert response.status_code == 401 and response.get_json()["error"]["code"] == "login_required"
        assert b"A&#39;s class" not in response.data and b"Grace Li" not in response.data


def test_another_teacher_gets_404_for_everything_of_mine(app, world):
    b = teacher_client(app, "b@school.example")
    own_free = {"teacher.dashboard", "teacher.new_assignment", "teacher.create", "teacher_rubrics.index", "teacher_rubrics.new",
                "teacher_rubrics.create", "teacher_rubrics.import_yaml", "teacher_rubrics.try_it", "teacher_rubrics.show_file",
                "teacher_rubrics.export_file"}
    checked = 0
    for method, endpoint, rule in teacher_routes(app):
        if endpoint in own_free:
            continue
        url = build(rule, world["ids"])
        response = b.open(url, method=method, data={"csrf_token": token(b, "/teacher/")} if method == "POST" else None)
        assert response.status_code == 404, (method, url, response.status_code)
        checked += 1
    assert checked >= 20
    assert "A&#39;s class" not in b.get("/teacher/").get_data(as_text=True)
    assert "a-rubric" not in b.get("/teacher/rubrics/").get_data(as_text=True)
    # and A still sees all of it
    assert world["client"].get(f"/teacher/assignments/{world['ids']['assignment_id']}").status_code == 200


def test_cloning_another_teachers_rubric_or_setting_it_is_refused(app, world):
    b = teacher_client(app, "b@school.example")
    assert b.get("/teacher/rubrics/new?from=a-rubric").status_code == 404
    response = post(b, "/teacher/assignments/new", {"title": "x", "rubric": "app:a-rubric:1"})
    assert response.status_code == 400 and "Choose one of your rubrics" in response.get_data(as_text=True)


def test_login_logout_and_the_session_cookie(app):
    make_teacher(app)
    client = app.test_client()
    assert client.get("/teacher/").headers["Location"] == "/teacher/login?next=/teacher/"
    response = login(client)
    assert response.status_code == 303 and response.headers["Location"] == "/teacher/"
    cookie = response.headers["Set-Cookie"]
    assert "session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert PASSWORD not in cookie and "teacher@school.example" not in cookie
    assert client.get("/teacher/").status_code == 200
    assert post(client, "/teacher/logout").headers["Location"] == "/teacher/login"
    assert client.get("/teacher/").status_code == 302


def test_a_forged_session_cookie_is_not_a_login(app):
    make_teacher(app)
    client = app.test_client()
    client.set_cookie("session", "eyJ0ZWFjaGVyX2lkIjoxfQ.forged.signature")
    assert client.get("/teacher/").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(app):
    make_teacher(app)
    client = app.test_client()
    wrong = login(client, password="not the password")
    unknown = login(client, email="nobody@school.example")
    assert wrong.status_code == unknown.status_code == 401
    assert "That e-mail and password do not match an account." in wrong.get_data(as_text=True)
    assert "That e-mail and password do not match an account." in unknown.get_data(as_text=True)


def test_login_is_rate_limited_per_email_and_address(app):
    make_teacher(app)
    client = app.test_client()
    for _ in range(LOGIN_LIMIT.failures):
        assert login(client, password="guess").status_code == 401
    blocked = login(client)  # even the right password waits now
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) == 15 * 60
    assert "Too many failed attempts" in blocked.get_data(as_text=True)
    other = app.test_client()  # another address is not blocked
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert login(other).status_code == 303


def test_one_address_trying_many_emails_is_limited_too(app):
    make_teacher(app)
    client = app.test_client()
    statuses = [login(client, email=f"user{i}@school.example", password="x").status_code for i in range(31)]
    assert statuses[:30] == [401] * 30 and statuses[30] == 429


def test_a_successful_login_clears_the_failures(app):
    make_teacher(app)
    client = app.test_client()
    for _ in range(LOGIN_LIMIT.failures - 1):
        login(client, password="guess")
    assert login(client).status_code == 303
    post(client, "/teacher/logout")
    for _ in range(LOGIN_LIMIT.failures - 1):
        assert login(client, password="guess").status_code == 401
    assert login(client).status_code == 303


def test_changing_the_password_ends_other_sessions(app):
    make_teacher(app)
    client = app.test_client()
    login(client)
    assert client.get("/teacher/").status_code == 200
    with app.app_context():
        set_password(db.session, db.session.query(Teacher).one(), "a brand new password")
    assert client.get("/teacher/").status_code == 302


def test_sessions_expire(app, monkeypatch):
    make_teacher(app)
    client = app.test_client()
    login(client)
    later = time.time() + app.config["TEACHER_SESSION_HOURS"] * 3600 + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/teacher/").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "/write/x"])
def test_login_never_redirects_off_the_workspace(app, target):
    make_teacher(app)
    client = app.test_client()
    response = client.post("/teacher/login", data={"csrf_token": token(client), "email": "teacher@school.example", "password": PASSWORD, "next": target})
    assert response.headers["Location"] == "/teacher/"


def test_login_returns_to_the_page_asked_for(app):
    make_teacher(app)
    client = app.test_client()
    first = client.get("/teacher/rubrics/")
    nxt = first.headers["Location"].split("next=")[1]
    response = client.post("/teacher/login", data={"csrf_token": token(client), "email": "teacher@school.example", "password": PASSWORD, "next": nxt})
    assert response.headers["Location"] == "/teacher/rubrics/"


def test_changes_need_the_csrf_token(app):
    client = teacher_client(app)
    assert client.post("/teacher/assignments/new", data={"title": "x", "rubric": f"file:{RUBRIC}"}).status_code == 400
    assert client.post("/teacher/rubrics/try.json", data={"sample": "x"}).status_code == 400


def test_passwords_are_stored_hashed(app):
    make_teacher(app)
    with app.app_context():
        stored = db.session.query(Teacher).one().password_hash
    assert stored.startswith("scrypt:") and PASSWORD not in stored
