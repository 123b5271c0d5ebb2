"""Evaluate a rubric against human marks: read a CSV/TSV of marked essays, mark each one, compare the two.

Everything here is a plain function over plain data so it can be tested without the CLI:
reading (`read_dataset`), metrics (`quadratic_weighted_kappa`, `standardised_mean_difference`, ...),
marking (`mark_essays`), and the report (`build_report` -> dict, `format_report` -> terminal text).
"""

from __future__ import annotations

import csv
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .rubric import Rubric
from .service import EssayError, Marker, check_text, default_marker, mark_text

TEXT_COLUMNS = ("text", "essay", "EssayText", "answer")
SCORE_COLUMNS = ("mark", "score", "Score", "human_mark")
ID_COLUMNS = ("id", "Id")
CONCEPT_PREFIX = "concept:"

# RSMTool's warning thresholds for a scoring model (Madnani et al. 2017; Williamson et al. 2012).
QWK_THRESHOLD = 0.70
SMD_THRESHOLD = 0.15

SNIPPET_CHARS = 120
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


class DataError(Exception):
    """A data file the evaluation cannot use; the message is shown to the user as it is."""


# -- reading ------------------------------------------------------------------
@dataclass(frozen=True)
class Essay:
    id: str
    row: int  # data row, 1 = the first row after the header
    line: int  # line in the file where the row starts
    text: str
    human: int
    labels: Mapping[str, bool] = field(default_factory=dict)  # concept id -> labelled present/absent


@dataclass
class Dataset:
    path: str
    delimiter: str
    columns: list[str]
    text_col: str
    score_col: str
    id_col: str | None
    label_ids: list[str]  # concepts with a concept:<id> column, in column order
    where: dict[str, list[str]]
    essays: list[Essay]
    rows_read: int = 0
    filtered_out: int = 0
    skipped_empty: int = 0


def _raise_field_limit() -> None:
    limit = sys.maxsize
    while True:  # sys.maxsize overflows a C long on some platforms
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 10


def sniff_delimiter(path: str | Path, header: str) -> str:
    """Tab for .tsv/.tab files; otherwise whichever of tab, semicolon, comma the header line uses most."""
    suffix = Path(path).suffix.lower()
    if suffix in (".tsv", ".tab"):
        return "\t"
    counts = {d: header.count(d) for d in ("\t", ";", ",")}
    if suffix == ".csv" and counts[","]:
        return ","
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _columns_present(columns: Sequence[str]) -> str:
    return ", ".join(columns) if columns else "(none)"


def _find(columns: Sequence[str], name: str) -> str | None:
    if name in columns:
        return name
    folded = [c for c in columns if c.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def pick_column(columns: Sequence[str], requested: str | None, candidates: Sequence[str], option: str, source: str) -> str | None:
    """The column to use: the one asked for (must exist), else the first candidate present (None if none)."""
    if requested is not None:
        found = _find(columns, requested)
        if found is None:
            raise DataError(f"{source}: there is no column '{requested}' ({option}); columns present: {_columns_present(columns)}")
        return found
    for name in candidates:
        found = _find(columns, name)
        if found is not None:
            return found
    return None


def parse_where(items: Iterable[str]) -> dict[str, list[str]]:
    """--where COL=VALUE options -> {column: [values]}; values of one column are alternatives."""
    out: dict[str, list[str]] = {}
    for item in items:
        col, sep, value = item.partition("=")
        if not sep or not col.strip():
            raise DataError(f"--where '{item}': write COLUMN=VALUE, e.g. --where EssaySet=1")
        out.setdefault(col.strip(), []).append(value.strip())
    return out


def _same(cell: str, value: str) -> bool:
    cell = cell.strip()
    if cell == value:
        return True
    try:
        return float(cell) == float(value)
    except ValueError:
        return False


def parse_mark(value: str, scale: tuple[int, int], where: str) -> int:
    """A human mark: a whole number on the scale (2 and 2.0 are both fine)."""
    raw = value.strip()
    if not raw:
        raise DataError(f"{where}: the human mark is empty")
    try:
        number = float(raw)
    except ValueError:
        raise DataError(f"{where}: the human mark '{raw}' is not a number") from None
    if not math.isfinite(number) or number != int(number):
        raise DataError(f"{where}: the human mark '{raw}' is not a whole number")
    mark = int(number)
    lo, hi = scale
    if not lo <= mark <= hi:
        raise DataError(f"{where}: the human mark {raw} is outside the rubric's scale {lo}-{hi}")
    return mark


def parse_label(value: str, where: str) -> bool | None:
    """A concept label: 1/0, true/false, yes/no; empty means not labelled."""
    raw = value.strip().casefold()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if number in (0.0, 1.0):
        return number == 1.0
    raise DataError(f"{where}: '{value.strip()}' is not a concept label: write 1 or 0 (or true/false)")


def read_dataset(
    path: str | Path,
    *,
    scale: tuple[int, int],
    concept_ids: Sequence[str],
    text_col: str | None = None,
    score_col: str | None = None,
    id_col: str | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
    limit: int | None = None,
) -> Dataset:
    """Read essays and human marks from a CSV or TSV file; raise DataError on anything unusable."""
    p = Path(path)
    source = str(p)
    _raise_field_limit()
    try:
        handle = p.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise DataError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{source}: is a directory, not a data file") from None
    except OSError as exc:
        raise DataError(f"{source}: cannot read the file: {exc.strerror}") from None
    try:
        with handle:
            header_line = handle.readline()
            handle.seek(0)
            delimiter = sniff_delimiter(p, header_line)
            return _read_rows(handle, source, delimiter, scale, concept_ids, text_col, score_col, id_col, where or {}, limit)
    except UnicodeDecodeError as exc:
        raise DataError(f"{source}: not UTF-8 text (byte {exc.start}): save the file as UTF-8") from None
    except csv.Error as exc:
        raise DataError(f"{source}: not a readable CSV/TSV file: {exc}") from None


def _read_rows(
    handle: Any,
    source: str,
    delimiter: str,
    scale: tuple[int, int],
    concept_ids: Sequence[str],
    text_col: str | None,
    score_col: str | None,
    id_col: str | None,
    where: Mapping[str, Sequence[str]],
    limit: int | None,
) -> Dataset:
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        columns = [c.strip() for c in next(reader)]
    except StopIteration:
        raise DataError(f"{source}: the file is empty") from None
    text_name = pick_column(columns, text_col, TEXT_COLUMNS, "--text-col", source)
    if text_name is None:
        raise DataError(f"{source}: no essay text column (looked for {', '.join(TEXT_COLUMNS)}): name it with --text-col; columns present: {_columns_present(columns)}")
    score_name = pick_column(columns, score_col, SCORE_COLUMNS, "--score-col", source)
    if score_name is None:
        raise DataError(f"{source}: no human mark column (looked for {', '.join(SCORE_COLUMNS)}): name it with --score-col; columns present: {_columns_present(columns)}")
    id_name = pick_column(columns, id_col, ID_COLUMNS, "--id-col", source)
    filters: list[tuple[int, str, list[str]]] = []
    for col, values in where.items():
        found = _find(columns, col)
        if found is None:
            raise DataError(f"{source}: there is no column '{col}' (--where); columns present: {_columns_present(columns)}")
        filters.append((columns.index(found), found, [v.strip() for v in values]))

    labels: list[tuple[int, str]] = []
    for i, col in enumerate(columns):
        if col.casefold().startswith(CONCEPT_PREFIX):
            cid = col[len(CONCEPT_PREFIX):].strip()
            if cid not in concept_ids:
                raise DataError(f"{source}: column '{col}' names no concept of the rubric; its concepts are: {', '.join(concept_ids)}")
            labels.append((i, cid))

    text_i, score_i = columns.index(text_name), columns.index(score_name)
    id_i = columns.index(id_name) if id_name is not None else None
    data = Dataset(source, delimiter, columns, text_name, score_name, id_name, [cid for _, cid in labels], {c: list(v) for _, c, v in filters}, [])
    row = 0
    line_end = reader.line_num
    for cells in reader:
        line = line_end + 1
        line_end = reader.line_num
        if not cells:  # a blank line
            continue
        row += 1
        data.rows_read += 1
        cells += [""] * (len(columns) - len(cells))
        if not all(any(_same(cells[i], v) for v in values) for i, _, values in filters):
            data.filtered_out += 1
            continue
        text = cells[text_i]
        if not text.strip():
            data.skipped_empty += 1
            continue
        here = f"{source}: row {row} (line {line})"
        human = parse_mark(cells[score_i], scale, f"{here}, column '{score_name}'")
        row_labels = {}
        for i, cid in labels:
            value = parse_label(cells[i], f"{here}, column '{columns[i]}'")
            if value is not None:
                row_labels[cid] = value
        essay_id = cells[id_i].strip() if id_i is not None and cells[id_i].strip() else str(row)
        data.essays.append(Essay(essay_id, row, line, text, human, row_labels))
        if limit is not None and len(data.essays) >= limit:
            break
    if not data.essays:
        what = "after the --where filter " if filters else ""
        empty = f" ({data.skipped_empty} had empty text)" if data.skipped_empty else ""
        raise DataError(f"{source}: no essays to evaluate {what}({data.rows_read} rows read{empty})")
    return data


# -- metrics ------------------------------------------------------------------
def _arrays(human: Sequence[int], machine: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    h, m = np.asarray(human, dtype=float), np.asarray(machine, dtype=float)
    if h.shape != m.shape:
        raise ValueError(f"{len(h)} human marks but {len(m)} machine marks")
    if not len(h):
        raise ValueError("no marks to compare")
    return h, m


def quadratic_weighted_kappa(human: Sequence[int], machine: Sequence[int], labels: Sequence[int] | None = None) -> float | None:
    """Cohen's kappa with quadratic weights; None when undefined (both raters used a single mark)."""
    _arrays(human, machine)
    h = np.asarray(human, dtype=int)
    m = np.asarray(machine, dtype=int)
    if len(set(h.tolist()) | set(m.tolist())) < 2:
        return None  # expected disagreement is zero
    from sklearn.metrics import cohen_kappa_score  # scikit-learn takes ~1 s to import: only when evaluating

    value = cohen_kappa_score(h, m, labels=list(labels) if labels is not None else None, weights="quadratic")
    return None if math.isnan(value) else float(value)


def exact_agreement(human: Sequence[int], machine: Sequence[int]) -> float:
    h, m = _arrays(human, machine)
    return float(np.mean(h == m))


def adjacent_agreement(human: Sequence[int], machine: Sequence[int], tolerance: int = 1) -> float:
    """Share of essays where the two marks differ by at most `tolerance` (exact agreement included)."""
    h, m = _arrays(human, machine)
    return float(np.mean(np.abs(h - m) <= tolerance))


def standardised_mean_difference(human: Sequence[int], machine: Sequence[int]) -> float | None:
    """RSMTool's SMD: (mean machine - mean human) / sqrt((sd_machine^2 + sd_human^2) / 2), population sd.

    Positive when the machine marks higher than the humans. None when both sds are zero.
    """
    h, m = _arrays(human, machine)
    pooled = math.sqrt((float(np.var(m)) + float(np.var(h))) / 2)
    if pooled == 0:
        return None
    return (float(np.mean(m)) - float(np.mean(h))) / pooled


def pearson(human: Sequence[int], machine: Sequence[int]) -> float | None:
    h, m = _arrays(human, machine)
    if float(np.std(h)) == 0 or float(np.std(m)) == 0:
        return None
    return float(np.corrcoef(h, m)[0, 1])


def confusion(human: Sequence[int], machine: Sequence[int], labels: Sequence[int]) -> list[list[int]]:
    """Counts with human marks as rows and machine marks as columns, over every mark in `labels`."""
    _arrays(human, machine)
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(list(human), list(machine), labels=list(labels)).tolist()


@dataclass(frozen=True)
class ConceptScore:
    id: str
    labelled: int  # essays with a label for this concept
    support: int  # essays labelled as containing it
    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float | None
    recall: float | None
    f1: float | None


def concept_score(concept_id: str, gold: Sequence[bool], predicted: Sequence[bool]) -> ConceptScore:
    """Precision, recall and F1 of finding one concept; None where the ratio has no denominator."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} labels but {len(predicted)} predictions")
    tp = sum(1 for g, p in zip(gold, predicted) if g and p)
    fp = sum(1 for g, p in zip(gold, predicted) if p and not g)
    fn = sum(1 for g, p in zip(gold, predicted) if g and not p)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    if precision is None or recall is None:
        f1 = None
    else:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ConceptScore(concept_id, len(gold), tp + fn, tp, fp, fn, precision, recall, f1)


# -- marking ------------------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    essay: Essay
    mark: int | None  # None when the engine would not mark it
    found: Mapping[str, bool]
    error: str = ""


def _mark_one(essay: Essay, rubric: Rubric, marker: Marker) -> Prediction:
    try:
        check_text(essay.text)
        result = mark_text(essay.text, rubric, source=essay.id, marker=marker)
    except EssayError as exc:
        return Prediction(essay, None, {}, str(exc))
    return Prediction(essay, int(result["mark"]), {c["id"]: bool(c["found"]) for c in result["concepts"]})


_worker: tuple[Rubric, Marker] | None = None


def _init_worker(rubric: Rubric) -> None:
    global _worker
    from .nlp import build_nlp

    _worker = (rubric, Marker(build_nlp()))


def _mark_in_worker(essay: Essay) -> Prediction:
    assert _worker is not None
    return _mark_one(essay, *_worker)


def mark_essays(
    essays: Sequence[Essay],
    rubric: Rubric,
    *,
    marker: Marker | None = None,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[Prediction]:
    """Mark every essay with the engine, in order; `jobs` > 1 marks in that many processes."""
    out: list[Prediction] = []
    if jobs <= 1 or len(essays) < 2 * jobs:
        marker = marker or default_marker()
        for essay in essays:
            out.append(_mark_one(essay, rubric, marker))
            if progress:
                progress(1)
        return out
    chunk = max(1, min(50, len(essays) // (jobs * 4)))
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(rubric,)) as pool:
        for pred in pool.map(_mark_in_worker, essays, chunksize=chunk):
            out.append(pred)
            if progress:
                progress(1)
    return out


# -- report -------------------------------------------------------------------
def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _mean_sd(values: np.ndarray) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values))


def build_report(data: Dataset, predictions: Sequence[Prediction], rubric: Rubric, *, top: int = 10) -> dict[str, Any]:
    """Every number of the evaluation as one JSON-ready dict (the text report is printed from it)."""
    marked = [p for p in predictions if p.mark is not None]
    not_marked = [p for p in predictions if p.mark is None]
    if not marked:
        reasons = "; ".join(sorted({p.error for p in not_marked}))
        raise DataError(f"{data.path}: the engine marked none of the {len(predictions)} essays ({reasons})")
    human = [p.essay.human for p in marked]
    machine = [int(p.mark) for p in marked]  # type: ignore[arg-type]
    lo, hi = rubric.min_mark, rubric.max_mark
    labels = list(range(lo, hi + 1))
    h, m = np.asarray(human, dtype=float), np.asarray(machine, dtype=float)
    h_mean, h_sd = _mean_sd(h)
    m_mean, m_sd = _mean_sd(m)
    qwk = quadratic_weighted_kappa(human, machine, labels)
    smd = standardised_mean_difference(human, machine)
    flags = []
    if qwk is None or qwk < QWK_THRESHOLD:
        flags.append({"id": "low_qwk", "message": f"quadratic weighted kappa {_num(qwk)} is below {QWK_THRESHOLD:.2f}"})
    if smd is not None and abs(smd) > SMD_THRESHOLD:
        direction = "higher" if smd > 0 else "lower"
        flags.append({"id": "high_smd", "message": f"|SMD| {abs(smd):.3f} is above {SMD_THRESHOLD:.2f}: the machine marks {direction} than the humans"})

    concepts = {c.id: c for c in rubric.concepts}
    concept_rows = []
    for cid in data.label_ids:
        pairs = [(p.essay.labels[cid], p.found.get(cid, False)) for p in marked if cid in p.essay.labels]
        cs = concept_score(cid, [g for g, _ in pairs], [f for _, f in pairs])
        concept_rows.append({"label": concepts[cid].label, **cs.__dict__})

    order = sorted(
        (p for p in marked if p.mark != p.essay.human),
        key=lambda p: (-abs(int(p.mark) - p.essay.human), p.essay.row),  # type: ignore[arg-type]
    )
    worst = [
        {
            "id": p.essay.id,
            "row": p.essay.row,
            "human": p.essay.human,
            "machine": p.mark,
            "difference": int(p.mark) - p.essay.human,  # type: ignore[arg-type]
            "found": [cid for cid, f in p.found.items() if f],
            "text": _snippet(p.essay.text),
        }
        for p in order[:top]
    ]
    return {
        "data": data.path,
        "rubric": {"id": rubric.id, "version": rubric.version, "title": rubric.title},
        "columns": {"text": data.text_col, "score": data.score_col, "id": data.id_col},
        "where": data.where,
        "rows_read": data.rows_read,
        "filtered_out": data.filtered_out,
        "skipped_empty": data.skipped_empty,
        "not_marked": [{"id": p.essay.id, "row": p.essay.row, "reason": p.error} for p in not_marked],
        "scale": [lo, hi],
        "n": len(marked),
        "qwk": qwk,
        "exact_agreement": exact_agreement(human, machine),
        "adjacent_agreement": adjacent_agreement(human, machine),
        "smd": smd,
        "pearson": pearson(human, machine),
        "human": {"mean": h_mean, "sd": h_sd},
        "machine": {"mean": m_mean, "sd": m_sd},
        "thresholds": {"qwk_min": QWK_THRESHOLD, "smd_max_abs": SMD_THRESHOLD},
        "flags": flags,
        "confusion": {"labels": labels, "rows": "human", "columns": "machine", "matrix": confusion(human, machine, labels)},
        "concepts": concept_rows,
        "disagreements": len(order),
        "most_mis_scored": worst,
    }


def _num(value: float | None, digits: int = 3) -> str:
    return "undefined" if value is None else f"{value:.{digits}f}"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def format_report(report: Mapping[str, Any]) -> str:
    """The report as plain text for a terminal."""
    r = report
    out: list[str] = []
    rub = r["rubric"]
    out.append(f"Evaluation of rubric {rub['id']} v{rub['version']} ({rub['title']})")
    out.append(f"Data: {r['data']}  (text: {r['columns']['text']}, human mark: {r['columns']['score']}, id: {r['columns']['id'] or 'row number'})")
    read = f"{r['rows_read']} rows read"
    if r["where"]:
        cond = " and ".join(f"{c}={'|'.join(v)}" for c, v in r["where"].items())
        read += f", {r['filtered_out']} left out by --where {cond}"
    if r["skipped_empty"]:
        read += f", {r['skipped_empty']} skipped (empty text)"
    if r["not_marked"]:
        read += f", {len(r['not_marked'])} not marked by the engine"
    out.append(f"{read}; {r['n']} essays compared on the scale {r['scale'][0]}-{r['scale'][1]}")
    out.append("")

    flagged = {f["id"] for f in r["flags"]}
    qwk_note = f"(want >= {r['thresholds']['qwk_min']:.2f})" + ("  <-- LOW" if "low_qwk" in flagged else "")
    smd_note = f"(want |SMD| <= {r['thresholds']['smd_max_abs']:.2f})" + ("  <-- HIGH" if "high_smd" in flagged else "")
    rows = [
        ("Quadratic weighted kappa", _num(r["qwk"]), qwk_note),
        ("Exact agreement", _pct(r["exact_agreement"]), ""),
        ("Adjacent agreement (±1)", _pct(r["adjacent_agreement"]), ""),
        ("Standardised mean diff.", _num(r["smd"]), smd_note),
        ("Pearson r", _num(r["pearson"]), ""),
    ]
    out.append("Agreement with the human marks")
    for name, value, note in rows:
        out.append(f"  {name:<26}{value:>9}  {note}".rstrip())
    out.append(f"  {'':<26}{'human':>9}  {'machine':>7}")
    out.append(f"  {'Mean mark':<26}{r['human']['mean']:>9.2f}  {r['machine']['mean']:>7.2f}")
    out.append(f"  {'Standard deviation':<26}{r['human']['sd']:>9.2f}  {r['machine']['sd']:>7.2f}")
    out.append("")

    labels: list[int] = r["confusion"]["labels"]
    matrix: list[list[int]] = r["confusion"]["matrix"]
    width = max(5, len(str(r["n"])) + 1, *(len(str(x)) + 1 for x in labels))
    out.append("Confusion matrix (rows: human mark, columns: machine mark)")
    out.append("  " + f"{'human':>7}" + "".join(f"{x:>{width}}" for x in labels) + f"{'total':>{width + 2}}")
    for label, counts in zip(labels, matrix):
        out.append("  " + f"{label:>7}" + "".join(f"{c:>{width}}" for c in counts) + f"{sum(counts):>{width + 2}}")
    col_totals = [sum(col) for col in zip(*matrix)]
    out.append("  " + f"{'total':>7}" + "".join(f"{c:>{width}}" for c in col_totals) + f"{sum(col_totals):>{width + 2}}")

    if r["concepts"]:
        out.append("")
        out.append("Concepts found vs labelled (concept:<id> columns)")
        name_w = max(len("concept"), *(len(c["id"]) for c in r["concepts"]))
        out.append(f"  {'concept':<{name_w}}  {'precision':>9}  {'recall':>6}  {'F1':>5}  {'support':>7}  {'labelled':>8}")
        for c in r["concepts"]:
            out.append(
                f"  {c['id']:<{name_w}}  {_num(c['precision'], 2) if c['precision'] is not None else '-':>9}"
                f"  {_num(c['recall'], 2) if c['recall'] is not None else '-':>6}"
                f"  {_num(c['f1'], 2) if c['f1'] is not None else '-':>5}  {c['support']:>7}  {c['labelled']:>8}"
            )

    worst = r["most_mis_scored"]
    if r["disagreements"] == 0:
        out += ["", "No disagreements: every essay got the human mark."]
    elif worst:
        out.append("")
        out.append(f"Most mis-scored essays ({len(worst)} of {r['disagreements']} disagreements, largest |machine - human| first)")
        for i, w in enumerate(worst, 1):
            found = ", ".join(w["found"]) or "none"
            out.append(f"  {i:>2}. id {w['id']}  human {w['human']}  machine {w['machine']} ({w['difference']:+d})  found: {found}")
            out.append(f"      {w['text']}")

    if r["not_marked"]:
        out.append("")
        out.append("Not marked by the engine")
        for nm in r["not_marked"][:10]:
            out.append(f"  id {nm['id']} (row {nm['row']}): {nm['reason']}")

    if r["flags"]:
        out.append("")
        for f in r["flags"]:
            out.append(f"WARNING: {f['message']}")
    return "\n".join(out).rstrip() + "\n"
