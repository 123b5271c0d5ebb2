"""End to end in real headless Chromium (Playwright) against the app on waitress: write, upload, revise, progress.

Screenshots of the feedback and progress pages go to test-artifacts/.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from app.web import services, upgrade_db
from app.web.extensions import db

from .conftest import make_app
from .support import ROOT, RUBRIC, sample

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def _require_browser() -> None:
    """Skip locally without Chromium; in CI (CI set) a missing browser is a failure, never a silent skip."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing: apt-get install chromium chromium-driver (.ci/run does this)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is missing: pip install -e '.[test]'"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"end-to-end tests need a browser in CI: {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="module")
def e2e_app(tmp_path_factory: pytest.TempPathFactory, rubrics_dir: Path) -> Iterator[Any]:
    """The app as `essaycoach serve` runs it (not TESTING: the batch worker runs), on a migrated database."""
    _require_browser()
    app = make_app(tmp_path_factory.mktemp("e2e") / "e2e.sqlite", rubrics_dir, TESTING=False)
    upgrade_db(app)
    with app.app_context():
        store = services().rubrics
    services(app).marking.warm(lambda: [r for _, r in store.all()])
    yield app
    if services(app).worker is not None:
        services(app).worker.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def server(e2e_app: Any) -> Iterator[str]:
    """The app on waitress on 127.0.0.1 and a free port, in a background thread."""
    from waitress.server import create_server

    srv = create_server(e2e_app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, name="e2e-waitress", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.task_dispatcher.shutdown()
    srv.close()
    thread.join(timeout=5)


@pytest.fixture
def pw(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


def browser(pw: Any, profile: Path, server: str) -> Any:
    """Chromium with a fresh profile folder (its own --user-data-dir)."""
    return pw.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
        viewport={"width": 1280, "height": 900}, base_url=server,
    )


@pytest.fixture
def page(pw: Any, server: str, tmp_path: Path) -> Iterator[Any]:
    """A page in a fresh browser per test; console errors, CSP violations and off-site requests fail the test."""
    context = browser(pw, tmp_path / "profile", server)
    page = context.pages[0] if context.pages else context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append(f"off-site request {r.url}") if not r.url.startswith((server, "data:", "about:")) else None)
    page.set_default_timeout(15_000)
    yield page
    context.close()
    expected = [e for e in errors if "status of 4" not in e and "status of 5" not in e]  # error pages we opened on purpose
    assert not expected, expected


def shot(page: Any, name: str, **kwargs: Any) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), **kwargs)
    return path


def write_and_submit(page: Any, text: str) -> None:
    page.goto("/")
    page.click(f"a[href='/write/{RUBRIC}']")
    page.fill("#essay", text)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/attempts/\d+$"))


def test_write_an_essay_and_see_highlighted_concepts_and_the_level(page):
    page.goto("/")
    shot(page, "home.png", full_page=True)
    page.goto(f"/write/{RUBRIC}")
    essay = sample("l4-theory-and-reality.txt")
    page.fill("#essay", essay)
    shot(page, "write.png")
    words = len(essay.split())
    assert page.text_content("#word-count") == f"{words} words"
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    assert re.search(r"Estimated Level \d", page.text_content("#summary-title"))
    marks = page.locator("mark.hl")
    assert marks.count() >= 8
    tip = marks.first.locator(".tip")
    assert not tip.is_visible()
    marks.first.hover()
    assert tip.is_visible() and "Concept" in tip.text_content()
    page.mouse.move(0, 0)
    marks.nth(2).focus()  # keyboard users get the same explanation
    assert marks.nth(2).locator(".tip").is_visible()
    assert page.locator(".concept.state-missing").count() >= 1
    assert "Why it matters" in page.text_content(".checklist")
    shot(page, "feedback.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    shot(page, "feedback-phone.png", full_page=True)
    page.emulate_media(media="print")
    assert not page.locator("header.site nav").is_visible() and not page.locator("nav.actions").is_visible()
    assert page.locator("#essay mark.hl").first.is_visible()
    page.pdf(path=str(ARTIFACTS / "feedback.pdf"))


def test_misconceptions_are_marked_in_the_essay(page):
    write_and_submit(page, sample("l3-misconceptions.txt"))
    assert page.locator("mark.hl-mis").count() >= 1
    page.locator("mark.hl-mis").first.hover()
    assert "Check this fact" in page.locator("mark.hl-mis").first.locator(".tip").text_content()
    shot(page, "feedback-misconceptions.png", full_page=True)


def test_upload_a_docx(page, tmp_path):
    document = Document()
    for para in sample("l4-ban-on-factions-and-stalin.txt").split("\n\n"):
        document.add_paragraph(para.strip())
    path = tmp_path / "my essay.docx"
    document.save(path)
    page.goto(f"/write/{RUBRIC}")
    page.set_input_files("#file", str(path))
    assert "my essay.docx will be marked" in page.text_content("#file-note")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    assert "from my essay.docx" in page.text_content(".fb-head")
    assert page.locator("mark.hl").count() >= 8


def test_an_unreadable_upload_shows_the_reason(page, tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    page.goto(f"/write/{RUBRIC}")
    page.set_input_files("#file", str(path))
    page.click("button[type=submit]")
    assert "unsupported file type" in page.text_content("[role=alert]")


def test_revise_and_see_the_change_then_open_the_progress_chart(page):
    write_and_submit(page, sample("l2-describing-institutions.txt"))
    first_level = page.text_content("#summary-title")
    page.click("text=Revise and resubmit >> nth=0")
    page.wait_for_url(re.compile(r"revise=\d+"))
    assert page.input_value("#essay").startswith(sample("l2-describing-institutions.txt")[:40])
    page.fill("#essay", sample("l4-ban-on-factions-and-stalin.txt"))
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    changes = page.text_content(".changes")
    assert "What changed since draft 1" in changes and "New key ideas" in changes and "(up " in changes
    assert page.text_content("#summary-title") != first_level
    shot(page, "feedback-revised.png", full_page=True)
    page.click("nav.actions >> text=My progress")
    page.wait_for_url(re.compile(rf"/progress/{RUBRIC}$"))
    chart = page.locator("svg.chart")
    assert chart.is_visible() and chart.locator("circle.dot-mark").count() == 2
    assert page.locator("table.attempts tbody tr").count() == 2
    shot(page, "progress.png", full_page=True)


def test_a_draft_survives_closing_the_tab(page):
    from playwright.sync_api import expect

    page.goto(f"/write/{RUBRIC}")
    page.fill("#essay", "The Politburo took the key decisions after 1921.")
    expect(page.locator("#draft-status")).to_contain_text("Draft saved")  # polls without eval: the CSP forbids it
    context = page.context
    page.close()
    again = context.new_page()
    again.goto(f"/write/{RUBRIC}")
    assert again.input_value("#essay") == "The Politburo took the key decisions after 1921."
    assert "Restored your unsaved draft" in again.text_content("#draft-status")
    again.fill("#essay", sample("l4-theory-and-reality.txt"))
    again.click("button[type=submit]")
    again.wait_for_url(re.compile(r"/attempts/\d+$"))
    again.goto(f"/write/{RUBRIC}")  # submitted: the draft is cleared, the editor starts empty
    assert again.input_value("#essay") == ""
    again.close()


def test_another_browser_cannot_open_my_attempt_but_my_private_link_can(page, pw, server, tmp_path):
    write_and_submit(page, sample("l4-theory-and-reality.txt"))
    mine = page.url
    page.goto("/progress")
    link = page.input_value(".link-input")
    assert re.fullmatch(rf"{server}/me/[A-Za-z0-9_\-]{{20,}}", link)
    other = browser(pw, tmp_path / "other", server)
    stranger = other.new_page()
    assert stranger.goto(mine).status == 404
    stranger.goto(link)
    assert stranger.url.endswith("/progress") and stranger.goto(mine).status == 200
    other.close()


def test_missing_browser_skips_locally_but_fails_in_ci(monkeypatch, tmp_path):
    from _pytest.outcomes import Failed, Skipped

    monkeypatch.setitem(globals(), "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(Skipped, match="no-chromium is missing"):
        _require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(Failed, match="need a browser in CI"):
        _require_browser()
