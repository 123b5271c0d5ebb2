"""Rendering marking results (the JSON-contract dicts from app.service.mark_text) as text reports and CSV rows.

Pure functions of the result dicts, shared by the CLI and the web app.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from typing import Any, Iterable, Sequence

from .readers import printable

Result = dict[str, Any]

WIDTH = 88
QUOTE_CHARS = 200
MAX_QUOTES = 2
CSV_LEADING = ("source", "rubric_id", "rubric_version", "word_count", "level", "mark", "max_mark", "coverage", "misconceptions")
CSV_TRAILING = ("skills", "next_step", "error")
CONCEPT_PREFIX = "concept:"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# -- shared -------------------------------------------------------------------
def concept_status(concept: dict[str, Any]) -> str:
    """developed, found or missing."""
    return "developed" if concept["developed"] else "found" if concept["found"] else "missing"


def mark_line(result: Result) -> str:
    """'Level 4 - 18/25', or '2/3 points' for a points rubric."""
    if result.get("level") is None:
        return f"{result['mark']}/{result['max_mark']} points"
    return f"Level {result['level']} - {result['mark']}/{result['max_mark']}"


def _clean(text: Any) -> str:
    """One line, control characters escaped: essay text must not drive the terminal."""
    return printable(" ".join(str(text).split()))


def _clip(text: str, limit: int = QUOTE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _percent(share: float) -> str:
    return f"{round(share * 100)}%"


# -- text ---------------------------------------------------------------------
def _para(text: Any, indent: str = "", first: str | None = None) -> list[str]:
    start = indent if first is None else first
    return textwrap.wrap(_clean(text), WIDTH, initial_indent=start, subsequent_indent=indent, break_on_hyphens=False) or [start.rstrip()]


def _quotes(evidence: list[dict[str, Any]], indent: str) -> list[str]:
    lines: list[str] = []
    seen: set[str] = set()
    for ev in evidence:
        sentence = _clip(_clean(ev.get("sentence") or ev.get("text", "")))
        if sentence in seen:
            continue
        seen.add(sentence)
        lines += _para(f'"{sentence}"', indent + " ", indent)
        if len(seen) >= MAX_QUOTES:
            break
    return lines


def text_report(result: Result) -> str:
    """A readable report on one essay: mark, concepts with evidence, misconceptions, skills, feedback."""
    rubric = result["rubric"]
    lines = [
        f"Essay: {printable(result['source'])}",
        f"Rubric: {_clean(rubric['title'])} ({_clean(rubric['id'])}, version {rubric['version']})",
        *_para(result["question"], "          ", "Question: "),
        f"Words: {result['word_count']}",
        "",
        *_para(f"{mark_line(result)}: {result['level_descriptor']}", "  ", ""),
        f"Coverage: {_percent(result['coverage'])} of the key concepts found, {_percent(result['development'])} developed",
    ]
    for flag in result.get("flags", []):
        lines += _para(flag["message"], "  ", "! ")

    concepts = result["concepts"]
    lines += ["", f"Key concepts ({sum(c['found'] for c in concepts)} of {len(concepts)} found)"]
    for c in concepts:
        status = concept_status(c)
        head = _clean(c["label"])
        if status == "found":
            head += " - named but not explained"
        elif status == "missing":
            head += f" - {_clean(c['why'])}"
        if c["found"] and c.get("precise") is False:
            head += " (not precise enough)"
        lines += _para(head, " " * 14, f"  [{status}]".ljust(14))
        if status != "missing":
            lines += _quotes(c.get("evidence", []), " " * 14)

    lines += ["", "Misconceptions" + ("" if result["misconceptions"] else ": none found")]
    for m in result["misconceptions"]:
        lines += _para(f"{_clean(m['label'])} - correction: {_clean(m['message'])}", "    ", "  ! ")
        lines += _quotes(m.get("evidence", []), "    ")

    lines += ["", "Skills"]
    for s in result["skills"]:
        lines += _para(f"{s['label']}: {s['message']}", " " * 8, f"  [{'yes' if s['found'] else 'no'}]".ljust(8))

    fb = result["feedback"]
    for title, items in (("What went well", fb["strengths"]), ("Even better if", fb["targets"])):
        lines += ["", title]
        lines += [line for item in items for line in _para(item, "    ", "  - ")] or ["  (nothing yet)"]
    lines += ["", "Next step", *_para(fb["next_step"], "  ")]
    return "\n".join(lines) + "\n"


def text_reports(results: Iterable[Result]) -> str:
    """Several reports, separated by a rule."""
    return ("\n" + "=" * WIDTH + "\n\n").join(text_report(r) for r in results)


# -- json ---------------------------------------------------------------------
def json_text(results: Sequence[Result], *, single: bool) -> str:
    """One object when a single essay was asked for, else an array."""
    data: Any = results[0] if single and len(results) == 1 else list(results)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def jsonl_text(results: Iterable[Result]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)


# -- csv ----------------------------------------------------------------------
def csv_safe(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @ gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_header(concept_ids: Sequence[str]) -> list[str]:
    return [*CSV_LEADING, *(CONCEPT_PREFIX + cid for cid in concept_ids), *CSV_TRAILING]


def csv_row(result: Result, concept_ids: Sequence[str] | None = None) -> list[str]:
    """One row per essay; concept columns in the order of concept_ids (default: the result's own order)."""
    status = {c["id"]: concept_status(c) for c in result["concepts"]}
    ids = list(status) if concept_ids is None else concept_ids
    cells = [
        result["source"],
        result["rubric"]["id"],
        result["rubric"]["version"],
        result["word_count"],
        result.get("level"),
        result["mark"],
        result["max_mark"],
        result["coverage"],
        ";".join(m["id"] for m in result["misconceptions"]),
        *(status.get(cid, "") for cid in ids),
        ";".join(s["id"] for s in result["skills"] if s["found"]),
        result["feedback"]["next_step"],
        "",
    ]
    return [csv_safe(c) for c in cells]


def csv_error_row(source: str, error: str, concept_ids: Sequence[str], rubric: dict[str, Any] | None = None) -> list[str]:
    """A row for an essay that could not be marked: source, rubric and the error, other cells empty."""
    cells: list[Any] = [source, (rubric or {}).get("id"), (rubric or {}).get("version")]
    cells += [None] * (len(csv_header(concept_ids)) - len(cells) - 1) + [error]
    return [csv_safe(c) for c in cells]


def csv_text(rows: Iterable[list[str]], concept_ids: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(csv_header(concept_ids))
    writer.writerows(rows)
    return buf.getvalue()
