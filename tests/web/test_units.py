"""Units of the web layer: highlighting with overlaps and escaping, draft comparison, SVG charts, settings."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.rubric import RubricError
from app.web import database_url
from app.web.attempts import diff_results, hash_token
from app.web.charts import Point, coverage_meter, progress_chart
from app.web.highlight import Span, highlight_essay, spans_from_result
from app.web.rubrics import RubricStore, UnknownRubric, criteria_visible


def span(start: int, end: int, kind: str = "concept", number: int = 1, label: str = "Idea") -> Span:
    return Span(start, end, kind, number, label, "m", "mis" if kind == "misconception" else "named", "why")


def marks(html: str) -> list[str]:
    """The text inside each <mark>, without its tooltip."""
    out = []
    for part in html.split('<mark class="')[1:]:
        inner = part.split(">", 1)[1]
        out.append(inner.split('<span class="tip"', 1)[0])
    return out


def test_highlight_wraps_each_span_and_adds_a_numbered_tag():
    html = str(highlight_essay("Stalin used the nomenklatura well.", [span(16, 28, number=3, label="Nomenklatura")]))
    assert html.startswith("<p>Stalin used the <mark") and html.endswith("well.</p>")
    assert marks(html) == ["nomenklatura"]
    assert 'class="hl hl-c2"' in html and '<span class="tag tag-hl-c2" aria-hidden="true">3</span>' in html
    assert 'tabindex="0"' in html and 'role="tooltip"' in html and "Concept 3: Nomenklatura" in html


def test_overlapping_spans_never_cross_tags():
    text = "abcdefghij"
    html = str(highlight_essay(text, [span(0, 6, number=1), span(3, 9, number=2), span(4, 5, "misconception", 1)]))
    assert marks(html) == ["abc", "d", "e", "f", "ghi"]
    assert html.count("<mark") == html.count("</mark>") == 5
    # the piece covered by three spans shows the misconception, and its tooltip lists all three
    piece = html.split("<mark")[3]
    assert "hl-mis hl-multi" in piece and "Concept 1" in piece and "Concept 2" in piece and "Check this fact" in piece
    ET.fromstring(f"<div>{html}</div>")  # well-formed: no tag crosses another


def test_essay_html_is_escaped_everywhere():
    text = '<b>bold</b> & "quoted" <script>x()</script>'
    s = Span(0, 11, "concept", 1, "<i>label</i>", "<b>bold</b>", "named", "why <img>")
    html = str(highlight_essay(text, [s]))
    assert "<b>" not in html and "<script>" not in html and "<i>" not in html and "<img>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "&amp;" in html and "&lt;script&gt;" in html


def test_paragraphs_and_bad_offsets():
    text = "First para.\n\nSecond para.\nThird."
    result = {"concepts": [{"label": "L", "why": "w", "developed": True, "evidence": [
        {"start": 0, "end": 5, "text": "First"}, {"start": 13, "end": 19, "text": "Second"},
        {"start": 30, "end": 99, "text": "out of range"}, {"start": 5, "end": 5, "text": ""}]}], "misconceptions": []}
    spans = spans_from_result(result, text)
    assert [(s.start, s.end) for s in spans] == [(0, 5), (13, 19)]
    html = str(highlight_essay(text, spans))
    assert html.count("<p>") == 3 and marks(html) == ["First", "Second"]


def test_duplicate_evidence_is_highlighted_once():
    result = {"concepts": [], "misconceptions": [{"label": "L", "message": "fix", "evidence": [
        {"start": 0, "end": 4, "text": "abcd"}, {"start": 0, "end": 4, "text": "abcd"}]}]}
    assert len(spans_from_result(result, "abcd efg")) == 1


def test_highlighting_a_long_essay_is_fast():
    import time

    text = "word " * 20_000
    spans = [span(i * 5, i * 5 + 4, number=i % 14 + 1) for i in range(0, 20_000, 3)]
    t0 = time.perf_counter()
    highlight_essay(text, spans)
    assert time.perf_counter() - t0 < 2.0


def _result(found: dict[str, tuple[bool, bool]], mis: list[str], level: int, mark: int, coverage: float, words: int = 300) -> dict:
    return {
        "concepts": [{"id": cid, "label": cid.title(), "found": f, "developed": d} for cid, (f, d) in found.items()],
        "misconceptions": [{"id": m, "label": m.upper()} for m in mis],
        "level": level, "mark": mark, "coverage": coverage, "word_count": words,
    }


def test_diff_results_lists_gains_losses_and_level_change():
    before = _result({"a": (True, False), "b": (True, True), "c": (False, False), "d": (True, True), "e": (False, False)}, ["m1", "m2"], 2, 8, 0.4)
    after = _result({"a": (True, True), "b": (False, False), "c": (True, False), "d": (True, False), "e": (True, True)}, ["m2", "m3"], 3, 13, 0.6, 420)
    changes = diff_results(before, after)
    assert changes.gained == ["C", "E"] and changes.lost == ["B"]
    assert changes.now_developed == ["A"] and changes.no_longer_developed == ["D"]
    assert changes.fixed_misconceptions == ["M1"] and changes.new_misconceptions == ["M3"]
    assert (changes.level_change, changes.mark_change, changes.words_after) == (1, 5, 420)
    assert not changes.nothing
    same = diff_results(before, copy.deepcopy(before))
    assert same.nothing and same.level_change == 0


def test_progress_chart_is_valid_svg_with_one_point_per_attempt():
    svg = str(progress_chart([Point("Draft 1", 8, 25, 0.4), Point("Draft 2", 13, 25, 0.6), Point("Draft 3", 21, 25, 0.85)]))
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and root.get("role") == "img"
    assert len(root.findall(f"{ns}circle")) == 3 and len(root.findall(f"{ns}polyline")) == 2
    ys = [float(c.get("cy")) for c in root.findall(f"{ns}circle")]
    assert ys[0] > ys[1] > ys[2]  # higher marks are drawn higher
    assert "Draft 2: mark 13 out of 25, coverage 60%" in root.find(f"{ns}desc").text
    ticks = [t.text for t in root.findall(f"{ns}text") if "axis-mark" in (t.get("class") or "")]
    assert ticks == ["0", "5", "10", "15", "20", "25"]  # round marks, not 6.25 steps
    single = ET.fromstring(str(progress_chart([Point("Draft <1>", 5, 25, 0.2)])))
    assert not single.findall(f"{ns}polyline") and "Draft <1>" in ET.tostring(single, encoding="unicode").replace("&lt;", "<").replace("&gt;", ">")


def test_coverage_meter_fills_its_share():
    root = ET.fromstring(str(coverage_meter(0.62)))
    fill = next(r for r in root if r.get("class") == "meter-fill")
    assert fill.get("width") == "62" and root.get("aria-label") == "Concept coverage: 62%"
    assert next(r for r in ET.fromstring(str(coverage_meter(1.7))) if r.get("class") == "meter-fill").get("width") == "100"


def test_database_url_defaults_to_sqlite_and_accepts_postgres():
    assert database_url(None, "/srv/instance") == "sqlite:////srv/instance/essaycoach.sqlite"
    assert database_url("postgres://u:p@h/db", "/x") == "postgresql+psycopg://u:p@h/db"
    assert database_url("postgresql://u@h/db", "/x") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:////tmp/a.db", "/x") == "sqlite:////tmp/a.db"


def test_criteria_setting():
    assert criteria_visible("all", "x") and not criteria_visible("none", "x")
    assert criteria_visible("a, x", "x") and not criteria_visible("a,b", "x")


def test_tokens_are_stored_hashed():
    assert hash_token("abc") != "abc" and len(hash_token("abc")) == 64


def test_rubric_store_reloads_changed_files_and_refuses_paths(tmp_path: Path, rubrics_dir: Path):
    (tmp_path / "mini.yaml").write_bytes((rubrics_dir / "mini.yaml").read_bytes())
    store = RubricStore(tmp_path)
    first = store.get("mini")
    assert store.get("mini") is first  # cached: validated once per file change
    text = (tmp_path / "mini.yaml").read_text().replace("version: 1", "version: 12")
    (tmp_path / "mini.yaml").write_text(text)
    assert store.get("mini").version == 12
    for bad in ("../mini", "mini.yaml", "/etc/passwd", "Mini", ""):
        with pytest.raises(UnknownRubric):
            store.get(bad)
    (tmp_path / "bad.yaml").write_text("id: bad\n")
    with pytest.raises(RubricError):
        store.get("bad")
    assert [rid for rid, _ in store.all()] == ["mini"]
