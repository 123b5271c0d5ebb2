"""essaycoach evaluate: agreement metrics, reading marked essays, the report and every error case (exit code 2)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.evaluate import (
    DataError,
    adjacent_agreement,
    concept_score,
    confusion,
    exact_agreement,
    mark_essays,
    parse_where,
    pearson,
    quadratic_weighted_kappa,
    read_dataset,
    sniff_delimiter,
    standardised_mean_difference,
)
from app.rubric import load_rubric

DATA = Path(__file__).parent / "data" / "evaluate"
RUBRIC = DATA / "water-cycle.yaml"
CSV = DATA / "essays.csv"
TSV = DATA / "essays.tsv"
CONCEPTS = ["evaporation", "condensation", "precipitation"]

# essays.csv without the empty row w6: human marks, and what the water-cycle rubric gives (one point per stage named)
HUMAN = [3, 2, 2, 0, 1, 3, 0, 1]
MACHINE = [3, 2, 1, 0, 1, 2, 1, 3]


def _qwk_reference(a: list[int], b: list[int], k: int) -> float:
    """Quadratic weighted kappa from its definition, independent of scikit-learn."""
    n = len(a)
    observed = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b):
        observed[x][y] += 1
    rows = [sum(observed[i]) for i in range(k)]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    num = sum((i - j) ** 2 * observed[i][j] for i in range(k) for j in range(k))
    den = sum((i - j) ** 2 * rows[i] * cols[j] / n for i in range(k) for j in range(k))
    return 1 - num / den


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["evaluate", *args])
    return result.exit_code, result.stdout, result.stderr


def _write(tmp_path: Path, name: str, rows: list[list[str]], delimiter: str = ",") -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


# -- metrics ------------------------------------------------------------------
def test_qwk_is_one_for_perfect_agreement():
    assert quadratic_weighted_kappa([0, 1, 2, 3, 3], [0, 1, 2, 3, 3], labels=range(4)) == pytest.approx(1.0)


def test_qwk_hand_computed_small_case():
    # observed: (0,0) (1,2) (2,2); weighted disagreement 1; expected weighted disagreement 15/3 = 5 -> 1 - 1/5
    assert quadratic_weighted_kappa([0, 1, 2], [0, 2, 2], labels=range(3)) == pytest.approx(0.8)


def test_qwk_total_disagreement_is_minus_one():
    assert quadratic_weighted_kappa([0, 1], [1, 0]) == pytest.approx(-1.0)


def test_qwk_uses_quadratic_not_linear_weights():
    human, machine = [0, 0, 1, 2, 3, 3], [0, 2, 1, 3, 1, 3]
    assert quadratic_weighted_kappa(human, machine, labels=range(4)) == pytest.approx(_qwk_reference(human, machine, 4))


def test_qwk_undefined_when_only_one_mark_is_used():
    assert quadratic_weighted_kappa([2, 2, 2], [2, 2, 2], labels=range(4)) is None


def test_exact_and_adjacent_agreement():
    human, machine = [0, 1, 2, 3], [1, 1, 0, 3]  # differences 1, 0, 2, 0
    assert exact_agreement(human, machine) == pytest.approx(0.5)
    assert adjacent_agreement(human, machine) == pytest.approx(0.75)
    assert adjacent_agreement(human, machine, tolerance=2) == pytest.approx(1.0)


def test_smd_sign_and_magnitude_use_population_sd():
    # both sds are 1 (population); machine one mark higher -> +1 (the sample sd would give 0.866)
    assert standardised_mean_difference([0, 0, 2, 2], [1, 1, 3, 3]) == pytest.approx(1.0)
    assert standardised_mean_difference([1, 1, 3, 3], [0, 0, 2, 2]) == pytest.approx(-1.0)
    # machine sd 0, human sd 1: pooled sd sqrt(1/2)
    assert standardised_mean_difference([0, 2], [2, 2]) == pytest.approx(math.sqrt(2))
    assert standardised_mean_difference([0, 2], [1, 1]) == pytest.approx(0.0)


def test_smd_undefined_when_nobody_varies():
    assert standardised_mean_difference([1, 1], [2, 2]) is None


def test_pearson():
    assert pearson([0, 1, 2], [0, 2, 4]) == pytest.approx(1.0)
    assert pearson([0, 1, 2], [2, 1, 0]) == pytest.approx(-1.0)
    assert pearson([0, 1, 2], [1, 1, 1]) is None


def test_confusion_covers_the_whole_scale_with_human_rows():
    matrix = confusion([0, 0, 3], [1, 0, 3], labels=range(5))
    assert len(matrix) == 5 and all(len(row) == 5 for row in matrix)
    assert matrix[0] == [1, 1, 0, 0, 0]  # human 0: once machine 0, once machine 1
    assert matrix[3][3] == 1 and matrix[1] == [0] * 5 and matrix[4] == [0] * 5


def test_metrics_reject_mismatched_lengths():
    with pytest.raises(ValueError):
        exact_agreement([1, 2], [1])


def test_concept_score_precision_recall_f1():
    cs = concept_score("x", gold=[True, True, False, False, True], predicted=[True, False, True, False, True])
    assert (cs.true_positives, cs.false_positives, cs.false_negatives) == (2, 1, 1)
    assert cs.precision == pytest.approx(2 / 3) and cs.recall == pytest.approx(2 / 3) and cs.f1 == pytest.approx(2 / 3)
    assert cs.support == 3 and cs.labelled == 5


def test_concept_score_undefined_ratios():
    cs = concept_score("x", gold=[False, False], predicted=[False, False])
    assert cs.precision is None and cs.recall is None and cs.f1 is None
    zero = concept_score("x", gold=[True, False], predicted=[False, True])
    assert zero.precision == 0.0 and zero.recall == 0.0 and zero.f1 == 0.0


# -- reading ------------------------------------------------------------------
def test_read_dataset_defaults_labels_and_empty_rows():
    data = read_dataset(CSV, scale=(0, 3), concept_ids=CONCEPTS)
    assert (data.text_col, data.score_col, data.id_col) == ("text", "mark", "id")
    assert [e.id for e in data.essays] == ["w1", "w2", "w3", "w4", "w5", "w7", "w8", "w9"]
    assert [e.human for e in data.essays] == HUMAN
    assert data.skipped_empty == 1 and data.rows_read == 9
    assert data.label_ids == CONCEPTS
    assert data.essays[0].labels == {"evaporation": True, "condensation": True, "precipitation": True}
    assert data.essays[-1].labels == {}  # blank label cells: not labelled


def test_read_dataset_tsv_where_and_limit():
    data = read_dataset(TSV, scale=(0, 3), concept_ids=CONCEPTS, where=parse_where(["Set=1"]))
    assert data.delimiter == "\t" and data.text_col == "EssayText" and data.score_col == "Score"
    assert [e.id for e in data.essays] == ["t1", "t3", "t5"] and data.filtered_out == 2
    either = read_dataset(TSV, scale=(0, 3), concept_ids=CONCEPTS, where=parse_where(["Set=1", "Set=2"]), limit=4)
    assert [e.id for e in either.essays] == ["t1", "t2", "t3", "t4"]


def test_row_number_is_the_id_when_there_is_no_id_column(tmp_path):
    path = _write(tmp_path, "a.csv", [["essay", "score"], ["It evaporates.", "1"], ["Rain.", "1"]])
    assert [e.id for e in read_dataset(path, scale=(0, 3), concept_ids=CONCEPTS).essays] == ["1", "2"]


def test_sniff_delimiter():
    assert sniff_delimiter("x.tsv", "a,b,c") == "\t"
    assert sniff_delimiter("x.tab", "a") == "\t"
    assert sniff_delimiter("x.txt", "id\ttext\tmark") == "\t"
    assert sniff_delimiter("x.txt", "id;text;mark") == ";"
    assert sniff_delimiter("x.csv", "id,text,mark") == ","


def test_very_long_fields_are_read(tmp_path):
    csv.field_size_limit(131072)  # the default, in case another test raised it
    essay = "The water evaporates. " * 10_000  # 220,000 characters in one field
    path = _write(tmp_path, "long.csv", [["text", "mark"], [essay, "1"]])
    assert len(read_dataset(path, scale=(0, 3), concept_ids=CONCEPTS).essays[0].text) == len(essay)


@pytest.mark.parametrize("value, expected", [("1", True), ("0", False), ("TRUE", True), ("false", False), ("yes", True), ("1.0", True)])
def test_label_values(tmp_path, value, expected):
    path = _write(tmp_path, "l.csv", [["text", "mark", "concept:evaporation"], ["Rain.", "1", value]])
    assert read_dataset(path, scale=(0, 3), concept_ids=CONCEPTS).essays[0].labels == {"evaporation": expected}


def test_marks_written_as_decimals_are_accepted(tmp_path):
    path = _write(tmp_path, "d.csv", [["text", "mark"], ["Rain.", "2.0"]])
    assert read_dataset(path, scale=(0, 3), concept_ids=CONCEPTS).essays[0].human == 2


def test_parallel_marking_gives_the_same_marks():
    rubric = load_rubric(RUBRIC)
    essays = read_dataset(CSV, scale=(0, 3), concept_ids=CONCEPTS).essays
    one = mark_essays(essays, rubric)
    two = mark_essays(essays, rubric, jobs=2)
    assert [p.mark for p in one] == MACHINE
    assert [(p.essay.id, p.mark, dict(p.found)) for p in two] == [(p.essay.id, p.mark, dict(p.found)) for p in one]


# -- the command, end to end --------------------------------------------------
def test_cli_json_report_on_the_synthetic_csv():
    code, out, err = _run("--rubric", str(RUBRIC), "--format", "json", str(CSV))
    assert code == 0, err
    r = json.loads(out)
    assert r["n"] == 8 and r["skipped_empty"] == 1 and r["scale"] == [0, 3]
    assert r["exact_agreement"] == pytest.approx(4 / 8)
    assert r["adjacent_agreement"] == pytest.approx(7 / 8)
    assert r["qwk"] == pytest.approx(_qwk_reference(HUMAN, MACHINE, 4))
    assert r["human"]["mean"] == pytest.approx(1.5) and r["machine"]["mean"] == pytest.approx(13 / 8)
    pooled = math.sqrt((1.25 + (0.984375)) / 2)  # population variances of HUMAN and MACHINE
    assert r["smd"] == pytest.approx((13 / 8 - 1.5) / pooled)
    assert r["confusion"]["matrix"] == [[1, 1, 0, 0], [0, 1, 0, 1], [0, 1, 1, 0], [0, 0, 1, 1]]
    assert [f["id"] for f in r["flags"]] == ["low_qwk"]
    worst = r["most_mis_scored"]
    assert worst[0]["id"] == "w9" and worst[0]["human"] == 1 and worst[0]["machine"] == 3 and worst[0]["difference"] == 2
    assert [w["id"] for w in worst] == ["w9", "w3", "w7", "w8"] and r["disagreements"] == 4


def test_cli_per_concept_precision_recall_f1():
    code, out, err = _run("--rubric", str(RUBRIC), "--format", "json", str(CSV))
    assert code == 0, err
    concepts = {c["id"]: c for c in json.loads(out)["concepts"]}
    assert list(concepts) == CONCEPTS
    evap = concepts["evaporation"]  # w7 describes evaporation without the word: one miss
    assert (evap["precision"], evap["recall"], evap["support"], evap["labelled"]) == (1.0, 0.75, 4, 7)
    assert evap["f1"] == pytest.approx(2 * 0.75 / 1.75)
    prec = concepts["precipitation"]  # w8 mentions rain but is labelled 0: one false alarm
    assert (prec["precision"], prec["recall"], prec["support"]) == (0.75, 1.0, 3)
    assert concepts["condensation"]["f1"] == 1.0


def test_cli_text_report_is_readable_and_flags_thresholds():
    code, out, err = _run("--rubric", str(RUBRIC), "--top", "2", str(CSV))
    assert code == 0, err
    assert "Quadratic weighted kappa" in out and "0.611" in out
    assert "Exact agreement" in out and "50.0%" in out
    assert "Adjacent agreement (±1)" in out and "87.5%" in out
    assert "1 skipped (empty text)" in out
    assert "WARNING: quadratic weighted kappa 0.611 is below 0.70" in out
    assert "|SMD|" not in out.split("WARNING", 1)[1]  # SMD 0.118 is within 0.15: not flagged
    assert "Most mis-scored essays (2 of 4 disagreements" in out
    assert "id w9  human 1  machine 3 (+2)" in out and "id w8" not in out
    assert "evaporation         1.00    0.75   0.86        4         7" in out
    matrix_rows = [line.split() for line in out.splitlines() if line.strip().startswith(("0 ", "1 ", "2 ", "3 ", "total"))]
    assert ["0", "1", "1", "0", "0", "2"] in matrix_rows and ["total", "1", "3", "2", "2", "8"] in matrix_rows


def test_cli_where_on_tsv_and_no_warning_when_agreement_is_perfect():
    code, out, err = _run("-r", str(RUBRIC), "--where", "Set=1", str(TSV))
    assert code == 0, err
    assert "3 essays compared" in out and "2 left out by --where Set=1" in out
    assert "No disagreements" in out and "WARNING" not in out


def test_cli_smd_flag(tmp_path):
    rows = [["text", "mark"]] + [["It evaporates, condenses and falls as rain.", "0"], ["Nothing here.", "0"], ["It evaporates.", "1"], ["It evaporates and condenses.", "2"]]
    code, out, err = _run("-r", str(RUBRIC), str(_write(tmp_path, "hi.csv", rows)))
    assert code == 0, err
    assert "the machine marks higher than the humans" in out


def test_cli_out_file_and_limit(tmp_path):
    target = tmp_path / "report.json"
    code, out, err = _run("-r", str(RUBRIC), "--format", "json", "--limit", "3", "--out", str(target), str(CSV))
    assert code == 0, err
    assert out == "" and "report written" in err
    assert json.loads(target.read_text(encoding="utf-8"))["n"] == 3


def test_cli_custom_columns(tmp_path):
    rows = [["ref", "body", "grade"], ["a", "It evaporates and condenses.", "2"], ["b", "Snow.", "1"]]
    path = _write(tmp_path, "c.csv", rows)
    code, out, err = _run("-r", str(RUBRIC), "--text-col", "body", "--score-col", "grade", "--id-col", "ref", "--format", "json", str(path))
    assert code == 0, err
    r = json.loads(out)
    assert r["columns"] == {"text": "body", "score": "grade", "id": "ref"} and r["exact_agreement"] == 1.0


# -- errors: clear message, exit code 2 ---------------------------------------
def test_error_missing_file(tmp_path):
    code, _, err = _run("-r", str(RUBRIC), str(tmp_path / "nope.csv"))
    assert code == 2 and "nope.csv: no such file" in err


def test_error_missing_named_column_lists_the_columns():
    code, _, err = _run("-r", str(RUBRIC), "--text-col", "essay_body", str(CSV))
    assert code == 2
    assert "no column 'essay_body'" in err and "--text-col" in err
    assert "columns present: id, text, mark, concept:evaporation" in err


def test_error_no_default_score_column(tmp_path):
    path = _write(tmp_path, "s.csv", [["text", "points"], ["Rain.", "1"]])
    code, _, err = _run("-r", str(RUBRIC), str(path))
    assert code == 2 and "no human mark column" in err and "--score-col" in err and "columns present: text, points" in err


def test_error_where_column_missing():
    code, _, err = _run("-r", str(RUBRIC), "--where", "EssaySet=1", str(CSV))
    assert code == 2 and "no column 'EssaySet' (--where)" in err


def test_error_where_without_equals():
    code, _, err = _run("-r", str(RUBRIC), "--where", "Set", str(TSV))
    assert code == 2 and "write COLUMN=VALUE" in err


def test_error_non_numeric_mark_names_the_row(tmp_path):
    rows = [["id", "text", "mark"], ["a", "Rain.", "1"], ["b", "Snow.", "2"], ["c", "It evaporates.", "two"]]
    code, _, err = _run("-r", str(RUBRIC), str(_write(tmp_path, "m.csv", rows)))
    assert code == 2
    assert "row 3 (line 4)" in err and "'two' is not a number" in err and "column 'mark'" in err


def test_error_mark_outside_the_scale(tmp_path):
    rows = [["text", "mark"], ["Rain.", "1"], ["Snow.", "5"]]
    code, _, err = _run("-r", str(RUBRIC), str(_write(tmp_path, "o.csv", rows)))
    assert code == 2 and "row 2" in err and "outside the rubric's scale 0-3" in err


def test_error_fractional_and_empty_marks(tmp_path):
    code, _, err = _run("-r", str(RUBRIC), str(_write(tmp_path, "f.csv", [["text", "mark"], ["Rain.", "1.5"]])))
    assert code == 2 and "row 1" in err and "not a whole number" in err
    code, _, err = _run("-r", str(RUBRIC), str(_write(tmp_path, "e.csv", [["text", "mark"], ["Rain.", ""]])))
    assert code == 2 and "row 1" in err and "mark is empty" in err


def test_error_nothing_left_after_filtering():
    code, _, err = _run("-r", str(RUBRIC), "--where", "Set=9", str(TSV))
    assert code == 2 and "no essays to evaluate after the --where filter" in err


def test_error_only_empty_texts(tmp_path):
    code, _, err = _run("-r", str(RUBRIC), str(_write(tmp_path, "x.csv", [["text", "mark"], ["", "1"], [" ", "0"]])))
    assert code == 2 and "no essays to evaluate" in err and "2 had empty text" in err


def test_error_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    code, _, err = _run("-r", str(RUBRIC), str(path))
    assert code == 2 and "the file is empty" in err


def test_error_unknown_concept_label_column(tmp_path):
    path = _write(tmp_path, "u.csv", [["text", "mark", "concept:transpiration"], ["Rain.", "1", "1"]])
    code, _, err = _run("-r", str(RUBRIC), str(path))
    assert code == 2 and "'concept:transpiration' names no concept" in err and "evaporation, condensation, precipitation" in err


def test_error_bad_concept_label(tmp_path):
    path = _write(tmp_path, "b.csv", [["text", "mark", "concept:evaporation"], ["Rain.", "1", "maybe"]])
    code, _, err = _run("-r", str(RUBRIC), str(path))
    assert code == 2 and "row 1" in err and "'maybe' is not a concept label" in err


def test_error_unknown_rubric():
    code, _, err = _run("-r", "no/such/rubric.yaml", str(CSV))
    assert code == 2 and "no such rubric file" in err


def test_data_error_is_raised_by_the_library(tmp_path):
    with pytest.raises(DataError, match="row 1"):
        read_dataset(_write(tmp_path, "n.csv", [["text", "mark"], ["Rain.", "x"]]), scale=(0, 3), concept_ids=CONCEPTS)
