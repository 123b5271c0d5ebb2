"""The rubrics the web app serves: the files in rubric_dir(), loaded once and reloaded when a file changes."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from ..rubric import Rubric, RubricError, load_rubric, rubric_dir

log = logging.getLogger(__name__)

# Ids come from URLs and JSON: only this shape is looked up, so an id can never be a path.
RUBRIC_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


class UnknownRubric(LookupError):
    """No rubric with that id is served."""

    def __init__(self, rubric_id: str) -> None:
        shown = rubric_id if len(rubric_id) <= 64 else rubric_id[:61] + "..."
        super().__init__(f"There is no rubric called '{shown}'.")


@dataclass(frozen=True)
class _Cached:
    stamp: tuple[int, int]  # (mtime_ns, size): a changed file is reloaded
    rubric: Rubric


class RubricStore:
    """Rubric files by id (file name without .yaml), validated on load; examples/ is for the CLI, not served."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._cache: dict[Path, _Cached] = {}
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        return self._folder or rubric_dir()

    def _path(self, rubric_id: str) -> Path | None:
        if not RUBRIC_ID.match(rubric_id):
            return None
        for suffix in (".yaml", ".yml"):
            p = self.folder / f"{rubric_id}{suffix}"
            if p.is_file():
                return p
        return None

    def get(self, rubric_id: str) -> Rubric:
        """The rubric; UnknownRubric if there is none, RubricError if its file is invalid."""
        path = self._path(rubric_id)
        if path is None:
            raise UnknownRubric(rubric_id)
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:  # validated once per file change, not on every request
            cached = self._cache.get(path)
            if cached is None or cached.stamp != stamp:
                cached = _Cached(stamp, load_rubric(path))
                self._cache[path] = cached
            return cached.rubric

    def ids(self) -> list[str]:
        files = sorted({p.stem for p in self.folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml")})
        return [f for f in files if RUBRIC_ID.match(f)]

    def all(self) -> list[tuple[str, Rubric]]:
        """Every valid rubric, by title; a broken file is logged and left out so one typo hides one question."""
        out = []
        for rubric_id in self.ids():
            try:
                out.append((rubric_id, self.get(rubric_id)))
            except RubricError as exc:
                log.warning("rubric %s is invalid and not served:\n%s", rubric_id, exc)
            except UnknownRubric:  # removed between listing and loading
                continue
        return sorted(out, key=lambda item: (item[1].title.lower(), item[0]))


def criteria_visible(setting: object, rubric_id: str) -> bool:
    """Whether students may see a rubric's success criteria: setting is "all", "none" or "id1,id2"."""
    value = str(setting).strip().lower()
    if value in ("all", "1", "true", "yes"):
        return True
    if value in ("none", "0", "false", "no", ""):
        return False
    return rubric_id in {s.strip() for s in value.split(",")}
