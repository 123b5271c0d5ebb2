"""essaycoach evaluate: compare a rubric's marks with human marks on a CSV/TSV of marked essays."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..evaluate import DataError, build_report, format_report, mark_essays, parse_where, read_dataset
from . import fail as _fail
from . import load_rubric_or_exit, marked_data_options, with_progress



@click.command()
@marked_data_options("human")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="Evaluate only the first N essays (after --where).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Report format.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE", help="Write the report to FILE instead of standard output.")
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True, metavar="N", help="How many of the most mis-scored essays to list.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True, metavar="N", help="Mark in N processes.")
def evaluate(
    rubric_name: str,
    data: Path,
    text_col: str | None,
    score_col: str | None,
    id_col: str | None,
    where: tuple[str, ...],
    limit: int | None,
    fmt: str,
    out: Path | None,
    top: int,
    jobs: int,
) -> None:
    """Mark every essay in DATA (CSV or TSV with human marks) and report agreement with the humans.

    Reports quadratic weighted kappa, exact and adjacent agreement, standardised mean difference,
    Pearson r, the confusion matrix and the most mis-scored essays. Optional 0/1 columns named
    concept:<id> give precision, recall and F1 for each concept. Exit code 2 on unusable input.
    """
    rubric = load_rubric_or_exit(rubric_name)
    try:
        dataset = read_dataset(
            data,
            scale=(rubric.min_mark, rubric.max_mark),
            concept_ids=[c.id for c in rubric.concepts],
            text_col=text_col,
            score_col=score_col,
            id_col=id_col,
            where=parse_where(where),
            limit=limit,
        )
        predictions = with_progress(len(dataset.essays), lambda progress: mark_essays(dataset.essays, rubric, jobs=jobs, progress=progress))
        report = build_report(dataset, predictions, rubric, top=top)
    except DataError as exc:
        _fail(str(exc))
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else format_report(report)
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"{out}: cannot write the report: {exc.strerror}")
    click.echo(f"report written to {out}", err=True)
