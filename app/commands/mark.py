"""essaycoach mark (placeholder until implemented)."""

import click


@click.command()
def mark() -> None:
    """Not implemented yet."""
    raise click.ClickException("not implemented yet")
