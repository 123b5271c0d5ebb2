"""essaycoach evaluate (placeholder until implemented)."""

import click


@click.command()
def evaluate() -> None:
    """Not implemented yet."""
    raise click.ClickException("not implemented yet")
