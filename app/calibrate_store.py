"""Calibration models on disk: plain JSON plus a model card under models/<rubric-id>/, rubric checks, and adoption."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from .calibrate import LinearModel, ModelError, feature_matrix, result_features
from .rubric import Rubric

FORMAT = "essaycoach-calibration"
FORMAT_VERSION = 1
MODEL_FILE = "model.json"
CARD_FILE = "MODEL_CARD.md"
MAX_MODEL_BYTES = 5_000_000


class ModelMismatch(ModelError):
    """A model trained for another rubric, or another version or edit of this one."""


class NotAdoptable(ModelError):
    """A model whose cross-validation did not show it beats the rubric-only mark."""


class NoModel(ModelError):
    """No model has been trained for this rubric."""


@dataclass(frozen=True, eq=False)
class CalibrationModel:
    """A trained model plus what it was trained for and how well it did; implements app.service.Calibration."""

    rubric_id: str
    rubric_version: int
    rubric_digest: str
    rubric_title: str
    model: LinearModel
    training: dict[str, Any]  # n, date, data, engine version, folds, seed
    metrics: dict[str, Any]  # the cross-validated report's numbers
    recommended: bool
    verdict: str
    adopted: str | None = None  # when the teacher adopted it (ISO date), None while not in use

    def check(self, rubric: Rubric) -> None:
        """Refuse a model made for anything but exactly this rubric: its features would mean something else."""
        if (rubric.id, rubric.version, rubric.digest) == (self.rubric_id, self.rubric_version, self.rubric_digest):
            return
        trained = f"'{self.rubric_id}' version {self.rubric_version} (content {self.rubric_digest[:12]})"
        in_use = f"{'' if rubric.id == self.rubric_id else repr(rubric.id) + ' '}version {rubric.version} (content {rubric.digest[:12]})"
        why = ": the rubric was edited without changing its version" if (rubric.id, rubric.version) == (self.rubric_id, self.rubric_version) else ""
        raise ModelMismatch(f"this calibration model was trained for rubric {trained}, but the rubric in use is {in_use}{why}; train a new model for the rubric in use")

    def predict(self, results: list[Mapping[str, Any]], texts: list[str]) -> list[int]:
        x = feature_matrix([result_features(r, t) for r, t in zip(results, texts)], self.model.features)
        return [int(m) for m in self.model.marks(x)]

    def calibrated_mark(self, result: Mapping[str, Any], text: str, rubric: Rubric) -> int:
        self.check(rubric)
        return self.predict([result], [text])[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "rubric": {"id": self.rubric_id, "version": self.rubric_version, "digest": self.rubric_digest, "title": self.rubric_title},
            "model": self.model.to_json(),
            "training": self.training,
            "metrics": self.metrics,
            "recommended": self.recommended,
            "verdict": self.verdict,
            "adopted": self.adopted,
        }

    @classmethod
    def from_json(cls, data: Any) -> CalibrationModel:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelError(f"not an EssayCoach calibration model (no \"format\": \"{FORMAT}\")")
        if data.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"model format version {data.get('format_version')!r} is not supported (this EssayCoach reads version {FORMAT_VERSION})")
        rub = data.get("rubric")
        if not (isinstance(rub, dict) and isinstance(rub.get("id"), str) and isinstance(rub.get("version"), int) and isinstance(rub.get("digest"), str)):
            raise ModelError("'rubric' must give the id, version and digest of the rubric the model was trained for")
        for key, kind in (("training", dict), ("metrics", dict), ("recommended", bool), ("verdict", str)):
            if not isinstance(data.get(key), kind):
                raise ModelError(f"'{key}' is missing or has the wrong type")
        adopted = data.get("adopted")
        if adopted is not None and not isinstance(adopted, str):
            raise ModelError("'adopted' must be a date or null")
        return cls(
            rub["id"], rub["version"], rub["digest"], str(rub.get("title", rub["id"])), LinearModel.from_json(data.get("model")),
            data["training"], data["metrics"], data["recommended"], data["verdict"], adopted,
        )


# -- files --------------------------------------------------------------------
def models_dir() -> Path:
    """Where models live: $ESSAYCOACH_MODELS, else the repository's models/ folder."""
    env = os.environ.get("ESSAYCOACH_MODELS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "models"


def model_path(rubric_id: str, base: Path | None = None) -> Path:
    return (base or models_dir()) / rubric_id / MODEL_FILE


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def load(rubric_id: str, base: Path | None = None, rubric: Rubric | None = None) -> CalibrationModel:
    """Read a model as plain data (json, no code runs); with `rubric`, refuse it unless it was trained for exactly that rubric."""
    path = model_path(rubric_id, base)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NoModel(f"no calibration model for rubric '{rubric_id}' ({path} does not exist): train one with essaycoach train") from None
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model: {exc.strerror}") from None
    if len(raw) > MAX_MODEL_BYTES:
        raise ModelError(f"{path}: {len(raw):,} bytes is too large for a calibration model")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{path}: not a valid JSON model file: {exc}") from None
    try:
        model = CalibrationModel.from_json(data)
    except ModelError as exc:
        raise type(exc)(f"{path}: {exc}") from None
    if model.rubric_id != rubric_id:
        raise ModelMismatch(f"{path}: the model is for rubric '{model.rubric_id}', not '{rubric_id}'")
    if rubric is not None:
        try:
            model.check(rubric)
        except ModelMismatch as exc:
            raise ModelMismatch(f"{path}: {exc}") from None
    return model


def save(model: CalibrationModel, base: Path | None = None) -> Path:
    """Write model.json and MODEL_CARD.md (each replaced whole, never half-written); returns the model's folder."""
    folder = (base or models_dir()) / model.rubric_id
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / MODEL_FILE, json.dumps(model.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    from .calibrate_card import model_card  # the card is text for people; kept apart from the data

    _write(folder / CARD_FILE, model_card(model))
    return folder


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


# -- adoption -----------------------------------------------------------------
def adopt(rubric: Rubric, base: Path | None = None) -> CalibrationModel:
    """Start using the rubric's model for marking; refused when it is for another rubric or did not beat the rubric-only mark."""
    model = load(rubric.id, base, rubric)
    if not model.recommended:
        raise NotAdoptable(f"the calibration model for '{rubric.id}' cannot be adopted: {model.verdict}")
    adopted = replace(model, adopted=today())
    save(adopted, base)
    return adopted


def drop(rubric_id: str, base: Path | None = None) -> CalibrationModel:
    """Stop using the model (it stays on disk; adopt it again at any time)."""
    model = load(rubric_id, base)
    dropped = replace(model, adopted=None)
    save(dropped, base)
    return dropped


_cache: dict[Path, tuple[tuple[int, int], CalibrationModel]] = {}


def adopted_calibration(rubric: Rubric, base: Path | None = None) -> CalibrationModel | None:
    """The model the teacher adopted for this rubric, or None; raises ModelMismatch when it no longer fits the rubric.

    Re-read only when the file changes, so a server can ask on every request.
    """
    path = model_path(rubric.id, base)
    try:
        st = path.stat()
    except OSError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _cache.get(path)
    if cached is None or cached[0] != stamp:
        cached = _cache[path] = (stamp, load(rubric.id, base))
    model = cached[1]
    if model.adopted is None:
        return None
    try:
        model.check(rubric)
    except ModelMismatch as exc:
        raise ModelMismatch(f"{path}: {exc}") from None
    return model
