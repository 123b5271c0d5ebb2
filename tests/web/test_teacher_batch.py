"""Batch marking: hostile uploads (each bad file reported by name, the rest marked), CSV uploads, background jobs
whose state lives in the database, progress, and a restart that resumes unfinished work."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from pathlib import Path

import pytest

from app.web import services, uploads
from app.web.batches import requeue_interrupted
from app.web.extensions import db
from app.web.models import Attempt, BatchJob
from app.web.uploads import UploadRefused, read_csv, read_upload, read_zip

from .classset import class_essays, class_zip
from .conftest import make_app
from .support import sample
from .teacher_support import create_assignment, job_id, mark_all, teacher_client, upload

ESSAY = sample("l4-theory-and-reality.txt")


def zip_of(*entries: tuple[str | zipfile.ZipInfo, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


def reasons(up) -> dict[str, str]:
    return {p.name: p.reason for p in up.problems}


# -- reading uploads ---------------------------------------------------------------------------
def test_a_class_zip_is_read_one_essay_per_student():
    up = read_zip(class_zip())
    assert len(up.essays) == 30 and not up.problems
    assert up.essays[0].student == "Amira Khan" and up.essays[0].name == "10B essays/Amira Khan.txt"


def test_moodle_folders_name_the_students():
    up = read_zip(zip_of(("Amira Khan_1234_assignsubmission_file_/essay.txt", ESSAY), ("Ben Osei_99_assignsubmission_file_/my essay.txt", ESSAY)))
    assert [e.student for e in up.essays] == ["Amira Khan", "Ben Osei"]


def test_a_folder_per_student_names_the_students():
    up = read_zip(zip_of(("Amira Khan/essay.txt", ESSAY), ("Ben Osei/essay.txt", ESSAY)))
    assert [e.student for e in up.essays] == ["Amira Khan", "Ben Osei"]


def test_a_zip_bomb_member_is_cut_off_at_2_mb_while_reading():
    bomb = b"0" * (200 * 1024 * 1024)  # 200 MB of zeros: about 200 kB compressed
    up = read_zip(zip_of(("bomb.txt", bomb), ("Amira Khan.txt", ESSAY)))
    assert "more than 2 MB" in reasons(up)["bomb.txt"] and [e.student for e in up.essays] == ["Amira Khan"]


def _lie_about_size(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size a zip declares for `name` (local header and central directory)."""
    out = bytearray(data)
    local = out.find(b"PK\x03\x04")
    struct.pack_into("<I", out, local + 22, size)
    central = out.find(b"PK\x01\x02" )
    while central != -1:
        (name_len,) = struct.unpack_from("<H", out, central + 28)
        if bytes(out[central + 46 : central + 46 + name_len]) == name:
            struct.pack_into("<I", out, central + 24, size)
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def test_sizes_are_counted_while_reading_not_taken_from_the_headers():
    data = _lie_about_size(zip_of(("liar.txt", b"word " * 2_000_000), ("Amira Khan.txt", ESSAY)), b"liar.txt", 100)
    up = read_zip(data)
    assert "liar.txt" in reasons(up)  # refused (too big, or damaged): never unpacked past the limit
    assert [e.student for e in up.essays] == ["Amira Khan"]


def test_the_total_unpacked_size_is_limited(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_TOTAL_UNPACKED", len(ESSAY.encode()) * 2 + 10)
    up = read_zip(zip_of(("A One.txt", ESSAY), ("B Two.txt", ESSAY), ("C Three.txt", ESSAY)))
    assert [e.student for e in up.essays] == ["A One", "B Two"]
    assert "unpacks to more than" in reasons(up)["C Three.txt"]


def test_too_many_entries_is_refused_and_too_many_essays_reported(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ENTRIES", 10)
    with pytest.raises(UploadRefused, match="11 entries"):
        read_zip(zip_of(*[(f"s{i}.txt", ESSAY) for i in range(11)]))
    monkeypatch.setattr(uploads, "MAX_FILES", 3)
    up = read_zip(zip_of(*[(f"Student {i}.txt", ESSAY) for i in range(5)]))
    assert len(up.essays) == 3 and "at most 3 essays" in reasons(up)["2 more files"]


@pytest.mark.parametrize("name", ["../../etc/evil.txt", "/etc/evil.txt", "C:\\Windows\\evil.txt", "a/../../evil.txt"])
def test_path_traversal_names_are_refused(name):
    up = read_zip(zip_of((name, ESSAY), ("Amira Khan.txt", ESSAY)))
    assert "path traversal" in next(iter(reasons(up).values())) and len(up.essays) == 1


def _encrypted(data: bytes, name: bytes) -> bytes:
    """Set the "encrypted" flag of `name` in the local header and the central directory."""
    out = bytearray(data)
    for sig, flag_at, name_len_at, name_at in ((b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)):
        at = out.find(sig)
        while at != -1:
            (n,) = struct.unpack_from("<H", out, at + name_len_at)
            if bytes(out[at + name_at : at + name_at + n]) == name:
                struct.pack_into("<H", out, at + flag_at, struct.unpack_from("<H", out, at + flag_at)[0] | 1)
            at = out.find(sig, at + 4)
    return bytes(out)


def test_hostile_files_are_each_reported_by_name_and_the_rest_are_read():
    link = zipfile.ZipInfo("link.txt")
    link.external_attr = (0o120777 << 16)
    locked = "locked.txt"
    up = read_zip(_encrypted(zip_of(
        ("Amira Khan.txt", ESSAY),
        ("inner.zip", zip_of(("x.txt", ESSAY))),
        ("latin.txt", "Caf\xe9 society and the Politburo".encode("latin-1")),
        ("empty.txt", b""),
        ("blank.txt", b"   \n\n  "),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(200)),
        ("binary.txt", bytes(range(256)) * 8),
        (link, b"/etc/passwd"),
        (locked, ESSAY),
        ("__MACOSX/._Amira Khan.txt", b"\x00\x05\x16\x07"),
        (".DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("Ben Osei.docx", b"not really a docx"),
        ("Esc\x1b[31mape.txt", ESSAY),
    ), b"locked.txt"))
    r = reasons(up)
    assert [e.student for e in up.essays] == ["Amira Khan", "Esc\x1b[31mape"]
    assert up.essays[1].name == "Esc\\x1b[31mape.txt"  # control characters never reach a page or a terminal raw
    assert "archive inside the zip" in r["inner.zip"]
    assert "not valid UTF-8" in r["latin.txt"]
    assert r["empty.txt"] == "the file is empty" and "no text" in r["blank.txt"]
    assert "unsupported file type" in r["photo.png"] and "binary" in r["binary.txt"]
    assert "symbolic link" in r["link.txt"] and "password-protected" in r["locked.txt"]
    assert "docx" in r["Ben Osei.docx"]
    assert not any("MACOSX" in n or "DS_Store" in n for n in r)  # system files are skipped quietly


def test_duplicates_are_reported():
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = zip_of(("Amira Khan.txt", ESSAY), ("Amira Khan.txt", "second " * 40), ("amira khan.md", ESSAY))
    up = read_zip(data)
    assert len(up.essays) == 1 and up.essays[0].text == ESSAY
    assert "duplicate" in reasons(up)["Amira Khan.txt"] and "(Amira Khan.txt) is already for Amira Khan" in reasons(up)["amira khan.md"]


@pytest.mark.parametrize("data", [b"PK\x03\x04 truncated", b"PK\x05\x06" + bytes(18), zip_of(("a.txt", ESSAY))[:-30], zip_of(("notes/", b""))])
def test_a_damaged_zip_is_refused(data):
    with pytest.raises(UploadRefused):
        read_upload(data, "class.zip")


def test_other_files_are_refused():
    with pytest.raises(UploadRefused, match="upload a .zip"):
        read_upload(b"%PDF-1.4", "class.pdf")
    with pytest.raises(UploadRefused, match="empty"):
        read_upload(b"", "class.zip")


# -- CSV ----------------------------------------------------------------------------------------
def test_a_csv_with_student_and_essay_columns():
    text = 'Name,E-mail,ID number,Essay\n"Khan, Amira",amira@school.example,1001,"' + ESSAY.replace('"', '""') + '"\nBen Osei,,1002,Too short.\n'
    up = read_csv(("\ufeff" + text).encode("utf-8"))
    assert [(e.student, e.email, e.sis_id) for e in up.essays] == [("Khan, Amira", "amira@school.example", "1001"), ("Ben Osei", None, "1002")]
    assert up.essays[0].text == ESSAY.strip()


def test_csv_without_a_header_semicolons_and_utf16():
    assert [e.student for e in read_csv(f"Amira Khan,{ESSAY[:300]!r}\n".encode()).essays] == ["Amira Khan"]
    semi = f"student;essay\nAmira Khan;{ESSAY[:300]}\n".encode()
    assert [e.student for e in read_csv(semi).essays] == ["Amira Khan"]
    utf16 = f"student,essay\nZoë Ünal,{ESSAY[:300]}\n".encode("utf-16")
    assert [e.student for e in read_csv(utf16).essays] == ["Zoë Ünal"]


def test_csv_problems_are_reported_by_row():
    text = f"student,essay\n,{ESSAY[:200]}\nAmira Khan,\nBen Osei,{ESSAY[:200]}\nben osei,{ESSAY[:100]}\nLong Essay,{'word ' * 30_000}\n"
    up = read_csv(text.encode())
    r = reasons(up)
    assert [e.student for e in up.essays] == ["Ben Osei"]
    assert r["row 2"] == "no student name in this row" and "empty" in r["row 3 (Amira Khan)"]
    assert "row 4 is already for ben osei" in r["row 5 (ben osei)"] and "20,000" in r["row 6 (Long Essay)"]


def test_bad_csvs_are_refused():
    with pytest.raises(UploadRefused, match="not UTF-8"):
        read_csv("student,essay\nZo\xeb,text".encode("latin-1"))
    with pytest.raises(UploadRefused, match="header row"):
        read_csv(b"who,what,when\na,b,c\n")


# -- through the pages --------------------------------------------------------------------------
def test_upload_queues_a_job_that_the_worker_marks(app):
    t = teacher_client(app)
    aid = create_assignment(t)
    data = zip_of(*[(f"10B/{n}.txt", text) for n, text in class_essays(5)], ("10B/empty.txt", b""), ("../evil.txt", ESSAY))
    job = job_id(upload(t, aid, data, "10B.zip"))
    progress = t.get(f"/teacher/jobs/{job}.json").get_json()
    assert progress == {"job": job, "status": "queued", "total": 5, "marked": 0, "failed": 0, "done": 0, "percent": 0,
                        "problems": progress["problems"]}
    assert {p["name"] for p in progress["problems"]} == {"10B/empty.txt", "../evil.txt"}
    page = t.get(f"/teacher/assignments/{aid}?job={job}").get_data(as_text=True)
    assert f'data-job-url="/teacher/jobs/{job}.json"' in page and "0 of 5 essays" in page and '<progress class="bar"' in page
    assert "2 files not marked" in page and "10B/empty.txt" in page and "the file is empty" in page
    assert '<script src="/static/js/teacher.js" defer></script>' in page
    assert mark_all(app) == 5
    done = t.get(f"/teacher/jobs/{job}.json").get_json()
    assert (done["status"], done["marked"], done["percent"]) == ("done", 5, 100)
    page = t.get(f"/teacher/assignments/{aid}").get_data(as_text=True)
    assert "data-job-url" not in page and page.count('class="mark-big"') == 5
    with app.app_context():
        j = db.session.get(BatchJob, job)
        assert j.status == "done" and j.finished_at is not None


def test_a_refused_upload_says_why(app):
    t = teacher_client(app)
    aid = create_assignment(t)
    response = upload(t, aid, b"%PDF-1.7 ...", "essays.pdf")
    assert response.status_code == 400 and "upload a .zip of essays" in response.get_data(as_text=True)
    assert upload(t, aid, b"PK\x03\x04junk", "class.zip").status_code == 400


def test_an_upload_over_the_limit_is_refused_with_413(app, monkeypatch):
    t = teacher_client(app)
    aid = create_assignment(t)
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 50_000)
    response = upload(t, aid, b"PK" + bytes(200_000), "huge.zip")
    assert response.status_code == 413 and "a class upload may be at most 32 MB" in response.get_data(as_text=True)


def test_a_class_upload_may_be_bigger_than_a_single_essay(app):
    t = teacher_client(app)
    aid = create_assignment(t)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:  # stored: 2.4 MB on the wire, over the 2 MB essay limit
        for i in range(6):
            z.writestr(f"Student {i}.txt", ESSAY + "\n\n" + "Additional paragraph." * 20_000)
    assert len(buf.getvalue()) > 2 * 1024 * 1024
    response = upload(t, aid, buf.getvalue(), "class.zip")
    assert response.status_code == 303  # each essay is refused on its own (too long), the upload itself is accepted
    page = t.get(response.headers["Location"]).get_data(as_text=True)
    assert "6 files not marked" in page and "limit is 20,000" in page


def test_a_csv_upload_marks_and_keeps_emails(app):
    t = teacher_client(app)
    aid = create_assignment(t)
    csv_text = "student,email,id,essay\n" + "".join(f'"{n}",{n.split()[0].lower()}@school.example,{100 + i},"{e}"\n' for i, (n, e) in enumerate(class_essays(4)))
    job = job_id(upload(t, aid, csv_text.encode(), "marks.csv"))
    mark_all(app)
    assert t.get(f"/teacher/jobs/{job}.json").get_json()["marked"] == 4
    moodle = t.get(f"/teacher/assignments/{aid}/export/moodle.csv").get_data(as_text=True)
    assert "amira@school.example" in moodle and "100" in moodle


def test_an_engine_failure_fails_one_essay_not_the_job(app, monkeypatch):
    t = teacher_client(app)
    aid = create_assignment(t)
    marking = services(app).marking
    real = marking.mark

    def flaky(text, rubric, source="-"):
        if "Ben Osei" in source:
            raise RuntimeError("engine fell over")
        return real(text, rubric, source)

    monkeypatch.setattr(marking, "mark", flaky)
    job = job_id(upload(t, aid, zip_of(*[(f"{n}.txt", e) for n, e in class_essays(3)])))
    mark_all(app)
    progress = t.get(f"/teacher/jobs/{job}.json").get_json()
    assert (progress["status"], progress["marked"], progress["failed"]) == ("done", 2, 1)
    page = t.get(f"/teacher/assignments/{aid}").get_data(as_text=True)
    assert "Not marked" in page and "failed" in page


def test_a_restart_resumes_unfinished_work(app, tmp_path, rubrics_dir):
    """Queue a class, stop mid-essay (one attempt left 'marking'), start a new app on the same database: all marked."""
    t = teacher_client(app)
    aid = create_assignment(t)
    job = job_id(upload(t, aid, class_zip()))
    with app.app_context():
        first = db.session.query(Attempt).filter_by(job_id=job).order_by(Attempt.id).first()
        first.status = "marking"  # the process died while marking this one
        db.session.commit()
        assert db.session.query(Attempt).filter_by(job_id=job, status="queued").count() == 29
        db_url = str(db.engine.url)
        db.engine.dispose()
    restarted = make_app(Path(db_url.removeprefix("sqlite:///")), rubrics_dir, TESTING=False)  # as `essaycoach serve`
    worker = services(restarted).worker
    assert worker is not None and worker.thread is not None and worker.thread.is_alive()
    try:
        deadline = time.monotonic() + 60
        with restarted.app_context():
            while time.monotonic() < deadline:
                db.session.expire_all()
                if db.session.get(BatchJob, job).status == "done":
                    break
                time.sleep(0.1)
            statuses = {a.status for a in db.session.query(Attempt).filter_by(job_id=job)}
            assert db.session.get(BatchJob, job).status == "done" and statuses == {"marked"}
            db.session.remove()
    finally:
        worker.stop()
        with restarted.app_context():
            db.engine.dispose()
    page = t.get(f"/teacher/assignments/{aid}").get_data(as_text=True)
    assert page.count('class="mark-big"') == 30


def test_requeue_only_touches_interrupted_attempts(app):
    t = teacher_client(app)
    aid = create_assignment(t)
    job_id(upload(t, aid, zip_of(("A One.txt", ESSAY), ("B Two.txt", ESSAY))))
    mark_all(app)
    with app.app_context():
        assert requeue_interrupted(db.session) == 0
        assert {a.status for a in db.session.query(Attempt)} == {"marked"}


def test_the_worker_can_pause_and_resume(app, tmp_path, rubrics_dir):
    t = teacher_client(app)
    aid = create_assignment(t)
    with app.app_context():
        url = str(db.engine.url)
    served = make_app(Path(url.removeprefix("sqlite:///")), rubrics_dir, TESTING=False)
    worker = services(served).worker
    try:
        worker.pause()
        job = job_id(upload(t, aid, zip_of(("A One.txt", ESSAY), ("B Two.txt", ESSAY))))
        worker.wake()
        time.sleep(0.5)
        assert t.get(f"/teacher/jobs/{job}.json").get_json()["done"] == 0
        worker.resume()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and t.get(f"/teacher/jobs/{job}.json").get_json()["status"] != "done":
            time.sleep(0.1)
        assert t.get(f"/teacher/jobs/{job}.json").get_json()["marked"] == 2
    finally:
        worker.stop()
        with served.app_context():
            db.engine.dispose()
