"""essaycoach train: learn a teacher's marking from a CSV/TSV of marked essays, report agreement honestly, save the model."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..calibrate import ModelError
from ..calibrate_report import BOOTSTRAP, format_report
from ..calibrate_store import NotAdoptable, adopt, load, models_dir, save
from ..evaluate import DataError, parse_where, read_dataset
from . import load_rubric_or_exit, marked_data_options, with_progress
from . import fail as _fail

EXIT_NOT_ADOPTED = 1


@click.command()
@marked_data_options("teacher's")
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True, metavar="K", help="Cross-validation folds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the folds and the bootstrap.")
@click.option("--adopt", "do_adopt", is_flag=True, help="Adopt the model for marking if it beats the rubric-only mark.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR", help="Models folder; the model goes in DIR/<rubric-id>/ [default: $ESSAYCOACH_MODELS or models/].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Report format.")
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True, metavar="N", help="How many of the essays it disagrees with most to list.")
def train(
    rubric_name: str, data: Path, text_col: str | None, score_col: str | None, id_col: str | None, where: tuple[str, ...],
    folds: int, seed: int, do_adopt: bool, out_dir: Path | None, fmt: str, top: int,
) -> None:
    """Learn the teacher's marking from DATA (CSV or TSV of essays with the teacher's marks; at least 20).

    Reports cross-validated agreement (kappa, exact and adjacent agreement, SMD, Pearson r, confusion
    matrix, with intervals) beside the rubric-only mark, says whether calibration helps, and saves the
    model and its model card. Exit code 2 on unusable input; 1 when --adopt was refused.
    """
    rubric = load_rubric_or_exit(rubric_name)
    from ..calibrate_train import train as train_model  # imports scikit-learn: only for this command

    try:
        dataset = read_dataset(
            data, scale=(rubric.min_mark, rubric.max_mark), concept_ids=[c.id for c in rubric.concepts],
            text_col=text_col, score_col=score_col, id_col=id_col, where=parse_where(where),
        )
        training = with_progress(
            len(dataset.essays),
            lambda progress: train_model(dataset, rubric, folds=folds, seed=seed, resamples=BOOTSTRAP, top=top, progress=progress),
        )
    except DataError as exc:
        _fail(str(exc))
    base = out_dir or models_dir()
    try:
        was_adopted = load(rubric.id, base).adopted is not None
    except ModelError:
        was_adopted = False
    try:
        folder = save(training.model, base)
    except OSError as exc:
        _fail(f"cannot save the model in {base}: {exc.strerror or exc}")
    report = training.report
    report["saved"] = f"Model and model card saved in {folder}."
    report["model_dir"], report["adopted"] = str(folder), False
    refused = None
    if do_adopt:
        try:
            adopt(rubric, base)
            report["adopted"] = True
            report["saved"] += f" Adopted: marking with rubric {rubric.id} now shows the calibrated mark."
        except NotAdoptable:
            refused = "not adopted: calibration does not beat the rubric-only mark (see the verdict above)"
        except ModelError as exc:
            _fail(str(exc))
    elif report["recommended"]:
        report["saved"] += f" Adopt it with: essaycoach model adopt {rubric.id}"
    if was_adopted and not report.get("adopted"):  # a new model replaces the adopted one and is never adopted silently
        report["saved"] += " It replaces the adopted model: marking shows the rubric's mark until a model is adopted again."
    click.echo(json.dumps(report, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else format_report(report), nl=False)
    if refused:
        _fail(refused, EXIT_NOT_ADOPTED)
