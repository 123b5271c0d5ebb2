"""Exports of a class's results: gradebook CSVs (Moodle, Canvas, Google Classroom), full CSV and JSON, feedback zip.

Every cell goes through report.csv_safe, so a student's name or comment can never run as a spreadsheet formula.
Gradebook files list only students with a marked essay (a blank grade would wipe a grade already in the LMS);
the final mark is the teacher's override where there is one, else the engine's mark. The column choices are
documented in README.md ("Teacher workspace").
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..report import csv_error_row, csv_header, csv_row, csv_safe, mark_line
from .assignments import Row
from .flags import Flag
from .models import Assignment

GRADEBOOKS = ("moodle", "canvas", "classroom")
MOODLE_IDENTIFIERS = ("email", "idnumber")


@dataclass(frozen=True)
class Gradebook:
    filename: str
    text: str
    included: int
    left_out: list[str]  # names of students not in the file, and why


def split_name(name: str) -> tuple[str, str]:
    """(first, last): the last word is the family name ("Amira Khan" -> Amira, Khan)."""
    words = name.split()
    if len(words) < 2:
        return name, ""
    return " ".join(words[:-1]), words[-1]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "assignment"


def _csv(rows: Iterable[Sequence[Any]], *, bom: bool = False) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows([[csv_safe(c) for c in row] for row in rows])
    return ("\ufeff" if bom else "") + buf.getvalue()


def feedback_text(row: Row, limit: int = 1000) -> str:
    """The comment a gradebook shows the student: the teacher's, else the level and the next step."""
    if row.override is not None and row.override.comment:
        return row.override.comment[:limit]
    result = (row.attempt.result if row.attempt else None) or {}
    if not result:
        return ""
    return f"{mark_line(result)}. Next step: {result['feedback']['next_step']}"[:limit]


def _graded(rows: list[Row]) -> tuple[list[Row], list[str]]:
    graded = [r for r in rows if r.final_mark is not None]
    left = [f"{r.member.name}: no marked essay yet" for r in rows if r.final_mark is None]
    return graded, left


def moodle(assignment: Assignment, rows: list[Row], identifier: str = "email") -> Gradebook:
    """Moodle's "Import grades > CSV file": its own export's column names, so "Map from" lists them.

    Map from "Email address" (or "ID number") to the same user field, and map the assignment column to the grade
    item and "Feedback" to its feedback. Rows without the chosen identifier are left out: Moodle would stop the
    whole import at an unknown user (or give the grade to the row above).
    """
    if identifier not in MOODLE_IDENTIFIERS:
        identifier = "email"
    graded, left = _graded(rows)
    out: list[list[Any]] = [["First name", "Last name", "ID number", "Email address", assignment.title, "Feedback"]]
    for r in graded:
        key = r.member.email if identifier == "email" else r.member.sis_id
        if not key:
            left.append(f"{r.member.name}: no {'e-mail address' if identifier == 'email' else 'ID number'}")
            continue
        first, last = split_name(r.member.name)
        out.append([first, last, r.member.sis_id or "", r.member.email or "", r.final_mark, feedback_text(r)])
    return Gradebook(f"{slug(assignment.title)}-moodle.csv", _csv(out), len(out) - 1, left)


def canvas(assignment: Assignment, rows: list[Row], max_mark: int) -> Gradebook:
    """Canvas Gradebook > Import: Student, ID, SIS User ID, SIS Login ID, Section, then the assignment column.

    A "Points Possible" row follows the header, as in Canvas's own export, so a new assignment column gets the
    rubric's maximum. Canvas matches students by ID, SIS User ID or SIS Login ID: we fill SIS User ID with the
    student's ID number and SIS Login ID with their e-mail address (the login at most schools).
    """
    graded, left = _graded(rows)
    out: list[list[Any]] = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment.title]]
    out.append(["    Points Possible", "", "", "", "", max_mark])
    for r in graded:
        first, last = split_name(r.member.name)
        sortable = f"{last}, {first}" if last else first
        out.append([sortable, "", r.member.sis_id or "", r.member.email or "", "", r.final_mark])
    return Gradebook(f"{slug(assignment.title)}-canvas.csv", _csv(out), len(graded), left)


def classroom(assignment: Assignment, rows: list[Row]) -> Gradebook:
    """Google Classroom's grade sheet layout: Last Name, First Name, Email Address, then the assignment column.

    Classroom identifies students by e-mail address: students without one are listed but cannot be matched.
    """
    graded, left = _graded(rows)
    out: list[list[Any]] = [["Last Name", "First Name", "Email Address", assignment.title]]
    for r in graded:
        first, last = split_name(r.member.name)
        out.append([last, first, r.member.email or "", r.final_mark])
        if not r.member.email:
            left.append(f"{r.member.name}: no e-mail address (Classroom cannot match the row)")
    return Gradebook(f"{slug(assignment.title)}-classroom.csv", _csv(out), len(graded), left)


# -- full results ----------------------------------------------------------------------------
def _flag_text(flags: list[Flag]) -> str:
    return "; ".join(f"{f.kind}: {f.message}" for f in flags)


def results_csv(assignment: Assignment, rows: list[Row], concept_ids: Sequence[str], flags: dict[int, list[Flag]]) -> str:
    """One row per student (latest essay): who, the engine's full CSV row (report.csv_row), the teacher's mark."""
    header = ["student", "email", "id_number", *csv_header(concept_ids), "teacher_mark", "teacher_comment", "final_mark", "flags", "drafts"]
    out: list[list[Any]] = [header]
    for r in rows:
        a = r.attempt
        who = [r.member.name, r.member.email or "", r.member.sis_id or ""]
        if a is not None and a.marked and a.result:
            engine = csv_row(a.result, concept_ids)
        else:
            why = "no essay yet" if a is None else (a.error or f"not marked yet ({a.status})")
            engine = csv_error_row(a.source if a else "", why, concept_ids)
        teacher = [r.override.mark, r.override.comment] if r.override else ["", ""]
        out.append([*who, *engine, *teacher, "" if r.final_mark is None else r.final_mark, _flag_text(flags.get(r.member.id, [])), r.drafts])
    return _csv(out, bom=True)


def results_json(assignment: Assignment, rows: list[Row], flags: dict[int, list[Flag]], rubric: dict[str, Any]) -> str:
    data = {
        "assignment": {"title": assignment.title, "code": assignment.code, "question": assignment.question},
        "rubric": rubric,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "students": [
            {
                "name": r.member.name,
                "email": r.member.email,
                "id_number": r.member.sis_id,
                "status": r.attempt.status if r.attempt else "no essay",
                "drafts": r.drafts,
                "final_mark": r.final_mark,
                "teacher": {"mark": r.override.mark, "comment": r.override.comment} if r.override else None,
                "flags": [{"id": f.kind, "message": f.message} for f in flags.get(r.member.id, [])],
                "result": r.attempt.result if r.attempt and r.attempt.marked else None,
            }
            for r in rows
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def feedback_zip(pages: list[tuple[str, str]], index_html: str, css: bytes) -> bytes:
    """index.html, style.css and one HTML page per student (names made safe and unique)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("index.html", index_html)
        z.writestr("style.css", css)
        for filename, html in pages:
            z.writestr(filename, html)
    return buf.getvalue()


def page_filenames(names: list[str]) -> list[str]:
    """'01-amira-khan.html', ... in class order; only [a-z0-9-] so every system can open them."""
    width = max(2, len(str(len(names))))
    return [f"{str(i).zfill(width)}-{slug(n) or 'student'}.html" for i, n in enumerate(names, start=1)]
