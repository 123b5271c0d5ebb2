"""essaycoach mark: inputs (files, folders, stdin, .docx), formats, --out, --jobs, bad files and bad rubrics."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document

from app import report
from app.cli import main
from app.readers import MAX_BYTES

ROOT = Path(__file__).resolve().parent.parent
ESSAYCOACH = ROOT / ".venv" / "bin" / "essaycoach"
DEFAULT_RUBRIC = ROOT / "rubrics" / "stalinist-centralisation.yaml"

MINI_RUBRIC = """\
id: mini
title: Mini
version: 1
subject: History
questions: ["To what extent was power in the Soviet state centralised in the hands of a few in the years 1921-1929?"]
scale:
  marks: [0, 25]
  levels:
    - {level: 1, marks: [1, 5], descriptor: "irrelevant or extremely vague"}
    - {level: 2, marks: [6, 10], descriptor: "descriptive or partial", min_score: 0.15}
    - {level: 3, marks: [11, 15], descriptor: "some analysis", min_score: 0.35, requires_skills: [explanation]}
    - {level: 4, marks: [16, 20], descriptor: "analytical, some judgement", min_score: 0.55, requires_skills: [explanation, judgement]}
    - {level: 5, marks: [21, 25], descriptor: "fully analytical", min_score: 0.75, requires_skills: [explanation, judgement, counter_argument, evidence]}
concepts:
  - id: nomenklatura
    label: Nomenklatura
    why: It let the party appoint loyal people.
    weight: 2
    phrases: [nomenklatura]
    precision: {description: "the date 1923", phrases: ["1923"]}
  - id: yes_men
    label: Yes-men
    why: Loyalists.
    phrases: [yes-men]
    paraphrases:
      - all: [[loyal, obedient], [official, bureaucrat, member], [question, challenge, criticise]]
  - id: soviets
    label: Soviets
    why: councils
    token_patterns: [[{LOWER: soviets}], [{LEMMA: local}, {LEMMA: soviet}]]
    exclude: [soviet union]
misconceptions:
  - id: nom
    label: Nomenklatura date
    correction: It was 1923.
    paraphrases:
      - all: [[nomenklatura], [stalin], [create, introduce]]
        unless: [lenin, "1923"]
"""

# All three concepts, developed, with judgement and a counter-argument.
FULL = (
    "Power was centralised because of the nomenklatura system, created in 1923, which meant that the party could "
    "appoint loyal officials to every important post. This was important because these yes-men would not challenge "
    "the leadership, so decisions made at the top were carried out. However, the local soviets still had some "
    "influence in the villages. Overall I think power was centralised to a large extent because the nomenklatura "
    "gave the leaders control over appointments."
)
# Nomenklatura only, with the misconception that Stalin created it.
SLIP = (
    "Stalin created the nomenklatura so that he could control who got jobs in the Communist Party. This meant that "
    "power was centralised because the people at the top chose everyone else, and the party made all decisions in "
    "the state during the 1920s."
)
# No rubric concept at all: off topic.
OFF_TOPIC = (
    "The First World War began in 1914 when Archduke Franz Ferdinand was assassinated in Sarajevo. The alliance "
    "system dragged the great powers into the war, and millions of soldiers died in the trenches of the Western Front."
)


def run(*args: str, input: str | bytes | None = None):
    return CliRunner().invoke(main, ["mark", *args], input=input, catch_exceptions=False)


@pytest.fixture()
def rubric(tmp_path) -> str:
    path = tmp_path / "mini.yaml"
    path.write_text(MINI_RUBRIC, encoding="utf-8")
    return str(path)


def docx_file(path: Path, *paragraphs: str) -> Path:
    doc = Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    doc.save(str(path))
    return path


@pytest.fixture()
def essays(tmp_path) -> dict[str, Path]:
    d = tmp_path / "essays"
    d.mkdir()
    (d / "full.txt").write_text(FULL, encoding="utf-8")
    (d / "slip.md").write_text(SLIP, encoding="utf-8")
    (d / "off.txt").write_text(OFF_TOPIC, encoding="utf-8")
    docx_file(d / "word.docx", *FULL.split(". "))
    return {p.stem: p for p in d.iterdir()}


def concepts(result: dict) -> dict[str, str]:
    return {c["id"]: report.concept_status(c) for c in result["concepts"]}


# -- formats ------------------------------------------------------------------
def test_text_report_single_essay(rubric, essays):
    res = run("--rubric", rubric, str(essays["full"]))
    assert res.exit_code == 0, res.output
    out = res.stdout
    data = json.loads(run("--rubric", rubric, "--format", "json", str(essays["full"])).stdout)
    assert f"Essay: {essays['full']}" in out
    assert f"Level {data['level']} - {data['mark']}/25: {data['level_descriptor']}" in out
    assert re.search(r"Coverage: 100% of the key concepts found", out)
    assert re.search(r"\[developed\] +Nomenklatura", out)
    assert '"Power was centralised because of the nomenklatura system' in out  # evidence quote
    for heading in ("Key concepts (3 of 3 found)", "Skills", "What went well", "Even better if", "Next step"):
        assert heading in out
    next_step = out.split("\nNext step\n", 1)[1]
    assert " ".join(next_step.split()) == data["feedback"]["next_step"]
    assert res.stderr == ""  # one essay: no summary, no progress


def test_text_report_missing_concepts_and_misconception(rubric, essays):
    out = run("--rubric", rubric, str(essays["slip"])).stdout
    assert re.search(r"\[missing\] +Soviets - councils", out)
    assert re.search(r"\[missing\] +Yes-men - Loyalists", out)
    assert "! Nomenklatura date - correction: It was 1923." in out
    assert '"Stalin created the nomenklatura' in out
    assert "(not precise enough)" in out  # found, but without the date the rubric asks for


def test_text_report_escapes_terminal_control_sequences(rubric, tmp_path):
    essay = tmp_path / "esc.txt"
    essay.write_text(FULL.replace("nomenklatura system", "nomenklatura \x1b[2J\x1b]0;pwned\x07system"), encoding="utf-8")
    res = run("--rubric", rubric, str(essay))
    assert res.exit_code == 0
    assert "\x1b" not in res.stdout and "\x07" not in res.stdout
    assert "nomenklatura \\x1b[2J\\x1b]0;pwned\\x07system" in " ".join(res.stdout.split())  # shown escaped in the quote


def test_json_single_is_an_object(rubric, essays):
    res = run("--rubric", rubric, "--format", "json", str(essays["full"]))
    data = json.loads(res.stdout)
    assert isinstance(data, dict)
    assert data["source"] == str(essays["full"])
    assert data["rubric"] == {"id": "mini", "version": 1, "title": "Mini"}
    assert concepts(data) == {"nomenklatura": "developed", "yes_men": "developed", "soviets": "developed"}
    assert data["level"] == 4 and 16 <= data["mark"] <= 20


def test_json_several_is_an_array_in_input_order(rubric, essays):
    order = [essays["slip"], essays["full"], essays["off"]]
    data = json.loads(run("--rubric", rubric, "--format", "json", *map(str, order)).stdout)
    assert isinstance(data, list)
    assert [r["source"] for r in data] == [str(p) for p in order]
    assert [m["id"] for m in data[0]["misconceptions"]] == ["nom"]
    assert set(concepts(data[2]).values()) == {"missing"} and data[2]["level"] == 1


def test_json_folder_with_one_essay_is_an_array(rubric, tmp_path):
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "only.txt").write_text(FULL, encoding="utf-8")
    data = json.loads(run("--rubric", rubric, "--format", "json", str(tmp_path / "class")).stdout)
    assert isinstance(data, list) and [r["source"] for r in data] == [str(tmp_path / "class" / "only.txt")]


def test_jsonl_one_object_per_line(rubric, essays):
    res = run("--rubric", rubric, "--format", "jsonl", str(essays["full"]), str(essays["off"]))
    lines = res.stdout.splitlines()
    assert len(lines) == 2
    first, second = map(json.loads, lines)
    assert first["source"] == str(essays["full"]) and first["level"] == 4
    assert concepts(second) == {"nomenklatura": "missing", "yes_men": "missing", "soviets": "missing"}


def test_csv_columns_and_values(rubric, essays):
    res = run("--rubric", rubric, "--format", "csv", str(essays["full"]), str(essays["slip"]))
    assert res.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert list(rows[0]) == [
        "source", "rubric_id", "rubric_version", "word_count", "level", "mark", "max_mark", "coverage", "misconceptions",
        "concept:nomenklatura", "concept:yes_men", "concept:soviets", "skills", "next_step", "error",
    ]  # fmt: skip
    full, slip = rows
    assert full["source"] == str(essays["full"]) and full["rubric_id"] == "mini" and full["rubric_version"] == "1"
    assert (full["level"], full["max_mark"], full["coverage"], full["error"]) == ("4", "25", "1.0", "")
    assert full["concept:soviets"] == "developed"
    assert "judgement" in full["skills"].split(";") and "explanation" in full["skills"].split(";")
    assert slip["concept:nomenklatura"] in ("found", "developed") and slip["concept:soviets"] == "missing"
    assert slip["misconceptions"] == "nom"
    expected = json.loads(run("--rubric", rubric, "--format", "json", str(essays["slip"])).stdout)
    assert slip["next_step"] == expected["feedback"]["next_step"]
    assert int(slip["word_count"]) == expected["word_count"] and int(slip["mark"]) == expected["mark"]


def test_csv_formula_injection_neutralised(rubric, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("=HYPERLINK(evil).txt").write_text(FULL, encoding="utf-8")
    Path("@SUM(A1).txt").write_bytes(b"")
    res = run("--rubric", rubric, "--format", "csv", "=HYPERLINK(evil).txt", "@SUM(A1).txt")
    marked, failed = csv.DictReader(io.StringIO(res.stdout))
    assert marked["source"] == "'=HYPERLINK(evil).txt" and marked["concept:soviets"] == "developed"
    assert failed["source"] == "'@SUM(A1).txt" and failed["error"] == "the file is empty"
    assert [report.csv_safe(v) for v in ("=1+1", "+x", "-2", "@SUM(A1)", "\tx", "plain", 3, None)] == ["'=1+1", "'+x", "'-2", "'@SUM(A1)", "'\tx", "plain", "3", ""]


def test_points_rubric_text_and_csv(tmp_path, essays):
    head, concepts_part = MINI_RUBRIC.split("concepts:\n", 1)
    head = head.split("scale:\n")[0] + (
        "scale: {points: [0, 3]}\n"
        "scoring: {method: points, rules: [{points: 3, min_elements: 3, descriptor: all three}, {points: 1, min_elements: 1}]}\n"
    )
    points = tmp_path / "points.yaml"
    points.write_text(head + "concepts:\n" + concepts_part, encoding="utf-8")
    text = run("--rubric", str(points), str(essays["full"])).stdout
    assert "3/3 points: all three" in text and "Level" not in text
    row = next(csv.DictReader(io.StringIO(run("--rubric", str(points), "-f", "csv", str(essays["slip"])).stdout)))
    assert (row["level"], row["mark"], row["max_mark"]) == ("", "1", "3")


# -- inputs -------------------------------------------------------------------
def test_docx_input(rubric, essays):
    data = json.loads(run("--rubric", rubric, "--format", "json", str(essays["word"])).stdout)
    assert concepts(data)["nomenklatura"] == "developed"
    assert data["word_count"] > 50


def test_folder_recursive_sorted_hidden_and_other_files_skipped(rubric, tmp_path):
    d = tmp_path / "class"
    (d / "set B").mkdir(parents=True)
    (d / ".git").mkdir()
    (d / "b.txt").write_text(SLIP, encoding="utf-8")
    (d / "A.md").write_text(FULL, encoding="utf-8")
    (d / "set B" / "c.TXT").write_text(OFF_TOPIC, encoding="utf-8")
    docx_file(d / "set B" / "d.docx", FULL)
    (d / ".hidden.txt").write_text(FULL, encoding="utf-8")
    (d / ".git" / "x.txt").write_text(FULL, encoding="utf-8")
    (d / "~$d.docx").write_bytes(b"lock file")
    (d / "notes.pdf").write_bytes(b"%PDF-1.4")
    res = run("--rubric", rubric, "--format", "jsonl", str(d))
    assert res.exit_code == 0, res.output
    sources = [json.loads(line)["source"] for line in res.stdout.splitlines()]
    assert sources == [str(d / "A.md"), str(d / "b.txt"), str(d / "set B" / "c.TXT"), str(d / "set B" / "d.docx")]
    assert "marked 4 of 4 essays" in res.stderr


def test_stdin(rubric):
    res = run("--rubric", rubric, "--format", "json", "-", input=SLIP)
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["source"] == "-" and [m["id"] for m in data["misconceptions"]] == ["nom"]


def test_stdin_docx_and_files_together(rubric, essays, tmp_path):
    raw = docx_file(tmp_path / "in.docx", SLIP).read_bytes()
    res = run("--rubric", rubric, "--format", "json", str(essays["full"]), "-", input=raw)
    data = json.loads(res.stdout)
    assert [r["source"] for r in data] == [str(essays["full"]), "-"]
    assert data[1]["misconceptions"][0]["id"] == "nom"


def test_stdin_empty_is_an_error(rubric):
    res = run("--rubric", rubric, "-", input="  \n")
    assert res.exit_code == 1
    assert "essaycoach: skipped standard input: the file has no text" in res.stderr
    assert res.stdout == ""


def test_no_essays_found(rubric, tmp_path):
    (tmp_path / "empty").mkdir()
    res = run("--rubric", rubric, str(tmp_path / "empty"))
    assert res.exit_code == 1
    assert "no essays found in" in res.stderr and "empty" in res.stderr and res.stdout == ""


def test_no_inputs_is_a_usage_error(rubric):
    res = run("--rubric", rubric)
    assert res.exit_code == 2 and "Missing argument" in res.stderr


# -- --out --------------------------------------------------------------------
def test_out_writes_file_and_format_follows_extension(rubric, essays, tmp_path):
    out = tmp_path / "results.csv"
    res = run("--rubric", rubric, "--out", str(out), str(essays["full"]), str(essays["off"]))
    assert res.exit_code == 0 and res.stdout == ""
    assert f"results in {out}" in res.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r["source"] for r in rows] == [str(essays["full"]), str(essays["off"])]
    assert rows[0]["concept:nomenklatura"] == "developed" and rows[1]["concept:nomenklatura"] == "missing"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # normal permissions, not the temp file's


def test_out_json_explicit_format(rubric, essays, tmp_path):
    out = tmp_path / "r.txt"
    run("--rubric", rubric, "--format", "json", "-o", str(out), str(essays["full"]))
    assert json.loads(out.read_text(encoding="utf-8"))["level"] == 4


@pytest.mark.parametrize("failure", ["render", "write"])
def test_out_is_atomic(rubric, essays, tmp_path, monkeypatch, failure):
    out = tmp_path / "results.csv"
    out.write_text("previous results\n", encoding="utf-8")

    def render(*args, **kwargs):
        if failure == "render":
            raise RuntimeError("failed while rendering")
        return "source\n" + "x" * 100_000 + "\ud800"  # cannot be encoded: fails while the file is written

    monkeypatch.setattr(report, "csv_text", render)
    res = CliRunner().invoke(main, ["mark", "--rubric", rubric, "--out", str(out), str(essays["full"])])
    assert isinstance(res.exception, RuntimeError if failure == "render" else UnicodeEncodeError)
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["essays", "mini.yaml", "results.csv"]  # no temp file left


def test_out_not_written_when_nothing_was_marked(rubric, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01binary")
    out = tmp_path / "results.csv"
    res = run("--rubric", rubric, "--out", str(out), str(bad))
    assert res.exit_code == 1 and not out.exists()


def test_out_in_missing_folder_fails_before_marking(rubric, essays, tmp_path):
    res = run("--rubric", rubric, "--out", str(tmp_path / "nowhere" / "r.csv"), str(essays["full"]))
    assert res.exit_code == 2 and "does not exist" in res.stderr


def test_out_file_inside_input_folder_is_not_marked(rubric, essays):
    folder = essays["full"].parent
    out = folder / "results.txt"
    out.write_text("an old report " * 20, encoding="utf-8")
    assert "marked 5 of 5" in run("--rubric", rubric, "--format", "jsonl", str(folder)).stderr  # an input unless it is --out
    res = run("--rubric", rubric, "-o", str(out), "--format", "jsonl", str(folder))
    assert res.exit_code == 0
    assert str(out) not in [json.loads(line)["source"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert "marked 4 of 4" in res.stderr


# -- --jobs, progress, quiet --------------------------------------------------
def test_jobs_2_same_results_same_order_as_jobs_1(rubric, essays, tmp_path, monkeypatch):
    import app.service

    calls = tmp_path / "compiles.log"
    real = app.service.compile_rubric

    def counting(nlp, r):  # workers are forked, so log to a file: one line per compilation, with the pid
        with open(calls, "a") as f:
            f.write(f"{os.getpid()}\n")
        return real(nlp, r)

    monkeypatch.setattr(app.service, "compile_rubric", counting)
    inputs = [str(essays[k]) for k in ("off", "full", "slip", "word", "full", "slip")]
    serial = run("--rubric", rubric, "--format", "json", "--jobs", "1", *inputs)
    calls.unlink(missing_ok=True)  # the serial run may reuse a rubric compiled by an earlier test
    parallel = run("--rubric", rubric, "--format", "json", "--jobs", "2", *inputs)
    assert parallel.exit_code == 0
    assert json.loads(parallel.stdout) == json.loads(serial.stdout)
    assert [r["source"] for r in json.loads(parallel.stdout)] == inputs
    pids = calls.read_text().split()
    assert len(pids) == 2 and len(set(pids)) == 2 and str(os.getpid()) not in pids  # once per worker, not per essay


def test_progress_bar_only_for_batches_when_asked_or_on_a_terminal(rubric, essays):
    two = [str(essays["full"]), str(essays["off"])]
    assert "Marking 2 essays" in run("--rubric", rubric, "--progress", *two).stderr
    assert "Marking" not in run("--rubric", rubric, *two).stderr  # stderr is not a terminal here
    assert "Marking" not in run("--rubric", rubric, "--progress", two[0]).stderr  # one essay: no bar


def test_quiet(rubric, essays, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    res = run("--rubric", rubric, "--quiet", "--progress", "--format", "jsonl", str(essays["full"]), str(bad))
    assert res.exit_code == 1 and len(res.stdout.splitlines()) == 1
    assert res.stderr.strip() == f"essaycoach: skipped {bad}: the file is empty"  # errors still reported, nothing else


# -- bad files ----------------------------------------------------------------
def test_bad_files_reported_by_name_good_ones_still_marked(rubric, essays, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    files = {
        "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        "latin1.txt": "Le café était très centralisé en Russie soviétique".encode("latin-1"),
        "empty.md": b"",
        "oversize.txt": b"word " * (MAX_BYTES // 5 + 1),
        "corrupt.docx": b"PK\x03\x04 this is not really a zip",
        "essay.pdf": b"%PDF-1.4",
        "new\nline.txt": b"\x00\x00",
    }
    for name, data in files.items():
        (bad / name).write_bytes(data)
    inputs = [str(essays["full"]), *(str(bad / n) for n in files), str(tmp_path / "missing.txt"), str(essays["slip"])]
    res = run("--rubric", rubric, "--format", "csv", *inputs)
    assert res.exit_code == 1
    reasons = {
        "binary.txt": "binary",
        "latin1.txt": "UTF-8",
        "empty.md": "empty",
        "oversize.txt": "limit is 2 MB",
        "corrupt.docx": "docx",
        "essay.pdf": "unsupported file type",
        "new\\nline.txt": "binary",
    }
    lines = res.stderr.splitlines()
    for name, reason in reasons.items():
        line = next((ln for ln in lines if ln.startswith(f"essaycoach: skipped {bad / name}: ")), None)
        assert line is not None, f"{name} not reported in {lines}"
        assert reason in line
    assert f"essaycoach: skipped {tmp_path / 'missing.txt'}: no such file" in res.stderr
    assert not any(line.startswith("line.txt") for line in lines)  # the newline in the name is escaped
    assert "marked 2 of 10 essays" in res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(rows) == 10  # one row per input, in input order; failures carry their error
    assert rows[0]["source"] == str(essays["full"]) and rows[0]["concept:nomenklatura"] == "developed"
    assert rows[-1]["source"] == str(essays["slip"]) and rows[-1]["misconceptions"] == "nom"
    assert rows[2]["source"] == str(bad / "latin1.txt") and "UTF-8" in rows[2]["error"] and rows[2]["mark"] == ""
    assert rows[7]["source"] == str(bad / "new\\nline.txt")


def test_all_good_exit_0_some_bad_exit_1(rubric, essays, tmp_path):
    assert run("--rubric", rubric, str(essays["full"]), str(essays["slip"])).exit_code == 0
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    res = run("--rubric", rubric, "--format", "jsonl", str(essays["full"]), str(empty))
    assert res.exit_code == 1
    assert [json.loads(x)["source"] for x in res.stdout.splitlines()] == [str(essays["full"])]


def test_essay_refused_by_the_service_is_reported(rubric, tmp_path):
    long = tmp_path / "long.txt"
    long.write_text("word " * 25_000, encoding="utf-8")  # under 2 MB but over the service's word limit
    res = run("--rubric", rubric, str(long))
    assert res.exit_code == 1
    assert f"essaycoach: skipped {long}: The essay has 25,000 words" in res.stderr


# -- bad rubrics --------------------------------------------------------------
def test_unknown_rubric_exit_2(essays, tmp_path, monkeypatch):
    monkeypatch.setenv("ESSAYCOACH_RUBRICS", str(tmp_path))
    (tmp_path / "other.yaml").write_text(MINI_RUBRIC)
    res = run("--rubric", "no-such-rubric", str(essays["full"]))
    assert res.exit_code == 2
    assert "no rubric called 'no-such-rubric'" in res.stderr and "known: other" in res.stderr
    assert res.stdout == ""
    res = run("--rubric", str(tmp_path / "missing.yaml"), str(essays["full"]))
    assert res.exit_code == 2 and "no such rubric file" in res.stderr


def test_invalid_rubric_exit_2_with_validator_messages(essays, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINI_RUBRIC.replace("    label: Yes-men\n", "    lable: Yes-men\n"), encoding="utf-8")
    res = run("--rubric", str(bad), str(essays["full"]))
    assert res.exit_code == 2
    assert f"{bad}:" in res.stderr and "concepts[1].lable: unknown field" in res.stderr
    assert "concepts[1].label: required field is missing" in res.stderr
    assert "is invalid (2 problems)" in res.stderr
    assert res.stdout == ""


# -- the real command ---------------------------------------------------------
def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONIOENCODING": "utf-8"}


def test_real_command_folder_to_csv_with_jobs(rubric, essays, tmp_path):
    (essays["full"].parent / "broken.docx").write_bytes(b"not a zip")
    out = tmp_path / "class.csv"
    proc = subprocess.run(
        [str(ESSAYCOACH), "mark", "--rubric", rubric, "--jobs", "2", "--out", str(out), str(essays["full"].parent)],
        capture_output=True, text=True, timeout=300, env=_env(),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"essaycoach: skipped {essays['full'].parent / 'broken.docx'}: " in proc.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [Path(r["source"]).name for r in rows] == ["broken.docx", "full.txt", "off.txt", "slip.md", "word.docx"]
    assert "not a valid .docx" in rows[0]["error"] and rows[0]["level"] == ""
    assert [r["concept:soviets"] for r in rows[1:]] == ["developed", "missing", "missing", "developed"]
    assert [r["misconceptions"] for r in rows[1:]] == ["", "", "nom", ""]
    assert rows[1]["level"] == "4" and rows[2]["error"] == ""


def test_real_command_stdin_and_user_errors_without_traceback(rubric, tmp_path):
    proc = subprocess.run([str(ESSAYCOACH), "mark", "--rubric", rubric, "--format", "json", "-"], input=FULL, capture_output=True, text=True, timeout=300, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["level"] == 4
    for args, code in (
        (["--rubric", "no-such-rubric", "x.txt"], 2),
        (["--rubric", rubric, str(tmp_path / "nothing-here.txt")], 1),
        (["--rubric", rubric, "--jobs", "-1", "x.txt"], 2),
    ):
        proc = subprocess.run([str(ESSAYCOACH), "mark", *args], capture_output=True, text=True, timeout=300, env=_env())
        assert proc.returncode == code, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stderr.strip()


@pytest.mark.skipif(not DEFAULT_RUBRIC.exists(), reason="default rubric not written yet")
def test_default_rubric_by_id():
    sample = ROOT / "app" / "samples" / "stalinist-centralisation" / "l4-theory-and-reality.txt"
    res = run("--rubric", "stalinist-centralisation", "--format", "json", str(sample))
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["rubric"]["id"] == "stalinist-centralisation"
    assert any(c["found"] for c in data["concepts"]) and data["level"] is not None
    text = run("--rubric", "stalinist-centralisation", str(sample)).stdout
    assert f"Level {data['level']} - {data['mark']}/{data['max_mark']}" in text

