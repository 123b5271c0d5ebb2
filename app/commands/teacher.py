"""essaycoach create-teacher: make a teacher account (the password is asked twice and never echoed)."""

from __future__ import annotations

import sys

import click


@click.command("create-teacher")
@click.argument("email")
@click.option("--reset-password", is_flag=True, help="Set a new password for an existing account (logs out its sessions).")
def create_teacher(email: str, reset_password: bool) -> None:
    """Create a teacher account for EMAIL, who then logs in at /teacher/login.

    Uses the same database as `essaycoach serve` (DATABASE_URL, default: SQLite in the instance folder) and
    brings its schema up to date first.
    """
    from ..web import create_app, upgrade_db
    from ..web.accounts import (
        AccountError,
        check_password_rules,
        find_teacher,
        set_password,
    )
    from ..web.accounts import create_teacher as make
    from ..web.extensions import db

    app = create_app({"BATCH_WORKER": False})
    upgrade_db(app)
    with app.app_context():
        existing = find_teacher(db.session, email)
        if existing is not None and not reset_password:
            click.echo(f"error: there is already a teacher account for {existing.email} (use --reset-password to set a new one)", err=True)
            sys.exit(1)
        if existing is None and reset_password:
            click.echo(f"error: there is no teacher account for {email}", err=True)
            sys.exit(1)
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
        try:
            check_password_rules(password)
            if existing is not None:
                set_password(db.session, existing, password)
                click.echo(f"New password set for {existing.email}.")
            else:
                teacher = make(db.session, email, password)
                click.echo(f"Teacher account created for {teacher.email}: log in at /teacher/login")
        except AccountError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        finally:
            db.session.remove()
            db.engine.dispose()
