"""Rubric files: the YAML schema, safe loading and validation with file, field path and line in every error."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

MAX_RUBRIC_BYTES = 1_000_000

Text = Annotated[str, Field(min_length=1)]
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=64)]
TokenPattern = list[dict[str, Any]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Paraphrase(_Model):
    """Every group must have a word in the same sentence, within `window` tokens (order free)."""

    all: list[list[Text]] = Field(min_length=2)
    window: int = Field(default=12, ge=2, le=60)
    unless: list[Text] = []

    @field_validator("all")
    @classmethod
    def _groups_not_empty(cls, groups: list[list[str]]) -> list[list[str]]:
        for i, group in enumerate(groups):
            if not group:
                raise ValueError(f"group {i} is empty: list at least one word")
            for word in group:
                if " " in word:
                    raise ValueError(f"'{word}' has a space: paraphrase groups take single words (use token_patterns for sequences)")
        return groups


class Patterns(_Model):
    """How an idea is detected; shared by concepts, misconceptions and precision checks."""

    phrases: list[Text] = []
    variants: list[Text] = []
    token_patterns: list[TokenPattern] = []
    paraphrases: list[Paraphrase] = []
    exclude: list[Text] = []

    def has_patterns(self) -> bool:
        return bool(self.phrases or self.variants or self.token_patterns or self.paraphrases)


class Precision(Patterns):
    description: Text


class ConceptFeedback(_Model):
    found: str = ""
    missing: str = ""


class Concept(Patterns):
    id: Identifier
    label: Text
    why: Text
    weight: float = Field(default=1.0, gt=0, le=100)
    precision: Precision | None = None
    feedback: ConceptFeedback = ConceptFeedback()


class Misconception(Patterns):
    id: Identifier
    label: Text
    correction: Text


SkillId = Literal["judgement", "counter_argument", "evidence", "explanation", "focus"]
SKILL_IDS: tuple[str, ...] = ("judgement", "counter_argument", "evidence", "explanation", "focus")


class Skill(_Model):
    """A built-in argument-quality detector, tuned per rubric."""

    enabled: bool = True
    label: str = ""
    weight: float = Field(default=1.0, ge=0, le=100)
    min_count: int = Field(default=0, ge=0, le=100)  # 0 = the detector's default
    phrases: list[Text] = []  # extra phrases on top of the built-in ones
    names: list[Text] = []  # evidence: people, places, documents worth naming
    terms: list[Text] = []  # focus: words of the question
    feedback: ConceptFeedback = ConceptFeedback()


class Level(_Model):
    level: int = Field(ge=0, le=20)
    marks: tuple[int, int]
    descriptor: Text
    min_score: float = Field(default=0.0, ge=0, le=1)
    min_coverage: float = Field(default=0.0, ge=0, le=1)
    min_developed: float = Field(default=0.0, ge=0, le=1)
    requires_skills: list[SkillId] = []

    @field_validator("marks")
    @classmethod
    def _ordered(cls, marks: tuple[int, int]) -> tuple[int, int]:
        if marks[0] > marks[1]:
            raise ValueError(f"marks {list(marks)} run backwards: write [low, high]")
        return marks


class PointsRule(_Model):
    points: int = Field(ge=0)
    min_elements: int = Field(ge=0)
    descriptor: str = ""


class Scale(_Model):
    marks: tuple[int, int] | None = None
    levels: list[Level] = []
    points: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Scale":
        if (self.marks is None) == (self.points is None):
            raise ValueError("give either marks (with levels) or points, not both and not neither")
        if self.marks is not None:
            if not self.levels:
                raise ValueError("a marks scale needs levels")
            lo, hi = self.marks
            if lo > hi:
                raise ValueError(f"marks {list(self.marks)} run backwards")
            levels = sorted(self.levels, key=lambda lv: lv.level)
            seen: set[int] = set()
            for lv in levels:
                if lv.level in seen:
                    raise ValueError(f"level {lv.level} is defined twice")
                seen.add(lv.level)
                if lv.marks[0] < lo or lv.marks[1] > hi:
                    raise ValueError(f"level {lv.level} marks {list(lv.marks)} fall outside the scale {list(self.marks)}")
            for a, b in zip(levels, levels[1:]):
                if b.marks[0] <= a.marks[1]:
                    raise ValueError(f"levels {a.level} {list(a.marks)} and {b.level} {list(b.marks)} overlap")
                if b.min_score < a.min_score:
                    raise ValueError(f"level {b.level} min_score is below level {a.level}'s")
        if self.points is not None and self.points[0] > self.points[1]:
            raise ValueError(f"points {list(self.points)} run backwards")
        return self


class Weights(_Model):
    coverage: float = Field(default=0.35, ge=0)
    development: float = Field(default=0.35, ge=0)
    skills: float = Field(default=0.30, ge=0)


class Scoring(_Model):
    method: Literal["levels", "points"] = "levels"
    weights: Weights = Weights()
    misconception_penalty: float = Field(default=0.05, ge=0, le=1)
    min_words: int = Field(default=20, ge=0)
    off_topic_coverage: float = Field(default=0.1, ge=0, le=1)
    count: Literal["found", "developed"] = "found"  # what counts as a key element in points rules
    rules: list[PointsRule] = []


class Rubric(_Model):
    id: Identifier
    title: Text
    version: int = Field(ge=1)
    subject: Text
    questions: list[Text] = Field(min_length=1)
    scale: Scale
    scoring: Scoring = Scoring()
    concepts: list[Concept] = Field(min_length=1)
    misconceptions: list[Misconception] = []
    skills: dict[SkillId, Skill] = {}

    _digest: str = PrivateAttr(default="")

    @property
    def digest(self) -> str:
        """A fingerprint of the rubric's content, so caches never confuse two edits of one version."""
        if not self._digest:
            self._digest = hashlib.sha256(self.model_dump_json().encode()).hexdigest()
        return self._digest

    @property
    def max_mark(self) -> int:
        return self.scale.marks[1] if self.scale.marks else self.scale.points[1]  # type: ignore[index]

    @property
    def min_mark(self) -> int:
        return self.scale.marks[0] if self.scale.marks else self.scale.points[0]  # type: ignore[index]

    def skill(self, skill_id: str) -> Skill:
        return self.skills.get(skill_id, Skill())  # type: ignore[arg-type]

    def levels_sorted(self) -> list[Level]:
        return sorted(self.scale.levels, key=lambda lv: lv.level)


# -- errors -------------------------------------------------------------------
@dataclass(frozen=True)
class RubricProblem:
    path: str  # field path, e.g. concepts[3].phrases[0]
    line: int | None
    message: str


class RubricError(Exception):
    """A rubric file that cannot be used; every problem names the file, field, line and what is wrong."""

    def __init__(self, source: str, problems: list[RubricProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self.format())

    def format(self) -> str:
        lines = []
        for p in self.problems:
            where = f"{self.source}:{p.line}" if p.line else self.source
            field = f" {p.path}:" if p.path else ""
            lines.append(f"{where}:{field} {p.message}")
        return "\n".join(lines)


class RubricNotFound(Exception):
    """No rubric file has that name or path."""


# -- loading ------------------------------------------------------------------
def _loc_to_path(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic adds union/literal branch names to locations; keep the document keys and indexes only.
    return tuple(p for p in loc if isinstance(p, int) or not str(p).startswith(("function-", "tuple[", "list[", "dict[")))


def _format_path(parts: tuple[Any, ...]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _line_of(node: yaml.Node | None, parts: tuple[Any, ...]) -> int | None:
    line = node.start_mark.line + 1 if node is not None else None
    for p in parts:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == p), None)
            key = next((k for k, v in node.value if k.value == p), None)
            if child is None:
                return line
            node, line = child, (key.start_mark.line + 1 if key is not None else child.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode) and isinstance(p, int) and p < len(node.value):
            node = node.value[p]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _duplicate_keys(node: yaml.Node, path: tuple[Any, ...] = ()) -> list[RubricProblem]:
    problems: list[RubricProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                problems.append(RubricProblem(_format_path(path + (key.value,)), key.start_mark.line + 1, "key appears twice in the same block"))
            seen.add(key.value)
            problems += _duplicate_keys(value, path + (key.value,))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems += _duplicate_keys(item, path + (i,))
    return problems


def parse_rubric(text: str, source: str = "<rubric>") -> Rubric:
    """Validate rubric YAML text; raise RubricError listing every problem found."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise RubricError(source, [RubricProblem("", mark.line + 1 if mark else None, f"not valid YAML: {reason}")]) from None
    if not isinstance(data, dict):
        raise RubricError(source, [RubricProblem("", 1, "a rubric must be a YAML mapping (id:, title:, ...)")])
    problems = _duplicate_keys(node)
    rubric: Rubric | None = None
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            parts = _loc_to_path(err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown field (check the spelling; see rubrics/README.md for the fields)"
            elif err["type"] == "missing":
                message = "required field is missing"
            problems.append(RubricProblem(_format_path(parts), _line_of(node, parts), message))
    if rubric is not None:
        problems += _semantic_problems(rubric, node)
    if problems:
        raise RubricError(source, problems)
    assert rubric is not None
    return rubric


def _semantic_problems(rubric: Rubric, node: yaml.Node) -> list[RubricProblem]:
    """Checks across fields: unique ids, scoring vs scale, empty detectors, token patterns spaCy rejects."""
    from .detect import token_pattern_errors  # late import: detect needs spaCy, the schema does not

    problems: list[RubricProblem] = []

    def problem(parts: tuple[Any, ...], message: str) -> None:
        problems.append(RubricProblem(_format_path(parts), _line_of(node, parts), message))

    for field in ("concepts", "misconceptions"):
        seen: dict[str, int] = {}
        for i, item in enumerate(getattr(rubric, field)):
            if item.id in seen:
                problem((field, i, "id"), f"id '{item.id}' is already used by {field}[{seen[item.id]}]: ids must be unique")
            seen.setdefault(item.id, i)
    method = rubric.scoring.method
    if method == "levels" and rubric.scale.marks is None:
        problem(("scoring", "method"), "method is levels but the scale has points, not marks and levels")
    if method == "points":
        if rubric.scale.points is None:
            problem(("scoring", "method"), "method is points but the scale has no points: give scale.points, e.g. [0, 3]")
        elif not rubric.scoring.rules:
            problem(("scoring", "rules"), "method is points but scoring.rules is empty: give rules like {points: 3, min_elements: 4}")
        else:
            lo, hi = rubric.scale.points
            for i, rule in enumerate(rubric.scoring.rules):
                if not lo <= rule.points <= hi:
                    problem(("scoring", "rules", i, "points"), f"{rule.points} points is outside the scale {list(rubric.scale.points)}")

    def check(block: Patterns, parts: tuple[Any, ...]) -> None:
        if not block.has_patterns():
            problem(parts, "no patterns: give phrases, variants, token_patterns or paraphrases")
        for i, pattern in enumerate(block.token_patterns):
            sub = parts + ("token_patterns", i)
            if not pattern:
                problem(sub, "empty token pattern")
                continue
            for message in token_pattern_errors(pattern):
                problem(sub, f"invalid token pattern: {message}")

    for i, concept in enumerate(rubric.concepts):
        check(concept, ("concepts", i))
        if concept.precision is not None:
            check(concept.precision, ("concepts", i, "precision"))
    for i, mis in enumerate(rubric.misconceptions):
        check(mis, ("misconceptions", i))
    return problems


def load_rubric(path: str | os.PathLike[str]) -> Rubric:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise RubricNotFound(f"{p}: no such rubric file") from None
    except OSError as exc:
        raise RubricError(str(p), [RubricProblem("", None, f"cannot read the file: {exc.strerror}")]) from None
    if len(raw) > MAX_RUBRIC_BYTES:
        raise RubricError(str(p), [RubricProblem("", None, f"file is {len(raw):,} bytes; a rubric may be at most {MAX_RUBRIC_BYTES:,}")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RubricError(str(p), [RubricProblem("", None, f"not UTF-8 text (byte {exc.start}): save the file as UTF-8")]) from None
    return parse_rubric(text, str(p))


def rubric_dir() -> Path:
    """Where named rubrics live: $ESSAYCOACH_RUBRICS, else the repository's rubrics/ folder."""
    env = os.environ.get("ESSAYCOACH_RUBRICS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "rubrics"


def resolve_rubric(name_or_path: str) -> Path:
    """A rubric named by id (stalinist-centralisation) or given as a path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or os.sep in name_or_path:
        if not p.is_file():
            raise RubricNotFound(f"{name_or_path}: no such rubric file")
        return p
    base = rubric_dir()
    for candidate in (base / f"{name_or_path}.yaml", base / f"{name_or_path}.yml", base / "examples" / f"{name_or_path}.yaml"):
        if candidate.is_file():
            return candidate
    known = ", ".join(sorted(q.stem for q in base.glob("*.y*ml"))) or "none"
    raise RubricNotFound(f"no rubric called '{name_or_path}' in {base} (known: {known})")
