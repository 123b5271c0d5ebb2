"""The `essaycoach` command line: a thin layer over the marking service."""

from __future__ import annotations

import click

from . import __version__
from .commands.evaluate import evaluate
from .commands.mark import mark
from .commands.model import model
from .commands.rubric import rubric
from .commands.serve import serve
from .commands.teacher import create_teacher
from .commands.train import train


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="essaycoach")
def main() -> None:
    """EssayCoach: feedback on practice essays against a rubric."""


main.add_command(mark)
main.add_command(rubric)
main.add_command(evaluate)
main.add_command(serve)
main.add_command(create_teacher)
main.add_command(train)
main.add_command(model)
