"""essaycoach mark: mark essay files, folders or standard input against a rubric."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import click

from .. import report
from ..nlp import get_nlp
from ..readers import EXTENSIONS, UnreadableEssay, display_name, find_essays, printable, read_essay, read_stream
from ..rubric import Rubric
from ..service import Calibration, EssayError, Marker, default_marker, mark_text
from . import load_rubric_or_exit

EXIT_FAILED = 1
FORMAT_BY_SUFFIX = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass
class Essay:
    """One input (path None: standard input); `text` once read, then `result`; or `error`."""

    path: Path | None
    error: str | None = None
    text: str | None = None
    result: dict[str, Any] | None = None

    @property
    def source(self) -> str:  # goes into the result
        return "-" if self.path is None else printable(self.path)

    @property
    def label(self) -> str:  # goes into messages
        return "standard input" if self.path is None else display_name(self.path)

    def read(self) -> None:
        try:
            self.text = read_essay(self.path) if self.path is not None else read_stream(sys.stdin.buffer, self.label)
        except UnreadableEssay as exc:
            self.error = exc.reason


def _collect(inputs: tuple[str, ...], out: Path | None) -> list[Essay]:
    essays: list[Essay] = []
    for name in inputs:
        p = Path(name)
        if name == "-" or p.is_file():
            essays.append(Essay(None if name == "-" else p))
        elif p.is_dir():
            found, errors = find_essays(p)
            essays += [Essay(Path(e.name), e.reason) for e in errors]
            essays += [Essay(f) for f in found if out is None or f.name != out.name or f.resolve() != out.resolve()]
        else:
            essays.append(Essay(p, None if p.exists() or p.is_symlink() else "no such file or folder"))
    return essays


_worker: tuple[Marker, Rubric, Calibration | None] | None = None  # each worker process builds the pipeline and compiles the rubric once


def _init_worker(rubric: Rubric, calibration: Calibration | None = None) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled once, by the parent
    _worker = (Marker(get_nlp()), rubric, calibration)
    _worker[0].compiled(rubric)  # once per worker, not per essay


def _mark_one(
    text: str, source: str, rubric: Rubric | None = None, marker: Marker | None = None, calibration: Calibration | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    if rubric is None:
        marker, rubric, calibration = _worker  # type: ignore[misc]  # set by _init_worker
    try:
        return mark_text(text, rubric, source=source, marker=marker, calibration=calibration), None
    except EssayError as exc:
        return None, str(exc)
    except Exception as exc:  # an engine bug must not lose the rest of the batch
        return None, f"internal error while marking ({type(exc).__name__}: {exc})"


def _mark_chunk(items: list[tuple[str, str]]) -> list[tuple[dict[str, Any] | None, str | None]]:
    return [_mark_one(text, source) for text, source in items]


def _mark_all(todo: list[Essay], rubric: Rubric, jobs: int, tick: Callable[[], Any], calibration: Calibration | None = None) -> None:
    """Sets each essay's result or error; results keep their essay, so the output order is the input order."""
    if jobs == 1 or len(todo) <= 1:
        marker = default_marker()
        for e in todo:
            e.result, e.error = _mark_one(e.text or "", e.source, rubric, marker, calibration)
            tick()
        return
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    pool = ProcessPoolExecutor(min(jobs, len(todo)), mp_context=context, initializer=_init_worker, initargs=(rubric, calibration))
    # Essays go to workers in chunks: one round trip per essay costs more than marking a short one.
    size = max(1, min(32, len(todo) // (jobs * 8)))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    try:
        futures = {pool.submit(_mark_chunk, [(e.text or "", e.source) for e in chunk]): chunk for chunk in chunks}
        for future in as_completed(futures):
            for essay, (result, error) in zip(futures[future], future.result()):
                essay.result, essay.error = result, error
                tick()
    finally:  # on Ctrl-C, do not wait for the essays still queued
        pool.shutdown(wait=False, cancel_futures=True)


def _adopted(rubric: Rubric) -> Calibration | None:
    """The teacher's adopted calibration for this rubric; a model that no longer fits is reported and not used."""
    from ..calibrate import ModelError
    from ..calibrate_store import adopted_calibration

    try:
        return adopted_calibration(rubric)
    except ModelError as exc:
        click.echo(f"essaycoach: warning: {printable(str(exc))}; showing the rubric's marks", err=True)
        return None


def _render(fmt: str, essays: list[Essay], rubric: Rubric, single: bool) -> str:
    results = [e.result for e in essays if e.result is not None]
    if fmt == "text":
        return report.text_reports(results)
    if fmt == "json":
        return report.json_text(results, single=single)
    if fmt == "jsonl":
        return report.jsonl_text(results)
    ids = [c.id for c in rubric.concepts]
    about = {"id": rubric.id, "version": rubric.version}
    rows = [report.csv_row(e.result, ids) if e.result else report.csv_error_row(e.source, e.error or "", ids, about) for e in essays]
    return report.csv_text(rows, ids)


def _write(text: str, out: Path | None, encoding: str) -> None:
    if out is None:
        try:
            click.echo(text, nl=False)
            sys.stdout.flush()
        except BrokenPipeError:  # `essaycoach mark ... | head`: the reader has gone, which is fine
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "x", encoding=encoding, newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)  # all or nothing: a failed run never leaves half a file
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise


@click.command()
@click.option("--rubric", "-r", "rubric_name", required=True, help="Rubric id (e.g. stalinist-centralisation) or path to a rubric YAML file.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json", "jsonl", "csv"]), help="Output format  [default: from the --out extension, else text]")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the results to FILE (replaced only once all essays are marked).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=1, show_default=True, help="Essays marked in parallel; 0 = one per CPU.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on standard error  [default: when it is a terminal]")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary; errors are still reported.")
@click.option("--rubric-marks", is_flag=True, help="Show the rubric's marks even when a calibrated model is adopted.")
@click.argument("inputs", nargs=-1, required=True)
def mark(
    rubric_name: str, fmt: str | None, out: Path | None, jobs: int, progress: bool | None, quiet: bool, rubric_marks: bool, inputs: tuple[str, ...]
) -> None:
    """Mark essays against a rubric.

    INPUTS are .txt, .md or .docx files, folders (searched recursively) or - for standard input.
    Exit code: 0 all marked, 1 some essays could not be marked, 2 bad rubric or usage.
    """
    if inputs.count("-") > 1:
        raise click.BadParameter("'-' (standard input) can be given only once", param_hint="INPUTS")
    if out is not None and not out.parent.is_dir():
        raise click.BadParameter(f"folder {display_name(out.parent)} does not exist", param_hint="--out")
    fmt = fmt or FORMAT_BY_SUFFIX.get(out.suffix.lower() if out else "", "text")
    rubric = load_rubric_or_exit(rubric_name)

    calibration = None if rubric_marks else _adopted(rubric)
    essays = _collect(inputs, out)
    if not essays:
        click.echo(f"essaycoach: no essays found in {', '.join(display_name(n) for n in inputs)} (looking for {', '.join(EXTENSIONS)} files)", err=True)
        sys.exit(EXIT_FAILED)
    if "-" in inputs and sys.stdin.isatty() and not quiet:
        click.echo("essaycoach: reading an essay from standard input (end with Ctrl-D)", err=True)
    for essay in essays:
        if essay.error is None:
            essay.read()
        if essay.error is not None:
            click.echo(f"essaycoach: skipped {essay.label}: {essay.error}", err=True)

    todo = [e for e in essays if e.text is not None]
    show = len(todo) > 1 and not quiet and (progress if progress is not None else sys.stderr.isatty())
    with click.progressbar(length=len(todo), label=f"Marking {len(todo)} essays", file=sys.stderr) if show else nullcontext() as bar:
        _mark_all(todo, rubric, jobs or os.cpu_count() or 1, lambda: bar and bar.update(1), calibration)
    for e in todo:
        if e.error is not None:
            click.echo(f"essaycoach: skipped {e.label}: {printable(e.error)}", err=True)
    marked = sum(e.result is not None for e in essays)
    if marked:
        try:
            single = len(inputs) == 1 and (inputs[0] == "-" or not Path(inputs[0]).is_dir())  # a folder gives an array
            _write(_render(fmt, essays, rubric, single), out, "utf-8-sig" if fmt == "csv" and out else "utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {display_name(out or '-')}: {exc.strerror or exc}") from None
    if not quiet and (len(essays) > 1 or out):
        where = f"; results in {display_name(out)}" if out and marked else ""
        click.echo(f"essaycoach: marked {marked} of {len(essays)} essays{where}", err=True)
    sys.exit(0 if marked == len(essays) else EXIT_FAILED)
