"""Helpers for the web tests: sample essays, and posting the write form the way a browser does."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "app" / "samples" / "stalinist-centralisation"
RUBRIC = "stalinist-centralisation"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, rubric: str = RUBRIC) -> str:
    page = client.get(f"/write/{rubric}")
    assert page.status_code == 200, page.status_code
    match = CSRF.search(page.get_data(as_text=True))
    assert match, "no CSRF token on the write page"
    return match.group(1)


def submit(client: FlaskClient, text: str | None = None, *, rubric: str = RUBRIC, file: tuple[bytes, str] | None = None, parent: int | None = None, follow: bool = False) -> Any:
    """POST the write form as a browser would (CSRF token from the page, multipart)."""
    data: dict[str, Any] = {"csrf_token": csrf_token(client, rubric), "essay": text or ""}
    if file is not None:
        data["file"] = (io.BytesIO(file[0]), file[1])
    if parent is not None:
        data["parent"] = str(parent)
    return client.post(f"/write/{rubric}", data=data, content_type="multipart/form-data", follow_redirects=follow)


def attempt_id(response: Any) -> int:
    assert response.status_code == 303, (response.status_code, response.get_data(as_text=True)[:500])
    match = re.search(r"/attempts/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))
