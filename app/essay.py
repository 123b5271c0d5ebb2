"""Essay input limits and the errors for essays the service will not mark (light: no spaCy import)."""

from __future__ import annotations

MAX_WORDS = 20_000
MAX_CHARS = 2_000_000


class EssayError(ValueError):
    """An essay the service will not mark; the message is shown to the user as it is."""


class EmptyEssay(EssayError):
    pass


class EssayTooLong(EssayError):
    pass


def check_text(text: str) -> None:
    if not text or not text.strip():
        raise EmptyEssay("The essay is empty: paste or upload some text.")
    if len(text) > MAX_CHARS:
        raise EssayTooLong(f"The essay is {len(text):,} characters long; the limit is {MAX_CHARS:,}.")
    words = len(text.split())
    if words > MAX_WORDS:
        raise EssayTooLong(f"The essay has {words:,} words; the limit is {MAX_WORDS:,}.")
