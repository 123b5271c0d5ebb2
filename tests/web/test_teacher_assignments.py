"""Assignments: create with a rubric version and a class code, students join and write, what they see, versions.

A submission keeps the rubric version it was marked with; editing the rubric changes nothing already marked,
and re-marking with a newer version is an explicit action that adds new results beside the old ones.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.rubric import parse_rubric
from app.web.accounts import JOIN_LIMIT
from app.web.extensions import db
from app.web.models import Assignment, Attempt, Member, RubricVersion

from .classset import class_zip
from .support import RUBRIC, attempt_id, sample, submit
from .teacher_support import (
    class_code,
    create_assignment,
    editor_fields,
    job_id,
    join,
    mark_all,
    post,
    teacher_client,
    token,
    upload,
)

GOOD = "l4-theory-and-reality.txt"


def write(client, code: str, text: str, parent: int | None = None):
    data = {"csrf_token": token(client, f"/class/{code}"), "essay": text}
    if parent:
        data["parent"] = str(parent)
    return client.post(f"/class/{code}", data=data, content_type="multipart/form-data")


def class_attempt(response) -> int:
    assert response.status_code == 303, (response.status_code, response.get_data(as_text=True)[:400])
    return int(re.search(r"/class/attempts/(\d+)$", response.headers["Location"]).group(1))


def test_create_an_assignment_with_a_rubric_file_snapshots_it(app):
    t = teacher_client(app)
    page = t.get("/teacher/assignments/new").get_data(as_text=True)
    assert f'value="file:{RUBRIC}"' in page
    aid = create_assignment(t, title="10B: centralisation")
    code = class_code(t, aid)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", code)
    with app.app_context():
        a = db.session.get(Assignment, aid)
        assert a.question.startswith("To what extent was power")  # blank question: the rubric's
        assert a.rubric_version.record.origin == "file" and a.rubric_version.version == 1
        assert parse_rubric(a.rubric_version.yaml).id == RUBRIC
    assert create_assignment(t, title="another") != aid and class_code(t, create_assignment(t, title="third")) != code


def test_assignment_form_problems_are_shown(app):
    t = teacher_client(app)
    assert post(t, "/teacher/assignments/new", {"title": "", "rubric": f"file:{RUBRIC}"}).status_code == 400
    no_rubric = post(t, "/teacher/assignments/new", {"title": "x", "rubric": ""})
    assert no_rubric.status_code == 400 and "Choose one of your rubrics" in no_rubric.get_data(as_text=True)
    dates = post(t, "/teacher/assignments/new", {"title": "x", "rubric": f"file:{RUBRIC}", "opens_at": "2030-05-02", "closes_at": "2030-05-01"})
    assert dates.status_code == 400 and "closing date must be after" in dates.get_data(as_text=True)
    junk = post(t, "/teacher/assignments/new", {"title": "x", "rubric": f"file:{RUBRIC}", "opens_at": "tomorrow"})
    assert junk.status_code == 400 and "is not a date" in junk.get_data(as_text=True)


def test_settings_can_be_changed(app):
    t = teacher_client(app)
    aid = create_assignment(t)
    form = {"title": "Renamed", "question": "A new question?", "closes_at": "2031-01-31", "show_criteria": "1"}
    assert post(t, f"/teacher/assignments/{aid}/settings", form).status_code == 303
    with app.app_context():
        a = db.session.get(Assignment, aid)
        assert (a.title, a.question, a.show_concepts, a.show_mark) == ("Renamed", "A new question?", False, False)
        assert a.closes_at.replace(tzinfo=UTC) == datetime(2031, 2, 1, tzinfo=UTC)
    assert 'value="2031-01-31"' in t.get(f"/teacher/assignments/{aid}/settings").get_data(as_text=True)


def test_a_student_joins_with_the_code_and_a_name_then_writes_and_revises(app):
    t = teacher_client(app)
    aid = create_assignment(t, question="Was power centralised?")
    code = class_code(t, aid)
    student = app.test_client()
    assert student.get(f"/class/{code}").status_code == 303  # not a member yet: sent to the join page
    joined = join(student, code.lower()[:3] + " " + code.lower()[3:], "  Noor   Hassan ")
    assert joined.status_code == 303 and joined.headers["Location"].startswith(f"/class/{code}")
    write_page = student.get(f"/class/{code}").get_data(as_text=True)
    assert "Was power centralised?" in write_page and "writing as <strong>Noor Hassan</strong>" in write_page
    assert f'action="/class/{code}"' in write_page and f"essaycoach:draft:class:{code}:new" in write_page
    first = class_attempt(write(student, code, sample("l2-describing-institutions.txt")))
    second = class_attempt(write(student, code, sample(GOOD), parent=first))
    page = student.get(f"/class/attempts/{second}").get_data(as_text=True)
    assert "What changed since" in page and "Draft 2" in page and "Estimated Level" in page
    assert f'href="/class/{code}?revise={second}"' in page
    with app.app_context():
        a = db.session.get(Attempt, second)
        assert a.assignment_id == aid and a.rubric_version_id is not None and a.parent_id == first and a.status == "marked"
        assert db.session.query(Member).filter_by(assignment_id=aid).one().name == "Noor Hassan"
    # the student app's own pages send class work to its class page and keep it out of practice progress
    assert student.get(f"/attempts/{second}").headers["Location"] == f"/class/attempts/{second}"
    assert "no essays yet" in student.get("/progress").get_data(as_text=True)
    assert "Your classes" in student.get("/").get_data(as_text=True)
    # the teacher sees both drafts
    rows = t.get(f"/teacher/assignments/{aid}").get_data(as_text=True)
    assert "Noor Hassan" in rows
    member_page = t.get(f"/teacher/assignments/{aid}/students/1").get_data(as_text=True)
    assert member_page.count("Draft ") >= 2


def test_joining_twice_keeps_one_membership(app):
    t = teacher_client(app)
    code = class_code(t, create_assignment(t))
    student = app.test_client()
    join(student, code, "Sam")
    join(student, code, "Samuel")
    with app.app_context():
        assert [m.name for m in db.session.query(Member).all()] == ["Sam"]


def test_a_wrong_code_is_refused_and_guessing_is_limited(app):
    student = app.test_client()
    wrong = join(student, "ZZZZZZ", "Sam")
    assert wrong.status_code == 404 and "does not match any class" in wrong.get_data(as_text=True)
    for _ in range(JOIN_LIMIT.failures - 1):
        join(student, "ZZZZZZ", "Sam")
    assert join(student, "ZZZZZZ", "Sam").status_code == 429
    assert student.get("/class/ZZZZZZ").status_code == 404


def test_a_closed_assignment_takes_no_essays(app):
    t = teacher_client(app)
    aid = create_assignment(t)
    code = class_code(t, aid)
    student = app.test_client()
    join(student, code, "Sam")
    with app.app_context():
        a = db.session.get(Assignment, aid)
        a.closes_at = datetime.now(UTC) - timedelta(days=1)
        db.session.commit()
    refused = write(student, code, sample(GOOD))
    assert refused.status_code == 403 and "closed on" in refused.get_data(as_text=True)
    assert sample(GOOD)[:50] in refused.get_data(as_text=True)  # the essay is given back, not lost
    late = join(app.test_client(), code, "Late Larry")
    assert late.status_code == 403
    with app.app_context():
        assert db.session.query(Attempt).count() == 0


@pytest.mark.parametrize(
    ("setting", "hidden", "shown"),
    [
        ("show_mark", ['class="score-big"', "Estimated Level", "To reach Level"], ["Your essay has been checked", 'class="hl hl-c', "Even better if"]),
        ("show_concepts", ['class="hl hl-c', "Key ideas checklist"], ["Estimated Level", "Your next step", "To reach Level"]),
        ("show_hints", ["Your next step", "Why it matters", "id=\"skills-title\""], ["Estimated Level", "Key ideas checklist"]),
    ],
)
def test_the_teacher_decides_what_students_see_after_submitting(app, setting, hidden, shown):
    t = teacher_client(app)
    aid = create_assignment(t, **{setting: False})
    code = class_code(t, aid)
    student = app.test_client()
    join(student, code, "Sam")
    page = student.get(f"/class/attempts/{class_attempt(write(student, code, sample(GOOD)))}").get_data(as_text=True)
    for text in hidden:
        assert text not in page, text
    for text in shown:
        assert text in page, text


def test_success_criteria_before_submitting_follow_the_setting(app):
    t = teacher_client(app)
    shown, hidden = create_assignment(t, title="shown"), create_assignment(t, title="hidden", show_criteria=False)
    student = app.test_client()
    for aid in (shown, hidden):
        join(student, class_code(t, aid), "Sam")
    assert "Key ideas a strong answer uses" in student.get(f"/class/{class_code(t, shown)}").get_data(as_text=True)
    assert "Key ideas a strong answer uses" not in student.get(f"/class/{class_code(t, hidden)}").get_data(as_text=True)


def test_students_cannot_open_each_others_class_work(app):
    t = teacher_client(app)
    code = class_code(t, create_assignment(t))
    me, other = app.test_client(), app.test_client()
    join(me, code, "Me")
    mine = class_attempt(write(me, code, sample(GOOD)))
    assert other.get(f"/class/attempts/{mine}").status_code == 404
    join(other, code, "Other")
    assert other.get(f"/class/attempts/{mine}").status_code == 404
    practice = attempt_id(submit(me, sample(GOOD)))
    assert me.get(f"/class/attempts/{practice}").status_code == 404  # practice work is not class work


def test_the_teachers_comment_reaches_the_student(app):
    t = teacher_client(app)
    aid = create_assignment(t)
    code = class_code(t, aid)
    student = app.test_client()
    join(student, code, "Sam")
    att = class_attempt(write(student, code, sample(GOOD)))
    assert post(t, f"/teacher/assignments/{aid}/attempts/{att}/override", {"mark": "19", "comment": "Great use of the 1921 ban."}).status_code == 303
    page = student.get(f"/class/attempts/{att}").get_data(as_text=True)
    assert "From your teacher" in page and "Great use of the 1921 ban." in page and "<strong>19/25</strong>" in page


def test_a_submission_keeps_its_version_and_remarking_is_explicit(app):
    t = teacher_client(app)
    fields = editor_fields(t, f"/teacher/rubrics/new?from={RUBRIC}")
    fields["slug"] = "versioned"
    post(t, "/teacher/rubrics/new", fields)
    aid = create_assignment(t, "app:versioned:1")
    code = class_code(t, aid)
    student = app.test_client()
    join(student, code, "Sam")
    att = class_attempt(write(student, code, sample(GOOD)))
    job_id(upload(t, aid, class_zip()))
    mark_all(app)
    with app.app_context():
        before = {a.id: (a.rubric_version, a.mark, dict(a.result)) for a in db.session.query(Attempt).all()}
    override = post(t, f"/teacher/assignments/{aid}/attempts/{att}/override", {"mark": "20", "comment": "kept"})
    assert override.status_code == 303
    # version 2: the Politburo is worth far more, and a new concept
    fields = editor_fields(t, "/teacher/rubrics/versioned/edit")
    fields["concepts-1-weight"] = "20"
    assert post(t, "/teacher/rubrics/versioned/edit", fields).status_code == 303
    with app.app_context():
        after = {a.id: (a.rubric_version, a.mark, dict(a.result)) for a in db.session.query(Attempt).all()}
        v2 = db.session.query(RubricVersion).filter_by(version=2).one().id
    assert after == before  # nothing changed retroactively
    page = t.get(f"/teacher/assignments/{aid}").get_data(as_text=True)
    assert "Re-mark the class with another version" in page and f'<option value="{v2}">version 2' in page
    remark = post(t, f"/teacher/assignments/{aid}/remark", {"version": str(v2)})
    assert remark.status_code == 303
    assert mark_all(app) == 31
    with app.app_context():
        old = db.session.query(Attempt).filter(Attempt.id.in_(list(before))).all()
        assert all((a.rubric_version, a.mark) == before[a.id][:2] for a in old)  # the old results are still there
        new = db.session.query(Attempt).filter(Attempt.id.notin_(list(before))).all()
        assert len(new) == 31 and {a.rubric_version for a in new} == {2} and all(a.parent_id in before for a in new)
        assert db.session.get(Assignment, aid).rubric_version.version == 2
        sams = [a for a in new if a.parent_id == att]
    page = t.get(f"/teacher/assignments/{aid}/students/{1}").get_data(as_text=True)
    assert "v2" in page
    # the teacher's override was carried to the re-marked essay
    assert post(t, f"/teacher/assignments/{aid}/remark", {"version": "999"}).status_code == 404
    from app.web.overrides import override_of

    with app.app_context():
        assert override_of(db.session, db.session.get(Attempt, sams[0].id)).mark == 20


def test_a_student_practising_sees_no_class_menu_without_classes(client):
    assert "Your classes" not in client.get("/").get_data(as_text=True)
    assert 'href="/join"' in client.get("/").get_data(as_text=True)


def test_an_upload_never_lands_in_a_joined_students_history(app):
    t = teacher_client(app)
    aid = create_assignment(t)
    code = class_code(t, aid)
    student = app.test_client()
    join(student, code, "Amira Khan")
    mine = class_attempt(write(student, code, sample(GOOD)))
    job_id(upload(t, aid, class_zip()))  # the class zip has its own Amira Khan
    mark_all(app)
    with app.app_context():
        amiras = db.session.query(Member).filter_by(assignment_id=aid, name="Amira Khan").all()
        assert sorted(m.origin for m in amiras) == ["joined", "upload"]
        joined = next(m for m in amiras if m.origin == "joined")
        assert [a.id for a in db.session.query(Attempt).filter_by(assignment_id=aid, student_id=joined.student_id)] == [mine]
