"""Click commands of the `essaycoach` CLI, one module per command group, and what they share."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from ..readers import printable
from ..rubric import Rubric, RubricError, RubricNotFound, load_rubric, resolve_rubric

EXIT_INVALID = 2  # bad rubric, bad data or bad usage


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    click.echo(f"essaycoach: error: {printable(message)}", err=True)
    sys.exit(code)


def load_rubric_or_exit(name: str) -> Rubric:
    """The rubric named on the command line; otherwise its problems on standard error and exit code 2."""
    try:
        return load_rubric(resolve_rubric(name))
    except RubricNotFound as exc:
        fail(str(exc))
    except RubricError as exc:
        click.echo(exc.format(), err=True)
        fail(f"the rubric {exc.source} is invalid ({len(exc.problems)} problem{'s' * (len(exc.problems) != 1)})")


F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def marked_data_options(whose_mark: str) -> Callable[[F], F]:
    """The options shared by commands that read a CSV/TSV of essays with marks (evaluate, train)."""
    options = [
        click.option("--rubric", "-r", "rubric_name", required=True, metavar="RUBRIC", help="Rubric id or path to a rubric YAML file."),
        click.argument("data", type=click.Path(path_type=Path)),
        click.option("--text-col", metavar="COL", help="Column with the essay text [default: first of text, essay, EssayText, answer]."),
        click.option("--score-col", metavar="COL", help=f"Column with the {whose_mark} mark [default: first of mark, score, Score, human_mark]."),
        click.option("--id-col", metavar="COL", help="Column with the essay id [default: id/Id, else the row number]."),
        click.option("--where", "where", multiple=True, metavar="COL=VALUE", help="Keep only rows where COL equals VALUE; repeatable (same column: any value; different columns: all)."),
    ]

    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def with_progress(total: int, run: Callable[[Callable[[int], Any] | None], T]) -> T:
    """Run `run(progress)` with a progress bar on standard error when it is a terminal, else without one."""
    if not sys.stderr.isatty():
        return run(None)
    with click.progressbar(length=total, label="Marking", file=sys.stderr) as bar:
        return run(bar.update)
