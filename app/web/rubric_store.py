"""Rubrics in the database: every save is a new immutable version; rubric files are snapshotted when used.

A version's YAML is stored exactly as validated, with its `id` and `version` lines set by the store, so an
exported version re-imports to the same rubric. Parsed rubrics are cached by version id (versions never change).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from ..rubric import MAX_RUBRIC_BYTES, Rubric, RubricError, RubricProblem, parse_rubric
from .attempts import Session
from .models import RubricRecord, RubricVersion, Teacher
from .rubrics import RUBRIC_ID, RubricStore, UnknownRubric

RESERVED = frozenset({"new", "import", "files", "try"})  # path segments under /teacher/rubrics/
_ID_LINE = re.compile(r"^id:[^\n]*$", re.MULTILINE)
_VERSION_LINE = re.compile(r"^version:[^\n]*$", re.MULTILINE)


class RubricIdTaken(ValueError):
    """The id asked for a new rubric is already used (by a rubric file or another saved rubric)."""


@dataclass(frozen=True)
class Listing:
    """One row of the rubric list."""

    slug: str
    title: str
    version: int
    origin: str  # "file" or "app"
    subject: str
    concepts: int
    updated: datetime | None
    valid: bool = True


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamp_yaml(text: str, slug: str, version: int) -> str:
    """The YAML with its top-level id and version lines set (comments and layout kept)."""
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    text = _ID_LINE.sub(f"id: {slug}", text, count=1) if _ID_LINE.search(text) else f"id: {slug}\n{text}"
    if _VERSION_LINE.search(text):
        return _VERSION_LINE.sub(f"version: {version}", text, count=1)
    return _ID_LINE.sub(f"id: {slug}\nversion: {version}", text, count=1)


def validate_yaml(text: str, source: str = "rubric", *, slug: str | None = None, version: int | None = None) -> Rubric:
    """parse_rubric with the file loader's size limit; with slug/version, also check the stamped id and version took."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_RUBRIC_BYTES:
        raise RubricError(source, [RubricProblem("", None, f"a rubric may be at most {MAX_RUBRIC_BYTES:,} bytes")])
    rubric = parse_rubric(text, source)
    if (slug is not None and rubric.id != slug) or (version is not None and rubric.version != version):
        message = "write id: and version: each on a line of its own at the top of the rubric (the app sets them)"
        raise RubricError(source, [RubricProblem("id", 1, message)])
    return rubric


# -- reading ----------------------------------------------------------------------
def record_for(session: Session, teacher: Teacher, slug: str) -> RubricRecord:
    """A rubric this teacher made; UnknownRubric for anyone else's (no hint that it exists)."""
    record = session.scalar(select(RubricRecord).where(RubricRecord.slug == slug)) if RUBRIC_ID.match(slug) else None
    if record is None or record.origin != "app" or record.owner_id != teacher.id:
        raise UnknownRubric(slug)
    return record


def latest(session: Session, record: RubricRecord) -> RubricVersion:
    q = select(RubricVersion).where(RubricVersion.rubric_pk == record.id).order_by(RubricVersion.version.desc()).limit(1)
    found = session.scalar(q)
    assert found is not None, f"rubric {record.slug} has no versions"
    return found


def version_of(session: Session, record: RubricRecord, number: int) -> RubricVersion:
    q = select(RubricVersion).where(RubricVersion.rubric_pk == record.id, RubricVersion.version == number)
    found = session.scalar(q.order_by(RubricVersion.id.desc()).limit(1))
    if found is None:
        raise UnknownRubric(f"{record.slug} v{number}")
    return found


def listing(session: Session, teacher: Teacher, files: RubricStore) -> list[Listing]:
    """The rubric files everyone can use, then the teacher's own rubrics (latest version of each)."""
    rows = [
        Listing(rid, r.title, r.version, "file", r.subject, len(r.concepts), None) for rid, r in files.all()
    ]
    newest = (
        select(RubricVersion.rubric_pk, func.max(RubricVersion.version).label("v")).group_by(RubricVersion.rubric_pk).subquery()
    )
    q = (
        select(RubricRecord, RubricVersion)
        .join(newest, newest.c.rubric_pk == RubricRecord.id)
        .join(RubricVersion, (RubricVersion.rubric_pk == RubricRecord.id) & (RubricVersion.version == newest.c.v))
        .where(RubricRecord.owner_id == teacher.id, RubricRecord.origin == "app")
        .order_by(RubricVersion.title)
    )
    for record, version in session.execute(q):
        rubric = rubric_of(version)
        rows.append(Listing(record.slug, version.title, version.version, "app", rubric.subject, len(rubric.concepts), version.created_at))
    return rows


# -- writing ----------------------------------------------------------------------
def slug_free(session: Session, files: RubricStore, slug: str) -> str | None:
    """None if the id can name a new rubric, else why not."""
    if not RUBRIC_ID.match(slug):
        return "Use lower-case letters, digits, - and _ (start with a letter or digit, at most 64 characters)."
    if slug in RESERVED:
        return f"'{slug}' is a word the pages use: choose another id."
    if slug in files.ids():
        return f"'{slug}' is the id of a rubric file: choose another id."
    if session.scalar(select(RubricRecord.id).where(RubricRecord.slug == slug)) is not None:
        return f"There is already a rubric called '{slug}': choose another id."
    return None


def create_rubric(session: Session, teacher: Teacher, files: RubricStore, slug: str, text: str, note: str | None = None) -> RubricVersion:
    """A new rubric at version 1; RubricIdTaken or RubricError (nothing saved) if it cannot be."""
    problem = slug_free(session, files, slug)
    if problem:
        raise RubricIdTaken(problem)
    stamped = stamp_yaml(text, slug, 1)
    rubric = validate_yaml(stamped, slug, slug=slug, version=1)
    record = RubricRecord(slug=slug, owner_id=teacher.id, origin="app")
    session.add(record)
    session.flush()
    version = RubricVersion(
        rubric_pk=record.id, version=1, yaml=stamped, digest=digest(stamped), title=rubric.title[:255], note=note, created_by=teacher.id
    )
    session.add(version)
    session.commit()
    return version


def save_version(session: Session, teacher: Teacher, record: RubricRecord, text: str, note: str | None = None) -> RubricVersion:
    """A new version (latest + 1), or the latest itself when nothing changed; RubricError if invalid."""
    current = latest(session, record)
    if digest(stamp_yaml(text, record.slug, current.version)) == current.digest:
        return current
    number = current.version + 1
    stamped = stamp_yaml(text, record.slug, number)
    rubric = validate_yaml(stamped, record.slug, slug=record.slug, version=number)
    version = RubricVersion(
        rubric_pk=record.id, version=number, yaml=stamped, digest=digest(stamped), title=rubric.title[:255], note=note, created_by=teacher.id
    )
    session.add(version)
    session.commit()
    return version


def snapshot_file(session: Session, files: RubricStore, slug: str) -> RubricVersion:
    """The rubric file as a stored version (made once per distinct content), so assignments never change under it."""
    rubric = files.get(slug)  # UnknownRubric / RubricError
    text = file_yaml(files, slug)
    record = session.scalar(select(RubricRecord).where(RubricRecord.slug == slug))
    if record is None:
        record = RubricRecord(slug=slug, owner_id=None, origin="file")
        session.add(record)
        session.flush()
    elif record.origin != "file":
        raise RubricIdTaken(f"'{slug}' is both a rubric file and a saved rubric: rename one of them.")
    found = session.scalar(select(RubricVersion).where(RubricVersion.rubric_pk == record.id, RubricVersion.digest == digest(text)))
    if found is not None:
        return found
    version = RubricVersion(rubric_pk=record.id, version=rubric.version, yaml=text, digest=digest(text), title=rubric.title[:255], note="rubric file")
    session.add(version)
    session.commit()
    return version


def file_yaml(files: RubricStore, slug: str) -> str:
    files.get(slug)  # validates, and UnknownRubric for an id that is not a file
    for suffix in (".yaml", ".yml"):
        path = Path(files.folder) / f"{slug}{suffix}"
        if path.is_file():
            return path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    raise UnknownRubric(slug)


# -- parsed rubrics -----------------------------------------------------------------
_cache: OrderedDict[str, Rubric] = OrderedDict()  # by content digest: safe across databases and processes
_cache_lock = threading.Lock()
CACHE_SIZE = 64


def rubric_of(version: RubricVersion) -> Rubric:
    """The parsed rubric of a stored version (validated when it was saved; parsed once per process)."""
    with _cache_lock:
        found = _cache.get(version.digest)
        if found is not None:
            _cache.move_to_end(version.digest)
            return found
    rubric = parse_rubric(version.yaml, f"{version.record.slug if version.record else 'rubric'} v{version.version}")
    with _cache_lock:
        _cache[version.digest] = rubric
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return rubric
