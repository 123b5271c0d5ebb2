"""Calibration: learn a teacher's marking from the engine's results on essays they marked (features, model, fit)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from .rubric import SKILL_IDS

if TYPE_CHECKING:
    from .rubric import Rubric

# Ridge penalties tried by leave-one-out (RidgeCV's efficient GCV): from almost none to "stay at the rubric mark".
ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-2, 6, 33))
# Features that every rubric has, so a model over them can be trained across several questions (bench/Mohler).
GENERIC_FEATURES: tuple[str, ...] = (
    "rubric_mark", "coverage", "development", "skills_score", "key_elements", "misconceptions",
    "log_words", "log_sentences", "words_per_sentence", "long_word_share", "flag.too_short", "flag.off_topic",
    *(f"skill.{s}.{kind}" for s in SKILL_IDS for kind in ("found", "count")),
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n?")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


class ModelError(ValueError):
    """A calibration model that cannot be used (unreadable, malformed, or for another rubric); shown as it is."""


# -- features -----------------------------------------------------------------
def feature_names(rubric: Rubric) -> list[str]:
    """Every feature a model for this rubric may use, in a fixed order (rubric-specific ones after the generic ones)."""
    names = list(GENERIC_FEATURES)
    for c in rubric.concepts:
        names += [f"concept.{c.id}.found", f"concept.{c.id}.developed"]
    names += [f"misconception.{m.id}" for m in rubric.misconceptions]
    return names


def text_features(text: str) -> dict[str, float]:
    """Sentence structure and vocabulary: a cheap regex reading, so loading a model needs no spaCy state."""
    sentences = [s for s in _SENTENCE_END.split(text) if s and _WORD.search(s)]
    words = _WORD.findall(text)
    n_words, n_sent = len(words), max(1, len(sentences))
    return {
        "log_sentences": math.log1p(len(sentences)),
        "words_per_sentence": n_words / n_sent,
        "long_word_share": sum(len(w) >= 7 for w in words) / n_words if n_words else 0.0,
    }


def result_features(result: Mapping[str, Any], text: str) -> dict[str, float]:
    """Features of one marked essay: what the rules found (concepts, slips, skills, scores) plus its text's shape."""
    rubric_mark = result.get("rubric_mark", result["mark"])  # results made before calibration existed have only `mark`
    f: dict[str, float] = {
        "rubric_mark": float(rubric_mark),
        "coverage": float(result["coverage"]),
        "development": float(result["development"]),
        "skills_score": float(result["skills_score"]),
        "key_elements": float(result["key_elements"]),
        "misconceptions": float(len(result["misconceptions"])),
        "log_words": math.log1p(result["word_count"]),
        **text_features(text),
    }
    for flag in result["flags"]:
        f[f"flag.{flag['id']}"] = 1.0
    for s in result["skills"]:
        f[f"skill.{s['id']}.found"] = float(bool(s["found"]))
        f[f"skill.{s['id']}.count"] = math.log1p(s["count"])  # a log: the tenth example adds less than the first
    for c in result["concepts"]:
        f[f"concept.{c['id']}.found"] = float(bool(c["found"]))
        f[f"concept.{c['id']}.developed"] = float(bool(c["developed"]))
    for m in result["misconceptions"]:
        f[f"misconception.{m['id']}"] = 1.0
    return f


def feature_matrix(rows: Sequence[Mapping[str, float]], names: Sequence[str]) -> np.ndarray:
    """Rows of named features as a matrix in `names` order; a feature a row lacks is 0 (not found, no flag)."""
    return np.array([[float(r.get(n, 0.0)) for n in names] for r in rows], dtype=float).reshape(len(rows), len(names))


# -- the model ----------------------------------------------------------------
def round_marks(raw: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Half up (not to even: 1.5 and 2.5 both go up) and clipped to the scale."""
    return np.clip(np.floor(np.asarray(raw, dtype=float) + 0.5), lo, hi).astype(int)


@dataclass(frozen=True, eq=False)
class LinearModel:
    """raw = rubric mark + intercept + sum(coef * (x - mean) / scale); mark = raw rescaled, rounded half up, clipped.

    The offset is learnt on top of the rubric mark, so a strong penalty (little data) shrinks the model
    towards the rules' mark plus the teacher's average leniency, not towards one mark for everyone.
    Least squares pulls predictions towards the middle, which kappa punishes, so the raw predictions are
    then stretched to the teacher's mean and spread on the training essays (RSMTool's "scaled" predictions):
    mark = round(target_mean + (raw - raw_mean) * stretch).
    """

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    alpha: float
    raw_mean: float
    target_mean: float
    stretch: float
    lo: int
    hi: int

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Unscaled, unrounded predictions for a feature matrix (columns in `features` order)."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        base = x[:, self.features.index("rubric_mark")]
        z = (x - self.mean) / self.scale
        return base + self.intercept + np.sum(z * self.coef, axis=1)  # no BLAS call: fitted or loaded, the same sums in the same order

    def scaled(self, x: np.ndarray) -> np.ndarray:
        return self.target_mean + (self.raw(x) - self.raw_mean) * self.stretch

    def marks(self, x: np.ndarray) -> np.ndarray:
        return round_marks(self.scaled(x), self.lo, self.hi)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "ridge-offset",
            "features": list(self.features),
            "mean": [float(v) for v in self.mean],
            "scale": [float(v) for v in self.scale],
            "coef": [float(v) for v in self.coef],
            "intercept": float(self.intercept),
            "alpha": float(self.alpha),
            "raw_mean": float(self.raw_mean),
            "target_mean": float(self.target_mean),
            "stretch": float(self.stretch),
            "scale_marks": [self.lo, self.hi],
        }

    @classmethod
    def from_json(cls, data: Any) -> LinearModel:
        """Rebuild from plain JSON, checking every field: a model file may come from anywhere."""
        if not isinstance(data, dict) or data.get("kind") != "ridge-offset":
            raise ModelError("the model is not a 'ridge-offset' model")
        names = data.get("features")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names) or "rubric_mark" not in names:
            raise ModelError("'features' must be a list of feature names including 'rubric_mark'")
        arrays = {}
        for key in ("mean", "scale", "coef"):
            values = data.get(key)
            if not isinstance(values, list) or len(values) != len(names) or not all(_finite(v) for v in values):
                raise ModelError(f"'{key}' must be {len(names)} finite numbers, one per feature")
            arrays[key] = np.array(values, dtype=float)
        if np.any(arrays["scale"] <= 0):
            raise ModelError("'scale' values must be positive")
        scale = data.get("scale_marks")
        if not (isinstance(scale, list) and len(scale) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in scale) and scale[0] <= scale[1]):
            raise ModelError("'scale_marks' must be [lowest mark, highest mark]")
        numbers = {}
        for key in ("intercept", "alpha", "raw_mean", "target_mean", "stretch"):
            if not _finite(data.get(key)):
                raise ModelError(f"'{key}' must be a finite number")
            numbers[key] = float(data[key])
        return cls(tuple(names), arrays["mean"], arrays["scale"], arrays["coef"], **numbers, lo=scale[0], hi=scale[1])


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def fit(x: np.ndarray, y: Sequence[int], names: Sequence[str], lo: int, hi: int, alphas: Sequence[float] = ALPHAS) -> LinearModel:
    """Standardise, ridge-regress (teacher mark - rubric mark) with the penalty chosen by leave-one-out, then rescale."""
    from sklearn.linear_model import RidgeCV  # scikit-learn takes ~1 s to import: only when training
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(x, dtype=float)
    target = np.asarray(y, dtype=float) - x[:, list(names).index("rubric_mark")]
    scaler = StandardScaler().fit(x)
    ridge = RidgeCV(alphas=list(alphas)).fit(scaler.transform(x), target)
    model = LinearModel(tuple(names), scaler.mean_.copy(), scaler.scale_.copy(), ridge.coef_.copy(), float(ridge.intercept_), float(ridge.alpha_), 0.0, 0.0, 1.0, lo, hi)
    raw = model.raw(x)
    y_arr = np.asarray(y, dtype=float)
    spread = float(np.std(raw))
    # No stretch when the model predicts (almost) one mark for all: there is no spread to rescale.
    stretch = float(np.std(y_arr)) / spread if spread > 1e-6 else 1.0
    return replace(model, raw_mean=float(np.mean(raw)), target_mean=float(np.mean(y_arr)), stretch=stretch)


def fold_indices(y: Sequence[int] | np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """Test indices of each fold: stratified by mark when every mark has `folds` essays, else plain shuffled folds."""
    from sklearn.model_selection import KFold, StratifiedKFold

    y_arr = np.asarray(y)
    counts = np.unique(y_arr, return_counts=True)[1]
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed) if counts.min() >= folds else KFold(folds, shuffle=True, random_state=seed)
    return [test for _, test in splitter.split(np.zeros(len(y_arr)), y_arr)]


def cross_validated_marks(x: np.ndarray, y: Sequence[int], names: Sequence[str], lo: int, hi: int, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Each essay's mark from a model that never saw it (k-fold; the penalty is chosen inside each fold)."""
    x = np.asarray(x, dtype=float)
    y_arr = np.asarray(y, dtype=int)
    out = np.zeros(len(y_arr), dtype=int)
    for test in fold_indices(y_arr, folds, seed):
        train = np.setdiff1d(np.arange(len(y_arr)), test)
        out[test] = fit(x[train], y_arr[train], names, lo, hi).marks(x[test])
    return out
