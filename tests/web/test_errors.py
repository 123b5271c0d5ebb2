"""Bad input gets a clear message and the right status, never a stack trace; security headers and CSRF."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document

from app.web.extensions import db
from app.web.models import Attempt

from .support import RUBRIC, attempt_id, csrf_token, sample, submit

GOOD = "l4-theory-and-reality.txt"


def docx_bytes(paragraphs: list[str]) -> bytes:
    document = Document()
    for p in paragraphs:
        document.add_paragraph(p)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def saved_attempts(app) -> int:
    with app.app_context():
        return db.session.query(Attempt).count()


def error_text(response) -> str:
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text
    return text


@pytest.mark.parametrize("text", ["", "   \n\t  \r\n "])
def test_empty_or_whitespace_essay_is_refused_with_a_message(client, app, text):
    response = submit(client, text)
    assert response.status_code == 400
    page = error_text(response)
    assert 'role="alert"' in page and "The essay is empty" in page
    assert saved_attempts(app) == 0


def test_over_20000_words_is_413_and_keeps_the_text(client, app):
    text = "Stalin centralised power. " * 6700  # 20,100 words, well under 2 MB
    response = submit(client, text)
    assert response.status_code == 413
    page = error_text(response)
    assert "the limit is 20,000" in page and "Stalin centralised power. Stalin" in page
    assert saved_attempts(app) == 0


def test_request_over_2_mb_is_413(client):
    response = submit(client, "x" * (2 * 1024 * 1024 + 100_000))
    assert response.status_code == 413
    assert "Too big to mark" in error_text(response)


def test_uploaded_file_over_2_mb_is_413(client):
    response = submit(client, file=(b"word " * (2 * 1024 * 1024 // 5 + 10), "huge.txt"))
    assert response.status_code == 413
    assert "the limit is 2 MB" in error_text(response)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "essay.txt", "binary file"),
        (b"Stalin centralised power in the party" + b"\xff\xfe\xfa caf\xe9", "essay.txt", "not valid UTF-8"),
        (b"%PDF-1.4 some pdf", "essay.pdf", "unsupported file type"),
        (b"plain words", "essay", "unsupported file type"),
        (b"PK\x03\x04 this is not really a zip", "essay.docx", "not a valid .docx"),
        (b"I typed this in Notepad and called it .docx", "essay.docx", "not a valid .docx"),
    ],
    ids=["binary", "undecodable", "pdf", "no-extension", "corrupt-docx", "not-zip-docx"],
)
def test_unreadable_uploads_are_400_with_a_reason(client, app, data, name, message):
    response = submit(client, file=(data, name))
    assert response.status_code == 400
    page = error_text(response)
    assert message in page and "We could not mark that." in page
    assert saved_attempts(app) == 0


def test_docx_upload_is_read_and_marked(client, app):
    paragraphs = [p for p in sample(GOOD).split("\n\n") if p.strip()]
    aid = attempt_id(submit(client, file=(docx_bytes(paragraphs), "my essay.docx")))
    page = client.get(f"/attempts/{aid}").get_data(as_text=True)
    assert "from my essay.docx" in page and "Estimated Level" in page
    with app.app_context():
        assert db.session.get(Attempt, aid).text.startswith(paragraphs[0])


def test_txt_and_md_uploads_are_marked(client):
    for name in ("essay.txt", "essay.md"):
        aid = attempt_id(submit(client, file=(sample(GOOD).encode("utf-8"), name)))
        assert f"from {name}" in client.get(f"/attempts/{aid}").get_data(as_text=True)


def test_unknown_rubric_is_404_for_pages_and_form(client):
    for path in ("/write/no-such-rubric", "/write/..%2F..%2Fetc%2Fpasswd", "/progress/NO"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Not found" in error_text(response)
    token = csrf_token(client)
    assert client.post("/write/no-such-rubric", data={"csrf_token": token, "essay": "text"}).status_code == 404


def test_invalid_rubric_file_is_a_clear_500(client):
    response = client.get("/write/broken")
    assert response.status_code == 500
    assert "rubric has errors" in error_text(response)


def test_unknown_page_and_wrong_method(client):
    assert client.get("/nowhere").status_code == 404
    response = client.get("/attempts/1/mark")
    assert response.status_code == 405
    assert "Not allowed" in error_text(response)


def test_form_without_csrf_token_is_refused(client, app):
    csrf_token(client)  # a session exists, but the token is not sent
    response = client.post(f"/write/{RUBRIC}", data={"essay": sample(GOOD)})
    assert response.status_code == 400
    assert "This form has expired" in error_text(response)
    response = client.post(f"/write/{RUBRIC}", data={"essay": sample(GOOD), "csrf_token": "forged"})
    assert response.status_code == 400
    assert saved_attempts(app) == 0


def test_unexpected_errors_are_a_plain_500_page(client, app, monkeypatch):
    store = app.extensions["essaycoach"].rubrics

    def explode():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(store, "all", explode)
    response = client.get("/")
    assert response.status_code == 500
    page = error_text(response)
    assert "Something went wrong on our side" in page and "secret internals" not in page


def test_security_headers_and_cookies(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    page = client.get(f"/write/{RUBRIC}")
    session_cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    # no inline scripts or styles anywhere: every <script> has a src, no style attributes
    aid = attempt_id(submit(client, sample(GOOD)))
    for path in ("/", f"/write/{RUBRIC}", f"/attempts/{aid}", f"/progress/{RUBRIC}", "/progress"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert " style=" not in html and "<style" not in html, path
        assert "http://" not in html.replace("http://localhost/", "").replace('xmlns="http://www.w3.org/2000/svg"', ""), path
