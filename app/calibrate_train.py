"""Training a calibration: mark the teacher's essays with the rules, cross-validate, report, and fit the model to keep."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from . import __version__
from .calibrate import cross_validated_marks, feature_matrix, feature_names, fit, result_features
from .calibrate_report import BOOTSTRAP, MIN_ESSAYS, build_report
from .calibrate_store import CalibrationModel, today
from .evaluate import DataError, Dataset
from .rubric import Rubric
from .service import EssayError, Marker, default_marker, mark_text

TOP_FEATURES = 8


@dataclass(frozen=True)
class MarkedEssay:
    """One essay the teacher marked, with the rules' result for it (from `mark_text`, without calibration)."""

    id: str
    text: str
    teacher: int
    result: dict[str, Any]
    row: int | None = None


@dataclass(frozen=True)
class Training:
    model: CalibrationModel
    report: dict[str, Any]


def mark_dataset(
    data: Dataset, rubric: Rubric, *, marker: Marker | None = None, progress: Callable[[int], Any] | None = None
) -> tuple[list[MarkedEssay], list[dict[str, Any]]]:
    """The rules' result for every essay read from a file; essays the engine refuses are listed, not fatal."""
    marker = marker or default_marker()
    marked, refused = [], []
    for e in data.essays:
        try:
            result = mark_text(e.text, rubric, source=e.id, marker=marker)  # no calibration: features come from the rules alone
            marked.append(MarkedEssay(e.id, e.text, e.human, result, e.row))
        except EssayError as exc:
            refused.append({"id": e.id, "row": e.row, "reason": str(exc)})
        if progress:
            progress(1)
    return marked, refused


def train_marked(
    essays: Sequence[MarkedEssay], rubric: Rubric, *, folds: int = 5, seed: int = 0, resamples: int = BOOTSTRAP, top: int = 10, source: str = ""
) -> Training:
    """Cross-validate and report, then fit the model on every essay; the essays may come from a file or the teacher's overrides."""
    n = len(essays)
    lo, hi = rubric.min_mark, rubric.max_mark
    where = f"{source}: " if source else ""
    if n < MIN_ESSAYS:
        raise DataError(f"{where}calibration needs at least {MIN_ESSAYS} essays marked by the teacher; there are {n}")
    teacher = [e.teacher for e in essays]
    for e in essays:
        if not lo <= e.teacher <= hi:
            raise DataError(f"{where}essay {e.id}: the teacher's mark {e.teacher} is outside the rubric's scale {lo}-{hi}")
    if len(set(teacher)) < 2:
        raise DataError(f"{where}every essay has the mark {teacher[0]}: there is nothing to learn; include essays the teacher marked differently")
    if not 2 <= folds <= n:
        raise DataError(f"--folds {folds}: use between 2 and the number of essays ({n})")
    names = feature_names(rubric)
    x = feature_matrix([result_features(e.result, e.text) for e in essays], names)
    rubric_only = [int(e.result["rubric_mark"]) for e in essays]
    cv = cross_validated_marks(x, teacher, names, lo, hi, folds=folds, seed=seed)
    report = build_report(
        [{"id": e.id, "row": e.row, "text": e.text} for e in essays], teacher, cv.tolist(), rubric_only,
        scale=(lo, hi), folds=folds, seed=seed, resamples=resamples, top=top,
    )
    final = fit(x, teacher, names, lo, hi)
    order = np.argsort(-np.abs(final.coef), kind="stable")
    # Ranked by influence (per standard deviation), shown per unit (a concept found = 1) so a teacher can read it.
    top_features = [
        {"name": names[i], "per_unit": float(final.coef[i] / final.scale[i] * final.stretch), "per_sd": float(final.coef[i] * final.stretch)}
        for i in order[:TOP_FEATURES]
        if abs(final.coef[i]) > 1e-9
    ]
    report["rubric"] = {"id": rubric.id, "version": rubric.version, "title": rubric.title, "digest": rubric.digest}
    report["model"] = {"kind": "ridge-offset", "alpha": final.alpha, "features": len(names), "top_features": top_features}
    training = {"n": n, "date": today(), "data": source, "engine": __version__, "folds": folds, "seed": seed, "teacher_mean": report["teacher"]["mean"], "teacher_counts": report["teacher"]["counts"]}
    metrics = {k: report[k] for k in ("n", "scale", "validation", "calibrated", "rubric_only", "gain", "flags")}
    model = CalibrationModel(rubric.id, rubric.version, rubric.digest, rubric.title, final, training, metrics, report["recommended"], report["verdict"])
    return Training(model, report)


def train(
    data: Dataset, rubric: Rubric, *, folds: int = 5, seed: int = 0, resamples: int = BOOTSTRAP, top: int = 10,
    marker: Marker | None = None, progress: Callable[[int], Any] | None = None,
) -> Training:
    """Train from essays read with app.evaluate.read_dataset; the report also says what was read."""
    essays, refused = mark_dataset(data, rubric, marker=marker, progress=progress)
    training = train_marked(essays, rubric, folds=folds, seed=seed, resamples=resamples, top=top, source=data.path)
    training.report.update(
        data=data.path, columns={"text": data.text_col, "score": data.score_col, "id": data.id_col}, where=data.where,
        rows_read=data.rows_read, filtered_out=data.filtered_out, skipped_empty=data.skipped_empty, not_marked=refused,
    )
    return training
