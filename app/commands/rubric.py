"""essaycoach rubric check: validate rubric files."""

from __future__ import annotations

import sys

import click

from ..rubric import RubricError, RubricNotFound, load_rubric, resolve_rubric

EXIT_INVALID = 2


@click.group()
def rubric() -> None:
    """Work with rubric files."""


@rubric.command("check")
@click.argument("rubrics", nargs=-1, required=True)
def check(rubrics: tuple[str, ...]) -> None:
    """Validate one or more rubric files (or rubric ids); exit code 2 if any is invalid."""
    failed = False
    for name in rubrics:
        try:
            r = load_rubric(resolve_rubric(name))
        except RubricNotFound as exc:
            click.echo(f"error: {exc}", err=True)
            failed = True
        except RubricError as exc:
            click.echo(exc.format(), err=True)
            click.echo(f"{exc.source}: {len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}", err=True)
            failed = True
        else:
            click.echo(f"{name}: OK - {r.title} v{r.version}: {len(r.concepts)} concepts, {len(r.misconceptions)} misconceptions")
    sys.exit(EXIT_INVALID if failed else 0)
