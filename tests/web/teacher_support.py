"""Helpers for the teacher workspace tests: accounts, logging in, forms as a browser posts them, classes."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from app.web.accounts import create_teacher
from app.web.batches import run_pending
from app.web.extensions import db

from .support import CSRF, RUBRIC

PASSWORD = "correct horse battery staple"


def make_teacher(app: Flask, email: str = "teacher@school.example", password: str = PASSWORD) -> int:
    with app.app_context():
        teacher = create_teacher(db.session, email, password)
        tid = teacher.id
        db.session.remove()
    return tid


def token(client: FlaskClient, path: str = "/teacher/login") -> str:
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def login(client: FlaskClient, email: str = "teacher@school.example", password: str = PASSWORD) -> Any:
    response = client.post("/teacher/login", data={"csrf_token": token(client), "email": email, "password": password})
    return response


def teacher_client(app: Flask, email: str = "teacher@school.example") -> FlaskClient:
    """A client logged in as a new teacher with this e-mail."""
    make_teacher(app, email)
    client = app.test_client()
    response = login(client, email)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client


def post(client: FlaskClient, path: str, data: dict[str, Any] | MultiDict[str, Any] | None = None, *, page: str | None = None, **kwargs: Any) -> Any:
    """POST with the CSRF token a page of the workspace carries."""
    form = MultiDict(data or {})
    form["csrf_token"] = token(client, page or "/teacher/")
    return client.post(path, data=form, **kwargs)


class _Form(HTMLParser):
    """The fields of a page's forms as a browser would submit them (templates and buttons left out)."""

    def __init__(self, form_id: str | None) -> None:
        super().__init__()
        self.form_id, self.inside, self.depth_template = form_id, form_id is None, 0
        self.fields: list[tuple[str, str]] = []
        self._area: list[str] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.form_id is not None:
            self.inside = a.get("id") == self.form_id
        if tag == "template":
            self.depth_template += 1
        if not self.inside or self.depth_template:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "file"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._area = [name, ""]
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and "selected" in a and self._select:
            self.fields.append((self._select, a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self.depth_template -= 1
        elif tag == "textarea" and self._area is not None:
            self.fields.append((self._area[0], self._area[1].removeprefix("\n")))
            self._area = None
        elif tag == "form" and self.form_id is not None:
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self._area is not None:
            self._area[1] += data


def form_fields(html: str, form_id: str | None = None) -> MultiDict[str, str]:
    parser = _Form(form_id)
    parser.feed(html)
    return MultiDict(parser.fields)


def editor_fields(client: FlaskClient, path: str) -> MultiDict[str, str]:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return form_fields(page.get_data(as_text=True), "rubric-form")


def create_assignment(client: FlaskClient, rubric: str = f"file:{RUBRIC}", title: str = "10B essay", **settings: Any) -> int:
    data = {"title": title, "rubric": rubric, "question": settings.pop("question", "")}
    for key in ("show_criteria", "show_concepts", "show_hints", "show_mark"):
        if settings.pop(key, True):
            data[key] = "1"
    data.update(settings)
    response = post(client, "/teacher/assignments/new", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return int(re.search(r"/teacher/assignments/(\d+)$", response.headers["Location"]).group(1))  # type: ignore[union-attr]


def class_code(client: FlaskClient, assignment_id: int) -> str:
    page = client.get(f"/teacher/assignments/{assignment_id}").get_data(as_text=True)
    return re.search(r'id="class-code">([A-Z0-9]+)<', page).group(1)  # type: ignore[union-attr]


def upload(client: FlaskClient, assignment_id: int, data: bytes, filename: str = "class.zip") -> Any:
    form = {"csrf_token": token(client, f"/teacher/assignments/{assignment_id}"), "file": (io.BytesIO(data), filename)}
    return client.post(f"/teacher/assignments/{assignment_id}/upload", data=form, content_type="multipart/form-data")


def job_id(response: Any) -> int:
    assert response.status_code == 303, (response.status_code, response.get_data(as_text=True)[:500])
    return int(re.search(r"job=(\d+)", response.headers["Location"]).group(1))  # type: ignore[union-attr]


def mark_all(app: Flask) -> int:
    return run_pending(app)


def join(client: FlaskClient, code: str, name: str) -> Any:
    return client.post("/join", data={"csrf_token": token(client, "/join"), "code": code, "name": name})
