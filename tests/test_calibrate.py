"""Calibration: learning a synthetic teacher's marking, the honest report, model files, rubric checks, adoption, CLI, service."""

from __future__ import annotations

import csv
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from app.calibrate import ModelError, feature_matrix, feature_names, fit, result_features, round_marks
from app.calibrate_report import build_report, verdict
from app.calibrate_store import (
    CalibrationModel,
    ModelMismatch,
    NoModel,
    NotAdoptable,
    adopt,
    adopted_calibration,
    drop,
    load,
    model_path,
    save,
)
from app.calibrate_train import Training, train
from app.cli import main
from app.evaluate import DataError, read_dataset
from app.rubric import Rubric, load_rubric, parse_rubric
from app.service import mark_text

DATA = Path(__file__).parent / "data" / "calibration"
RUBRIC_PATH = DATA / "water-cycle.yaml"
MARKED = DATA / "marked.csv"  # teacher = rubric mark - 1 when the essay says the sea boils (never below 0)
AGREE = DATA / "agree.csv"  # teacher = rubric mark
RESAMPLES = 200  # enough for the tests; the CLI uses 1000

SLIP_TWO_STAGES = "Water evaporates from the warm sea. The sea has to boil first. Then the vapour condenses into clouds."
TWO_STAGES = "Water evaporates from the warm sea. Then the vapour condenses into clouds high up."


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    return load_rubric(RUBRIC_PATH)


def _data(path: Path, rubric: Rubric):
    return read_dataset(path, scale=(rubric.min_mark, rubric.max_mark), concept_ids=[c.id for c in rubric.concepts])


@pytest.fixture(scope="module")
def trained(rubric: Rubric) -> Training:
    return train(_data(MARKED, rubric), rubric, resamples=RESAMPLES)


@pytest.fixture(scope="module")
def agreeing(rubric: Rubric) -> Training:
    return train(_data(AGREE, rubric), rubric, resamples=RESAMPLES)


def _rubric_v2(rubric_text: str, tmp_path: Path, *, version: int = 2, edit: bool = False) -> Path:
    text = rubric_text.replace("version: 1", f"version: {version}")
    if edit:
        text = text.replace("phrases: [precipitation, rain, snow]", "phrases: [precipitation, rain, snow, hail]")
    path = tmp_path / f"water-cycle-v{version}{'-edited' if edit else ''}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _write(tmp_path: Path, name: str, rows: list[list[str]]) -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


# -- the synthetic data is what it claims to be -------------------------------
def test_synthetic_data_rubric_marks_ignore_the_slip(rubric):
    essays = _data(MARKED, rubric).essays
    rubric_marks = {e.id: mark_text(e.text, rubric)["rubric_mark"] for e in essays}
    for e in essays:
        n = 0 if e.id.split("-")[1] == "none" else len([p for p in e.id.split("-")[1:] if p != "slip"])
        assert rubric_marks[e.id] == n, e.id  # one point per stage written in, slip or not
        assert e.human == max(0, n - e.id.endswith("-slip")), e.id


# -- learning -----------------------------------------------------------------
def test_training_recovers_the_teachers_penalty_for_the_slip(trained):
    r = trained.report
    assert r["n"] == 48 and r["recommended"] is True
    assert r["calibrated"]["exact_agreement"] == pytest.approx(1.0)  # cross-validated: every essay predicted unseen
    assert r["rubric_only"]["exact_agreement"] == pytest.approx(27 / 48)  # 21 essays with the slip and a stage
    assert r["calibrated"]["qwk"] == pytest.approx(1.0) and r["rubric_only"]["qwk"] < 0.8
    assert r["gain"]["interval"][0] > 0 and r["verdict"].startswith("Recommended")
    learnt = {f["name"]: f["per_unit"] for f in r["model"]["top_features"]}
    assert learnt["misconception.sea_boils"] < -0.2  # the slip lowers the mark


def test_trained_model_marks_new_essays_like_the_teacher(trained, rubric):
    model = trained.model
    slip, clean = (mark_text(t, rubric) for t in (SLIP_TWO_STAGES, TWO_STAGES))
    assert slip["rubric_mark"] == clean["rubric_mark"] == 2
    assert model.calibrated_mark(slip, SLIP_TWO_STAGES, rubric) == 1
    assert model.calibrated_mark(clean, TWO_STAGES, rubric) == 2


def test_features_read_the_engine_result(rubric):
    result = mark_text(SLIP_TWO_STAGES, rubric)
    f = result_features(result, SLIP_TWO_STAGES)
    assert f["rubric_mark"] == 2 and f["key_elements"] == 2 and f["misconceptions"] == 1
    assert f["concept.evaporation.found"] == 1 and f["concept.precipitation.found"] == 0 and f["misconception.sea_boils"] == 1
    assert f["log_sentences"] == pytest.approx(np.log1p(3)) and f["words_per_sentence"] == pytest.approx(18 / 3)
    names = feature_names(rubric)
    assert names[0] == "rubric_mark" and "concept.condensation.developed" in names and "misconception.sea_boils" in names
    row = feature_matrix([f, {}], names)
    assert row.shape == (2, len(names)) and not row[1].any()  # a missing feature reads as 0


def test_round_marks_half_up_and_clipped():
    assert round_marks(np.array([-0.7, 0.5, 1.49, 2.5, 3.6]), 0, 3).tolist() == [0, 1, 1, 3, 3]


def test_fitted_formula_matches_scikit_learn(rubric):
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(1)
    names = ["rubric_mark", "a", "b"]
    x = np.column_stack([rng.integers(0, 4, 40), rng.normal(size=40), rng.integers(0, 2, 40)]).astype(float)
    y = np.clip(x[:, 0] + (x[:, 2] > 0), 0, 3).astype(int)
    model = fit(x, y, names, 0, 3)
    scaler = StandardScaler().fit(x)
    ridge = Ridge(alpha=model.alpha).fit(scaler.transform(x), y - x[:, 0])
    assert model.raw(x) == pytest.approx(x[:, 0] + ridge.predict(scaler.transform(x)), abs=1e-9)


# -- the report and the adoption rule -----------------------------------------
def test_no_gain_is_reported_and_the_model_cannot_be_adopted(agreeing, rubric, tmp_path):
    r = agreeing.report
    assert r["rubric_only"]["qwk"] == pytest.approx(1.0) and r["recommended"] is False
    assert "does not beat the rubric-only mark" in r["verdict"]
    save(agreeing.model, tmp_path)
    with pytest.raises(NotAdoptable, match="cannot be adopted"):
        adopt(rubric, tmp_path)
    assert load(rubric.id, tmp_path).adopted is None and adopted_calibration(rubric, tmp_path) is None


def test_verdict_needs_the_gain_interval_above_zero():
    assert verdict(0.80, 0.70, [0.02, 0.18])[0] is True
    ok, message = verdict(0.80, 0.70, [-0.03, 0.20])
    assert ok is False and "includes no gain" in message and "mark more essays" in message
    assert verdict(0.70, 0.75, [0.01, 0.1])[0] is False  # behind on the point estimate: never recommended
    assert verdict(None, 0.5, None)[0] is False
    assert verdict(0.3, None, [0.1, 0.5])[0] is True  # an undefined rubric-only kappa counts as 0


def test_report_flags_thresholds_and_lists_the_worst_essays():
    teacher = [0, 1, 2, 3] * 5
    calibrated = [0, 1, 2, 3] * 4 + [3, 1, 2, 0]  # two big misses
    rubric_only = [min(3, t + 1) for t in teacher]  # lenient: high SMD
    essays = [{"id": f"e{i}", "row": i + 1, "text": f"essay {i}"} for i in range(20)]
    r = build_report(essays, teacher, calibrated, rubric_only, scale=(0, 3), folds=5, seed=0, resamples=100, top=3)
    assert r["disagreements"] == 2
    assert [(w["id"], w["teacher"], w["calibrated"], w["rubric_only"]) for w in r["most_disagreed"]] == [("e16", 0, 3, 1), ("e19", 3, 0, 3)]
    assert {f["id"] for f in r["flags"] if f["message"].startswith("rubric-only")} == {"high_smd"}
    assert r["calibrated"]["confusion"][0] == [4, 0, 0, 1]
    lo, hi = r["calibrated"]["intervals"]["qwk"]
    assert lo <= r["calibrated"]["qwk"] <= hi and r["validation"]["interval"] == 0.9
    json.dumps(r)  # a page can take it as it is


# -- model files --------------------------------------------------------------
def test_saved_model_loads_and_reproduces_predictions_exactly(trained, rubric, tmp_path):
    folder = save(trained.model, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["MODEL_CARD.md", "model.json"]
    loaded = load(rubric.id, tmp_path, rubric)
    essays = _data(MARKED, rubric).essays
    results = [mark_text(e.text, rubric) for e in essays]
    x = feature_matrix([result_features(r, e.text) for r, e in zip(results, essays)], trained.model.model.features)
    before, after = trained.model.model.scaled(x), loaded.model.scaled(x)
    assert np.array_equal(before, after)  # bit for bit, not approximately
    assert loaded.predict(results, [e.text for e in essays]) == trained.model.predict(results, [e.text for e in essays])
    data = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    assert data["rubric"] == {"id": rubric.id, "version": 1, "digest": rubric.digest, "title": rubric.title}
    assert data["training"]["n"] == 48 and data["metrics"]["calibrated"]["qwk"] == pytest.approx(1.0)
    assert data["model"]["features"][0] == "rubric_mark" and data["adopted"] is None


def test_model_card_names_version_size_features_and_metrics(trained, tmp_path):
    card = (save(trained.model, tmp_path) / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "`water-cycle-cal` version 1" in card and "on 48 essays" in card
    assert "`misconception.sea_boils`" in card and "| quadratic weighted kappa | 1.000" in card
    assert "## Intended use" in card and "## Limits" in card


def test_model_for_another_rubric_version_is_refused(trained, rubric, tmp_path):
    save(trained.model, tmp_path)
    text = RUBRIC_PATH.read_text(encoding="utf-8")
    v2 = load_rubric(_rubric_v2(text, tmp_path))
    with pytest.raises(ModelMismatch) as err:
        load(rubric.id, tmp_path, v2)
    assert "trained for rubric 'water-cycle-cal' version 1" in str(err.value) and "rubric in use is version 2" in str(err.value)
    with pytest.raises(ModelMismatch, match="version 2"):
        mark_text(TWO_STAGES, v2, calibration=trained.model)
    edited = load_rubric(_rubric_v2(text, tmp_path, version=1, edit=True))
    with pytest.raises(ModelMismatch, match="edited without changing its version"):
        trained.model.check(edited)
    other = parse_rubric(text.replace("id: water-cycle-cal", "id: other-rubric"))
    with pytest.raises(ModelMismatch, match="'other-rubric'"):
        trained.model.check(other)


def test_adopted_model_for_an_old_version_is_not_used(trained, rubric, tmp_path):
    save(trained.model, tmp_path)
    adopt(rubric, tmp_path)
    assert adopted_calibration(rubric, tmp_path) is not None
    v2 = load_rubric(_rubric_v2(RUBRIC_PATH.read_text(encoding="utf-8"), tmp_path))
    with pytest.raises(ModelMismatch, match="version 1"):
        adopted_calibration(v2, tmp_path)
    with pytest.raises(ModelMismatch):
        adopt(v2, tmp_path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["model"].update(coef=d["model"]["coef"][:-1]), "'coef' must be"),
        (lambda d: d["model"].update(kind="pickle"), "not a 'ridge-offset' model"),
        (lambda d: d.update(format="something"), "not an EssayCoach calibration model"),
        (lambda d: d.update(format_version=99), "format version 99"),
        (lambda d: d["model"]["scale"].__setitem__(0, 0.0), "'scale' values must be positive"),
        (lambda d: d["rubric"].pop("digest"), "'rubric' must give"),
    ],
)
def test_malformed_model_files_are_refused(trained, rubric, tmp_path, change, message):
    save(trained.model, tmp_path)
    path = model_path(rubric.id, tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match=message):
        load(rubric.id, tmp_path)


def test_a_pickle_or_nan_is_not_loaded(trained, rubric, tmp_path):
    save(trained.model, tmp_path)
    path = model_path(rubric.id, tmp_path)
    path.write_bytes(pickle.dumps({"format": "essaycoach-calibration"}))
    with pytest.raises(ModelError, match="not a valid JSON model file"):
        load(rubric.id, tmp_path)
    path.write_text(json.dumps(trained.model.to_json()).replace('"intercept": ', '"intercept": NaN, "was": '), encoding="utf-8")
    with pytest.raises(ModelError, match="not a valid JSON model file"):
        load(rubric.id, tmp_path)
    with pytest.raises(NoModel, match="no calibration model for rubric 'nothing-here'"):
        load("nothing-here", tmp_path)


def test_adopt_and_drop(trained, rubric, tmp_path):
    save(trained.model, tmp_path)
    assert adopted_calibration(rubric, tmp_path) is None  # saved is not adopted
    assert adopt(rubric, tmp_path).adopted is not None
    assert isinstance(adopted_calibration(rubric, tmp_path), CalibrationModel)
    drop(rubric.id, tmp_path)
    assert adopted_calibration(rubric, tmp_path) is None and model_path(rubric.id, tmp_path).is_file()


# -- the marking service ------------------------------------------------------
def test_service_results_carry_rubric_mark_and_source(trained, rubric):
    plain = mark_text(SLIP_TWO_STAGES, rubric)
    assert (plain["mark"], plain["rubric_mark"], plain["calibrated_mark"], plain["mark_source"]) == (2, 2, None, "rubric")
    calibrated = mark_text(SLIP_TWO_STAGES, rubric, calibration=trained.model)
    assert (calibrated["mark"], calibrated["rubric_mark"], calibrated["calibrated_mark"], calibrated["mark_source"]) == (1, 2, 1, "calibrated")
    assert set(plain) == set(calibrated)  # one shape for every consumer
    untouched = {k: v for k, v in plain.items() if k not in ("mark", "calibrated_mark", "mark_source")}
    assert untouched == {k: v for k, v in calibrated.items() if k not in ("mark", "calibrated_mark", "mark_source")}


# -- the command line ---------------------------------------------------------
def test_cli_train_adopt_then_mark_the_next_batch(tmp_path, monkeypatch):
    monkeypatch.setenv("ESSAYCOACH_MODELS", str(tmp_path / "models"))
    code, out, err = _run("train", "--rubric", str(RUBRIC_PATH), str(MARKED))
    assert code == 0, err
    assert "Quadratic weighted kappa" in out and "rubric only" in out and "Recommended" in out
    assert "Confusion matrix, calibrated" in out and "essaycoach model adopt water-cycle-cal" in out
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "a.txt").write_text(SLIP_TWO_STAGES, encoding="utf-8")
    code, out, err = _run("mark", "-r", str(RUBRIC_PATH), "-f", "json", str(batch / "a.txt"))
    assert code == 0 and json.loads(out)["mark_source"] == "rubric"  # trained, not yet adopted
    code, out, err = _run("model", "adopt", str(RUBRIC_PATH))
    assert code == 0 and "adopted" in out
    code, out, err = _run("mark", "-r", str(RUBRIC_PATH), "-f", "json", str(batch / "a.txt"))
    result = json.loads(out)
    assert (result["mark"], result["rubric_mark"], result["mark_source"]) == (1, 2, "calibrated")
    code, out, err = _run("mark", "-r", str(RUBRIC_PATH), "--rubric-marks", "-f", "json", str(batch / "a.txt"))
    assert json.loads(out)["mark_source"] == "rubric"
    code, out, err = _run("model", "show", str(RUBRIC_PATH))
    assert code == 0 and "adopted:      since" in out and "fits rubric:  yes" in out
    code, out, err = _run("model", "drop", str(RUBRIC_PATH))
    assert code == 0
    code, out, err = _run("mark", "-r", str(RUBRIC_PATH), "-f", "json", str(batch / "a.txt"))
    assert json.loads(out)["mark"] == 2


def test_cli_adopt_refused_when_calibration_does_not_help(tmp_path):
    code, out, err = _run("train", "-r", str(RUBRIC_PATH), "--adopt", "--out-dir", str(tmp_path), "--format", "json", str(AGREE))
    assert code == 1 and "not adopted" in err
    report = json.loads(out)
    assert report["recommended"] is False and report["adopted"] is False
    code, _, err = _run("model", "adopt", str(RUBRIC_PATH), "--models-dir", str(tmp_path))
    assert code == 1 and "cannot be adopted" in err and "does not beat the rubric-only mark" in err


def test_cli_old_model_is_refused_with_both_versions(trained, tmp_path):
    save(trained.model, tmp_path)
    v2 = _rubric_v2(RUBRIC_PATH.read_text(encoding="utf-8"), tmp_path)
    code, _, err = _run("model", "adopt", str(v2), "--models-dir", str(tmp_path))
    assert code == 2 and "version 1" in err and "version 2" in err
    code, out, _ = _run("model", "show", str(v2), "--models-dir", str(tmp_path))
    assert code == 0 and "fits rubric:  no" in out


def test_cli_mark_warns_and_uses_rubric_marks_when_the_adopted_model_is_stale(trained, rubric, tmp_path, monkeypatch):
    monkeypatch.setenv("ESSAYCOACH_MODELS", str(tmp_path))
    save(trained.model, tmp_path)
    adopt(rubric, tmp_path)
    (tmp_path / "rubrics").mkdir()
    v2 = _rubric_v2(RUBRIC_PATH.read_text(encoding="utf-8"), tmp_path / "rubrics")
    essay = tmp_path / "e.txt"
    essay.write_text(SLIP_TWO_STAGES, encoding="utf-8")
    code, out, err = _run("mark", "-r", str(v2), "-f", "json", str(essay))
    assert code == 0 and "warning" in err and "version 2" in err
    assert json.loads(out)["mark_source"] == "rubric"


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([["id", "essay_body", "mark"], ["a", "Rain.", "1"]], "no essay text column"),
        ([["id", "text", "grade"], ["a", "Rain.", "1"]], "no human mark column"),
        ([["id", "text", "mark"], ["a", "Rain.", "1"], ["b", "Snow.", "one"]], "row 2 (line 3), column 'mark': the human mark 'one' is not a number"),
        ([["id", "text", "mark"], ["a", "Rain.", "1"], ["b", "Snow.", "7"]], "row 2 (line 3), column 'mark': the human mark 7 is outside the rubric's scale 0-3"),
    ],
)
def test_cli_bad_csv_is_a_clear_error(tmp_path, rows, expected):
    code, out, err = _run("train", "-r", str(RUBRIC_PATH), "--out-dir", str(tmp_path), str(_write(tmp_path, "bad.csv", rows)))
    assert code == 2 and expected in err and out == ""
    assert not (tmp_path / "water-cycle-cal").exists()


def test_too_few_or_uniform_marks_are_refused(tmp_path, rubric):
    rows = list(csv.reader(MARKED.open(encoding="utf-8")))
    code, _, err = _run("train", "-r", str(RUBRIC_PATH), "--out-dir", str(tmp_path), str(_write(tmp_path, "few.csv", rows[:20])))
    assert code == 2 and "at least 20 essays" in err and "there are 19" in err
    same = [rows[0]] + [[r[0], r[1], "1"] for r in rows[1:25]]
    with pytest.raises(DataError, match="every essay has the mark 1"):
        train(_data(_write(tmp_path, "same.csv", same), rubric), rubric, resamples=10)
    code, _, err = _run("train", "-r", str(RUBRIC_PATH), "--folds", "60", "--out-dir", str(tmp_path), str(MARKED))
    assert code == 2 and "--folds 60" in err
