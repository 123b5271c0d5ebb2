"""The app on PostgreSQL (DATABASE_URL): migrations, save and mark, read back. Runs when a test server is given.

Set ESSAYCOACH_TEST_POSTGRES_URL=postgresql://user:pass@127.0.0.1/db (an empty database: the test migrates it
up and back down to nothing).
"""

from __future__ import annotations

import os

import pytest

from app.web import create_app, database_url, upgrade_db
from app.web.extensions import db

from .support import attempt_id, sample, submit

URL = os.environ.get("ESSAYCOACH_TEST_POSTGRES_URL")


@pytest.mark.skipif(not URL, reason="set ESSAYCOACH_TEST_POSTGRES_URL to test on PostgreSQL")
def test_postgres_database(rubrics_dir):
    from flask_migrate import downgrade

    from app.web import MIGRATIONS

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": database_url(URL, "/unused"), "ESSAYCOACH_RUBRICS": str(rubrics_dir)})
    upgrade_db(app)
    try:
        client = app.test_client()
        first = attempt_id(submit(client, sample("l2-describing-institutions.txt")))
        second = attempt_id(submit(client, sample("l4-theory-and-reality.txt"), parent=first))
        page = client.get(f"/attempts/{second}").get_data(as_text=True)
        assert "What changed since" in page and "Estimated Level" in page
        assert '<svg class="chart"' in client.get("/progress/stalinist-centralisation").get_data(as_text=True)
        upgrade_db(app)  # again: nothing lost
        assert client.get(f"/attempts/{first}").status_code == 200
    finally:
        with app.app_context():
            db.session.remove()
            downgrade(directory=str(MIGRATIONS), revision="base")
            db.engine.dispose()
