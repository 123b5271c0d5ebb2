"""A marked class: the sortable results table, flags and near-duplicates, the heatmap, per-student feedback pages,
overrides (and the list calibration reads), and every export."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile


from app.web.extensions import db
from app.web.models import Attempt, Member
from app.web.overrides import teacher_marks

from .classset import COPIED, COPIER, class_essays
from .support import RUBRIC
from .teacher_support import (
    create_assignment,
    job_id,
    mark_all,
    post,
    teacher_client,
    upload,
)


def member_id(app, name: str) -> int:
    with app.app_context():
        return db.session.query(Member).filter_by(name=name).one().id


def rows(page: str) -> list[tuple[str, int]]:
    """(student, mark) in table order."""
    body = page.split('<table class="data results"')[1].split("</table>")[0]
    names = re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', body)
    marks = [int(m) for m in re.findall(r'<span class="mark-big">(\d+)</span>', body)]
    return list(zip(names, marks))


def test_the_results_table_lists_every_student_and_sorts(app, marked):
    t, aid = marked
    by_name = rows(t.get(f"/teacher/assignments/{aid}").get_data(as_text=True))
    assert len(by_name) == 30 and [n for n, _ in by_name] == sorted((n for n, _ in by_name), key=str.lower)
    by_mark = rows(t.get(f"/teacher/assignments/{aid}?sort=mark&dir=desc").get_data(as_text=True))
    assert [m for _, m in by_mark] == sorted((m for _, m in by_mark), reverse=True) and by_mark[0][1] > by_mark[-1][1]
    up = rows(t.get(f"/teacher/assignments/{aid}?sort=mark&dir=asc").get_data(as_text=True))
    assert [m for _, m in up] == sorted(m for _, m in up)
    page = t.get(f"/teacher/assignments/{aid}?sort=coverage&dir=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in page
    assert t.get(f"/teacher/assignments/{aid}?sort=nonsense").status_code == 200
    for column in ("Student", "Mark", "Level", "Coverage", "Slips", "Flags"):
        assert f">{column}<span" in page


def test_flags_too_short_off_topic_and_near_duplicates(app, marked):
    t, aid = marked
    essays = class_essays()
    page = t.get(f"/teacher/assignments/{aid}").get_data(as_text=True)
    assert page.count("flag-duplicate") >= 3 and "flag-too_short" in page and "flag-off_topic" in page
    copier, copied = essays[COPIER][0], essays[COPIED][0]
    first, second = sorted((member_id(app, copier), member_id(app, copied)))
    assert f"/teacher/assignments/{aid}/compare/{first}/{second}" in page
    compare = t.get(f"/teacher/assignments/{aid}/compare/{first}/{second}").get_data(as_text=True)
    assert "% similar" in compare and compare.count('class="essay plain"') == 2
    assert essays[COPIED][1][:80].replace("'", "&#39;") in compare
    # exactly one pair: the other essays, all on the same question, are not flagged
    section = page.split('id="dup-title"')[1]
    assert section.count("Compare side by side") == 1


def test_the_heatmap_concepts_missed_and_mark_distribution(app, marked):
    t, aid = marked
    page = t.get(f"/teacher/assignments/{aid}/class").get_data(as_text=True)
    body = page.split('<table class="heatmap">')[1].split("</table>")[0]
    assert body.count('<th scope="row" class="hm-name">') == 30 + 1  # students + the "Found by" row
    cells = re.findall(r'<td class="hm hm-(developed|found|missing|none)"', body)
    assert len(cells) == 30 * 14 and {"developed", "found", "missing"} <= set(cells)
    assert "Concepts the class most often missed" in page and page.count('aria-label="Missed by:') == 6
    assert '<svg class="chart histogram"' in page and page.count('class="bar"') >= 5
    assert "How many students got each mark" in page
    by_mark = t.get(f"/teacher/assignments/{aid}/class?sort=mark").get_data(as_text=True)
    marks = [int(m) for m in re.findall(r'<td class="hm-mark">(\d+)</td>', by_mark)]
    assert marks == sorted(marks, reverse=True)


def test_a_students_page_shows_the_feedback_and_takes_an_override(app, marked):
    t, aid = marked
    mid = member_id(app, "Grace Li")
    page = t.get(f"/teacher/assignments/{aid}/students/{mid}").get_data(as_text=True)
    assert "Grace Li" in page and 'class="hl hl-c' in page and "What went well" in page and "Your mark" in page
    attempt = int(re.search(r"/attempts/(\d+)/override", page).group(1))
    with app.app_context():
        engine = db.session.get(Attempt, attempt).mark
    saved = post(t, f"/teacher/assignments/{aid}/attempts/{attempt}/override", {"mark": str(engine + 3), "comment": "Add dates."})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("saved=1#override")
    page = t.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Teacher's mark" in page and f"{engine + 3}<span" in page and "Add dates." in page
    table = dict(rows(t.get(f"/teacher/assignments/{aid}").get_data(as_text=True)))
    assert table["Grace Li"] == engine + 3
    # out of range, not a number: refused with the reason, nothing changed
    for bad, words in [("26", "between 0 and 25"), ("-1", "between 0 and 25"), ("lots", "not a whole number")]:
        response = post(t, f"/teacher/assignments/{aid}/attempts/{attempt}/override", {"mark": bad, "comment": ""})
        assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert dict(rows(t.get(f"/teacher/assignments/{aid}").get_data(as_text=True)))["Grace Li"] == engine + 3
    # clearing both removes it
    post(t, f"/teacher/assignments/{aid}/attempts/{attempt}/override", {"mark": "", "comment": ""})
    assert dict(rows(t.get(f"/teacher/assignments/{aid}").get_data(as_text=True)))["Grace Li"] == engine


def test_overrides_are_listed_for_calibration(app, marked):
    t, aid = marked
    with app.app_context():
        attempts = db.session.query(Attempt).filter_by(assignment_id=aid).order_by(Attempt.id).limit(3).all()
        chosen = [(a.id, a.mark, a.text) for a in attempts]
    for n, (aid_, mark, _) in enumerate(chosen):
        post(t, f"/teacher/assignments/{aid}/attempts/{aid_}/override", {"mark": str(min(25, mark + n)), "comment": f"c{n}"})
    with app.app_context():
        listed = teacher_marks(db.session, RUBRIC)
        assert [(m.text, m.teacher_mark, m.engine_mark) for m in listed] == [(text, min(25, mark + n), mark) for n, (_, mark, text) in enumerate(chosen)]
        assert {(m.rubric_id, m.rubric_version) for m in listed} == {(RUBRIC, 1)} and listed[0].result["mark"] == chosen[0][1]
        assert teacher_marks(db.session, RUBRIC, version=2) == [] and teacher_marks(db.session, "other-rubric") == []


def test_student_details_for_the_gradebook(app, marked):
    t, aid = marked
    mid = member_id(app, "Amira Khan")
    ok = post(t, f"/teacher/assignments/{aid}/students/{mid}", {"name": "Amira Khan", "email": "amira@school.example", "sis_id": "S1001"})
    assert ok.status_code == 303
    bad = post(t, f"/teacher/assignments/{aid}/students/{mid}", {"name": "Amira Khan", "email": "not an email", "sis_id": ""})
    assert bad.status_code == 400 and "is not an e-mail address" in bad.get_data(as_text=True)
    with app.app_context():
        m = db.session.get(Member, mid)
        assert (m.email, m.sis_id) == ("amira@school.example", "S1001")


def test_printing_every_students_feedback_one_per_page(app, marked):
    t, aid = marked
    page = t.get(f"/teacher/assignments/{aid}/feedback").get_data(as_text=True)
    assert page.count('<div class="card report-card">') == 30 and 'class="wide print-reports' in page
    css = t.get("/static/css/app.css").get_data(as_text=True)
    assert ".print-reports .report-card { border: 0; padding: 0; margin: 0; break-after: page;" in css


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_canvas_export(app, marked):
    t, aid = marked
    response = t.get(f"/teacher/assignments/{aid}/export/canvas.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="10b-centralisation-canvas.csv"'
    data = csv_rows(response)
    assert data[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "10B: centralisation"]
    assert data[1] == ["    Points Possible", "", "", "", "", "25"]
    assert len(data) == 32 and ["Khan, Amira", "", "", "", ""] == data[2 + [r[0] for r in data[2:]].index("Khan, Amira")][:5]


def test_moodle_export_lists_only_students_it_can_match(app, marked):
    t, aid = marked
    amira = member_id(app, "Amira Khan")
    post(t, f"/teacher/assignments/{aid}/students/{amira}", {"name": "Amira Khan", "email": "amira@school.example", "sis_id": "S1"})
    data = csv_rows(t.get(f"/teacher/assignments/{aid}/export/moodle.csv"))
    assert data[0] == ["First name", "Last name", "ID number", "Email address", "10B: centralisation", "Feedback"]
    assert len(data) == 2 and data[1][:4] == ["Amira", "Khan", "S1", "amira@school.example"] and data[1][5].startswith("Level ")
    page = t.get(f"/teacher/assignments/{aid}/exports").get_data(as_text=True)
    assert "29 not included" in page and "no e-mail address" in page
    by_id = csv_rows(t.get(f"/teacher/assignments/{aid}/export/moodle.csv?by=idnumber"))
    assert len(by_id) == 2


def test_classroom_export(app, marked):
    t, aid = marked
    data = csv_rows(t.get(f"/teacher/assignments/{aid}/export/classroom.csv"))
    assert data[0] == ["Last Name", "First Name", "Email Address", "10B: centralisation"] and len(data) == 31
    assert ["Khan", "Amira", ""] == next(r for r in data if r[1] == "Amira")[:3]


def test_the_override_is_the_exported_grade(app, marked):
    t, aid = marked
    mid = member_id(app, "Ben Osei")
    page = t.get(f"/teacher/assignments/{aid}/students/{mid}").get_data(as_text=True)
    attempt = int(re.search(r"/attempts/(\d+)/override", page).group(1))
    post(t, f"/teacher/assignments/{aid}/attempts/{attempt}/override", {"mark": "24", "comment": "Brilliant. =SUM(A1)"})
    canvas = {r[0]: r[5] for r in csv_rows(t.get(f"/teacher/assignments/{aid}/export/canvas.csv"))[2:]}
    assert canvas["Osei, Ben"] == "24"
    full = csv_rows(t.get(f"/teacher/assignments/{aid}/export/results.csv"))
    header, ben = full[0], next(r for r in full if r[0] == "Ben Osei")
    assert ben[header.index("teacher_mark")] == "24" and ben[header.index("final_mark")] == "24"
    assert ben[header.index("teacher_comment")] == "Brilliant. =SUM(A1)"  # not at the start, so no quote needed


def test_full_results_csv_and_json(app, marked):
    t, aid = marked
    response = t.get(f"/teacher/assignments/{aid}/export/results.csv")
    assert response.get_data(as_text=True).startswith("\ufeff")  # Excel shows accents
    data = csv_rows(response)
    header = data[0]
    assert header[:4] == ["student", "email", "id_number", "source"] and "concept:politburo" in header and header[-1] == "drafts"
    assert len(data) == 31
    short = next(r for r in data if r[0] == class_essays()[29][0])
    assert "too_short" in short[header.index("flags")]
    doc = json.loads(t.get(f"/teacher/assignments/{aid}/export/results.json").get_data(as_text=True))
    assert doc["assignment"]["title"] == "10B: centralisation" and doc["rubric"]["id"] == RUBRIC
    assert len(doc["students"]) == 30 and doc["students"][0]["result"]["concepts"][0]["id"] == "centralisation"


def test_feedback_zip(app, marked):
    t, aid = marked
    response = t.get(f"/teacher/assignments/{aid}/export/feedback.zip")
    with zipfile.ZipFile(io.BytesIO(response.data)) as z:
        names = z.namelist()
        assert names[:2] == ["index.html", "style.css"] and len(names) == 32
        assert all(re.fullmatch(r"\d\d-[a-z0-9-]+\.html", n) for n in names[2:])
        index = z.read("index.html").decode()
        page = z.read(names[2]).decode()
    assert index.count('.html">') == 30 and 'href="style.css"' in page and "What went well" in page and "Alfie Reid" in page


def test_hostile_names_are_escaped_in_pages_and_defused_in_csv(app):
    t = teacher_client(app)
    aid = create_assignment(t)
    essay = class_essays(1)[0][1]
    text = f'student,email,essay\n"<script>alert(1)</script>",=HYPERLINK("http://x"),"{essay}"\n"=cmd|\' /C calc\'!A0",,"{essay}"\n'
    job_id(upload(t, aid, text.encode(), "class.csv"))
    mark_all(app)
    page = t.get(f"/teacher/assignments/{aid}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for kind in ("canvas", "classroom", "results"):
        for row in csv_rows(t.get(f"/teacher/assignments/{aid}/export/{kind}.csv"))[1:]:
            assert not any(cell.startswith(("=", "+", "@")) for cell in row), (kind, row)
