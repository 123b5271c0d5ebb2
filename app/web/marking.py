"""The one door to the marking engine: serialised calls to app.service, and a warm-up at start."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..essay import check_text
from ..rubric import Rubric

log = logging.getLogger(__name__)


class Marking:
    """Marks essays with the engine's shared pipeline, one at a time.

    The pipeline caches word forms and compiled rubrics in plain dicts and sets, so calls from
    several server threads are serialised; marking is CPU-bound under the GIL, so this costs no throughput.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ready = threading.Event()

    def check(self, text: str) -> None:
        """Raise the engine's EmptyEssay / EssayTooLong before anything is saved."""
        check_text(text)

    def mark(self, text: str, rubric: Rubric, source: str = "-") -> dict[str, Any]:
        from ..calibrate import ModelError
        from ..calibrate_store import adopted_calibration
        from ..service import default_marker, mark_text

        with self._lock:
            try:
                calibration = adopted_calibration(rubric)
            except ModelError as exc:  # an adopted model that no longer fits: show the rubric's marks
                log.warning("calibration not used for %s: %s", rubric.id, exc)
                calibration = None
            return mark_text(text, rubric, source=source, marker=default_marker(), calibration=calibration)

    def warm(self, rubrics: Callable[[], Iterable[Rubric]]) -> None:
        """Build the pipeline and compile each rubric now, so the first student does not wait for it."""
        t0 = time.perf_counter()
        with self._lock:
            from ..service import default_marker

            marker = default_marker()
            for rubric in rubrics():
                marker.compiled(rubric)
        self.ready.set()
        log.info("marking engine ready in %.2f s", time.perf_counter() - t0)

    def warm_in_background(self, rubrics: Callable[[], Iterable[Rubric]]) -> threading.Thread:
        thread = threading.Thread(target=self.warm, args=(rubrics,), name="essaycoach-warm-up", daemon=True)
        thread.start()
        return thread
