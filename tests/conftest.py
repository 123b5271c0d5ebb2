"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.rubric import Rubric, load_rubric

DEFAULT_RUBRIC_PATH = Path(__file__).resolve().parent.parent / "rubrics" / "stalinist-centralisation.yaml"


@pytest.fixture(scope="session")
def default_rubric() -> Rubric:
    """The product's default rubric (Soviet centralisation, 1921-1929), loaded and validated once per run."""
    return load_rubric(DEFAULT_RUBRIC_PATH)
