"""Click commands of the `essaycoach` CLI, one module per command group, and what they share."""

from __future__ import annotations

import sys
from typing import NoReturn

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
