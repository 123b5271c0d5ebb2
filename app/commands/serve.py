"""essaycoach serve: the student web app and JSON API on waitress, the database upgraded first."""

from __future__ import annotations

import logging

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0 for every interface).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
def serve(host: str, port: int, threads: int) -> None:
    """Serve the web app: students pick a question, write or upload an essay, and get feedback.

    Settings come from the environment: DATABASE_URL (default: SQLite in the instance folder),
    SECRET_KEY (default: generated once and kept in the instance folder), ESSAYCOACH_RUBRICS,
    ESSAYCOACH_SHOW_CRITERIA (all, none, or rubric ids), ESSAYCOACH_SECURE_COOKIES=1 behind HTTPS.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from waitress import serve as waitress_serve

    from ..web import create_app, services, upgrade_db

    app = create_app()
    upgrade_db(app)  # before the first request: migrations keep every saved essay
    # Listen at once; the spaCy pipeline and the rubrics are loaded meanwhile, and requests that need them wait.
    store = services(app).rubrics
    services(app).marking.warm_in_background(lambda: [r for _, r in store.all()])
    click.echo(f"EssayCoach on http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    waitress_serve(app, host=host, port=port, threads=threads, ident="EssayCoach")
