"""The teacher's journey in real headless Chromium against the app on waitress, with its background worker:
log in, clone the default rubric, add a concept and see it match in "Try it", create an assignment, upload a zip
of 30 essays, watch the progress bar finish, open the heatmap, override a mark, export the gradebook CSV.

Screenshots of the editor, the results table, the heatmap and a student's page go to test-artifacts/.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from app.web import services
from app.web.accounts import create_teacher
from app.web.extensions import db

from . import test_e2e as student_e2e
from .classset import class_essays, class_zip
from .support import RUBRIC

# The student end-to-end tests' server (the app as `essaycoach serve` runs it), browser and screenshot helpers.
e2e_app, server, pw, page = student_e2e.e2e_app, student_e2e.server, student_e2e.pw, student_e2e.page
browser, shot = student_e2e.browser, student_e2e.shot

EMAIL, PASSWORD = "head.of.history@school.example", "a long enough password"


@pytest.fixture(scope="module")
def teacher(e2e_app: Any) -> str:
    with e2e_app.app_context():
        create_teacher(db.session, EMAIL, PASSWORD)
        db.session.remove()
    return EMAIL


def log_in(page: Any) -> None:
    page.goto("/teacher/")
    assert page.url.endswith("/teacher/login?next=/teacher/")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/teacher/$"))


def test_teacher_goes_from_a_fresh_install_to_a_marked_class_with_exported_grades(page, teacher, e2e_app, tmp_path):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page)
    assert "Your classes" in page.text_content("h1")

    # clone the default rubric and add a concept
    page.click("nav >> text=Rubrics")
    page.click(f"a[data-clone='{RUBRIC}']")
    page.wait_for_url(re.compile(r"/teacher/rubrics/new\?from="))
    assert page.input_value("#f-slug") == f"{RUBRIC}-copy"
    page.fill("#f-slug", "centralisation-10b")
    page.fill("#f-title", "Soviet centralisation (10B)")
    before = page.locator(".concept-row").count()
    page.click("button[data-add=concepts]")
    assert page.locator(".concept-row").count() == before + 1  # added in the page, nothing sent
    new = page.locator(".concept-row").last
    new.locator("input[name$='-label']").fill("War Communism")
    new.locator("input[name$='-id']").fill("war_communism")
    new.locator("textarea[name$='-why']").fill("War Communism put the economy under central control before 1921.")
    new.locator("textarea[name$='-phrases']").fill("war communism\ngrain requisitioning")
    page.fill("#sample", "War Communism and grain requisitioning meant that the party controlled the economy. "
                         "After 1921 the Politburo took the key decisions.")
    war = page.locator("#try-concepts li").filter(has=page.locator("strong", has_text=re.compile(r"^War Communism$")))
    expect(war).to_have_count(1)
    expect(war).to_have_class(re.compile(r"state-(found|developed)"))
    expect(war.locator(".try-words code").first).to_contain_text("War Communism")
    assert page.locator("#try-essay mark.hl").count() >= 2
    politburo = page.locator("#try-concepts li").filter(has=page.locator("strong", has_text=re.compile(r"^The Politburo$")))
    assert politburo.locator(".try-state").text_content() != "✗ missing"
    new.scroll_into_view_if_needed()
    shot(page, "teacher-rubric-editor.png")
    page.click("#save")
    page.wait_for_url(re.compile(r"/teacher/rubrics/centralisation-10b\?saved=1"))
    assert "War Communism" in page.text_content("main")

    # an assignment with this rubric version
    page.click("text=Use in an assignment")
    assert page.locator("#rubric").input_value() == "app:centralisation-10b:1"
    page.fill("#title", "10B: Soviet centralisation essay")
    page.click("#save-assignment")
    page.wait_for_url(re.compile(r"/teacher/assignments/\d+$"))
    code = page.text_content("#class-code").strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", code)

    # upload the class: 30 essays and two files that cannot be marked; watch the progress bar
    essays = class_essays()
    data = class_zip(essays)
    with_bad = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(with_bad, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("10B essays/Ghost Student.txt", "")
        dst.writestr("10B essays/scan.txt", bytes(range(256)) * 4)
    upload = tmp_path / "10B essays.zip"
    upload.write_bytes(with_bad.getvalue())
    worker = services(e2e_app).worker
    worker.pause()  # so the bar is seen before it fills
    try:
        page.set_input_files("#class-file", str(upload))
        page.click("text=Upload and mark")
        page.wait_for_url(re.compile(r"/teacher/assignments/\d+\?job=\d+"))
        expect(page.locator("[data-job-count]")).to_have_text("0 of 30 essays")
        assert page.locator("progress.bar").get_attribute("value") == "0"
        assert "2 files not marked" in page.text_content(".problems-box summary")
        assert "the file is empty" in page.text_content(".problem-list") and "binary" in page.text_content(".problem-list")
    finally:
        worker.resume()
    expect(page).to_have_url(re.compile(r"\?done=\d+"), timeout=30_000)  # the bar filled and the page reloaded
    expect(page.locator("table.results .mark-big")).to_have_count(30)
    assert page.locator("table.results tbody tr").count() == 30 and page.locator(".job").count() == 0
    flags = page.text_content("table.results")
    assert "Near-duplicate" in flags and "Too short" in flags and "Off-topic?" in flags
    page.click("a.sort >> text=Mark")
    page.wait_for_url(re.compile(r"sort=mark"))
    marks = [int(m) for m in page.locator("table.results .mark-big").all_text_contents()]
    assert marks == sorted(marks, reverse=True) and marks[0] > marks[-1]
    page.locator("#results").scroll_into_view_if_needed()
    shot(page, "teacher-results.png", full_page=True)

    # the heatmap
    page.click("text=Class view: heatmap")
    page.wait_for_url(re.compile(r"/class$"))
    assert page.locator("table.heatmap tbody tr").count() == 30
    n_concepts = page.locator("table.heatmap thead th.hm-col").count()
    assert page.locator("table.heatmap tbody td.hm").count() == 30 * n_concepts
    assert page.locator("td.hm-developed").count() > 0 and page.locator("td.hm-missing").count() > 0
    assert page.locator("svg.histogram rect.bar").count() >= 3
    assert "War Communism" in page.text_content("table.heatmap thead")
    shot(page, "teacher-heatmap.png", full_page=True)

    # override one student's mark
    page.click("table.heatmap >> text=Grace Li")
    page.wait_for_url(re.compile(r"/students/\d+$"))
    engine = int(page.locator("#override-mark").get_attribute("placeholder"))
    mine = engine + 2 if engine <= 20 else engine - 2
    page.fill("#override-mark", str(mine))
    page.fill("#override-comment", "A strong argument; now add a date for the ban on factions.")
    page.click("text=Save mark")
    page.wait_for_url(re.compile(r"saved=1"))
    assert "Teacher's mark" in page.text_content(".report-marks") and f"{mine}/25" in page.text_content(".report-marks")
    shot(page, "teacher-student.png", full_page=True)
    class_url = page.url.split("/students/")[0]

    # every student's feedback prints, each from a new page
    page.goto(class_url + "/feedback")
    assert page.locator(".report").count() == 30
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible() and not page.locator(".page-head").is_visible()
    pdf = page.pdf(format="A4")
    assert 30 <= len(re.findall(rb"/Type\s*/Page[^s]", pdf)) <= 90  # one to three pages a student
    page.emulate_media(media="screen")

    # export the gradebook
    page.goto(class_url)
    page.click("text=Export grades")
    with page.expect_download() as download:
        page.click("#export-canvas")
    path = Path(download.value.path())
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "10B: Soviet centralisation essay"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "25"
    grades = {r[0]: r[5] for r in rows[2:]}
    assert len(grades) == 30 and grades["Li, Grace"] == str(mine)


def test_a_student_joins_with_the_code_and_the_teacher_sees_the_essay(page, teacher, e2e_app, pw, server, tmp_path):
    from playwright.sync_api import expect

    log_in(page)
    page.goto("/teacher/assignments/new")
    page.select_option("#rubric", f"file:{RUBRIC}")
    page.fill("#title", "11A practice essay")
    page.uncheck("input[name=show_mark]")
    page.click("#save-assignment")
    page.wait_for_url(re.compile(r"/teacher/assignments/\d+$"))
    code, teacher_url = page.text_content("#class-code").strip(), page.url

    student = browser(pw, tmp_path / "student", server)
    s = student.new_page()
    s.goto("/")
    s.click("text=Join a class with a code")
    s.fill("#code", code.lower())
    s.fill("#name", "Noor Hassan")
    s.click("button[type=submit]")
    s.wait_for_url(re.compile(rf"/class/{code}"))
    assert "writing as Noor Hassan" in s.text_content(".crumbs")
    s.fill("#essay", (Path(__file__).resolve().parents[2] / "app/samples/stalinist-centralisation/l4-theory-and-reality.txt").read_text())
    s.click("button[type=submit]")
    s.wait_for_url(re.compile(r"/class/attempts/\d+$"))
    assert "Your essay has been checked" in s.text_content("#summary-title")  # the mark is hidden by the teacher
    assert s.locator(".score-big").count() == 0 and s.locator("mark.hl").count() > 0
    shot(s, "student-class-feedback.png", full_page=True)
    student.close()

    page.goto(teacher_url)
    expect(page.locator("table.results tbody tr")).to_have_count(1)
    assert "Noor Hassan" in page.text_content("table.results") and page.locator("table.results .mark-big").count() == 1


def test_rubric_validation_errors_appear_next_to_the_field(page, teacher):
    log_in(page)
    page.goto(f"/teacher/rubrics/new?from={RUBRIC}")
    page.fill("#f-slug", "broken-copy")
    first = page.locator(".concept-row").first
    first.locator("input[name$='-label']").fill("")
    first.locator("textarea[name$='-token_patterns']").fill("[{LOWER: stalin}\n")
    page.click("#save")
    assert page.url.endswith("/teacher/rubrics/new")  # not saved: the form comes back
    label_errors = first.locator("[data-error-for$='-label'] .field-error")
    assert "at least 1 character" in label_errors.text_content()
    assert "line 1" in first.locator("[data-error-for$='-token_patterns'] .field-error").text_content()
    assert first.get_attribute("open") is not None
    page.goto("/teacher/rubrics/")
    assert "broken-copy" not in page.text_content("table")
