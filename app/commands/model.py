"""essaycoach model show|adopt|drop: inspect a rubric's calibration model and choose whether marking uses it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..calibrate import ModelError
from ..calibrate_store import CalibrationModel, ModelMismatch, NotAdoptable, adopt, drop, load, model_path
from ..evaluate import _num
from ..rubric import Rubric, RubricError, RubricNotFound, load_rubric, resolve_rubric
from . import fail as _fail
from . import load_rubric_or_exit

EXIT_REFUSED = 1
_DIR = click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR", help="Models folder [default: $ESSAYCOACH_MODELS or models/].")


def _rubric(name: str, required: bool = True) -> Rubric | None:
    if required:
        return load_rubric_or_exit(name)
    try:
        return load_rubric(resolve_rubric(name))
    except (RubricNotFound, RubricError):
        return None


@click.group()
def model() -> None:
    """Calibration models: show one, adopt it for marking, or drop it (go back to the rubric's marks)."""


@model.command()
@click.argument("rubric_name", metavar="RUBRIC")
@_DIR
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(rubric_name: str, models_dir: Path | None, fmt: str) -> None:
    """What RUBRIC's model was trained on, how well it agrees, whether it is adopted and still fits the rubric."""
    rubric = _rubric(rubric_name, required=False)
    rubric_id = rubric.id if rubric else rubric_name
    try:
        m = load(rubric_id, models_dir)
    except ModelError as exc:
        _fail(str(exc))
    fits = "no rubric file found to compare with"
    if rubric is not None:
        try:
            m.check(rubric)
            fits = "yes"
        except ModelMismatch as exc:
            fits = f"no: {exc}"
    if fmt == "json":
        click.echo(json.dumps({**m.to_json(), "path": str(model_path(rubric_id, models_dir)), "fits_rubric": fits == "yes"}, indent=2, ensure_ascii=False))
        return
    click.echo(_describe(m, fits, model_path(rubric_id, models_dir)))


def _describe(m: CalibrationModel, fits: str, path: Path) -> str:
    cal, rub = m.metrics.get("calibrated", {}), m.metrics.get("rubric_only", {})
    lines = [
        f"Calibration model for rubric {m.rubric_id} v{m.rubric_version} ({m.rubric_title})",
        f"  file:         {path}",
        f"  trained:      {m.training.get('date')} on {m.training.get('n')} essays ({m.training.get('data') or 'teacher overrides'})",
        f"  fits rubric:  {fits}",
        f"  adopted:      {'since ' + m.adopted if m.adopted else 'no (marking shows the rubric mark)'}",
        f"  QWK:          calibrated {_num(cal.get('qwk'))}, rubric only {_num(rub.get('qwk'))} (cross-validated)",
        f"  verdict:      {m.verdict}",
    ]
    return "\n".join(lines)


@model.command("adopt")
@click.argument("rubric_name", metavar="RUBRIC")
@_DIR
def adopt_cmd(rubric_name: str, models_dir: Path | None) -> None:
    """Mark RUBRIC's essays with its calibrated model from now on (refused if it did not beat the rubric-only mark)."""
    rubric = _rubric(rubric_name)
    assert rubric is not None
    try:
        adopt(rubric, models_dir)
    except NotAdoptable as exc:
        _fail(str(exc), EXIT_REFUSED)
    except ModelError as exc:
        _fail(str(exc))
    click.echo(f"adopted: marking with rubric {rubric.id} now shows the calibrated mark (the rubric's mark stays in each result as rubric_mark)")


@model.command("drop")
@click.argument("rubric_name", metavar="RUBRIC")
@_DIR
def drop_cmd(rubric_name: str, models_dir: Path | None) -> None:
    """Stop using RUBRIC's calibrated model: marking shows the rubric's mark again (the model stays on disk)."""
    rubric = _rubric(rubric_name, required=False)
    try:
        drop(rubric.id if rubric else rubric_name, models_dir)
    except ModelError as exc:
        _fail(str(exc))
    click.echo(f"dropped: marking with rubric {rubric.id if rubric else rubric_name} shows the rubric's mark")
