"""The rubric editor's form: rubric YAML <-> flat form fields, and validation problems placed on the field at fault.

Field names are flat (`concepts-3-phrases`); rows carry their own index so rows can be added and removed in the
browser. Pattern lists are one item per line; token patterns, paraphrases and precision are written as in the
YAML file. While the form is turned into rubric data, every value's field path is recorded, so a problem that
parse_rubric reports at `concepts[1].token_patterns[0]` is shown next to that concept's token-pattern box.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..rubric import SKILL_IDS, RubricError

LINE_FIELDS = ("phrases", "variants", "exclude")
FLOW_FIELDS = ("token_patterns", "paraphrases")
SKILL_LINE_FIELDS = ("phrases", "names", "terms")
ROW = re.compile(r"^(concepts|misconceptions|levels|rules)-(\d{1,4})-")
MAX_ROWS = 200


class _Flow(list):  # type: ignore[type-arg]
    """A list written in YAML flow style ([a, b]) in the generated file."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Flow, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))


def to_yaml(data: Mapping[str, Any]) -> str:
    return yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6).strip()


def _lines(items: Any) -> str:
    return "\n".join(str(x) for x in items or [])


def _s(value: Any) -> str:
    return "" if value is None else str(value)


# -- rubric -> form -------------------------------------------------------------------
def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Flat form values for a rubric's YAML data (yaml.safe_load of a valid rubric)."""
    v: dict[str, Any] = {
        "slug": _s(data.get("id")),
        "title": _s(data.get("title")),
        "subject": _s(data.get("subject")),
        "questions": _lines(data.get("questions")),
    }
    scale = data.get("scale") or {}
    scoring = data.get("scoring") or {}
    weights = scoring.get("weights") or {}
    v["method"] = scoring.get("method", "levels")
    v["marks_low"], v["marks_high"] = (_s(x) for x in (scale.get("marks") or ["", ""]))
    v["points_low"], v["points_high"] = (_s(x) for x in (scale.get("points") or ["", ""]))
    for key in ("coverage", "development", "skills"):
        v[f"w_{key}"] = _s(weights.get(key))
    for key in ("misconception_penalty", "min_words", "off_topic_coverage", "count"):
        v[key] = _s(scoring.get(key))
    for i, lv in enumerate(scale.get("levels") or []):
        p = f"levels-{i}-"
        v[p + "level"], v[p + "descriptor"] = _s(lv.get("level")), _s(lv.get("descriptor"))
        v[p + "marks_low"], v[p + "marks_high"] = (_s(x) for x in (lv.get("marks") or ["", ""]))
        for key in ("min_score", "min_coverage", "min_developed"):
            v[p + key] = _s(lv.get(key))
        v[p + "requires_skills"] = list(lv.get("requires_skills") or [])
    for i, rule in enumerate(scoring.get("rules") or []):
        for key in ("points", "min_elements", "descriptor"):
            v[f"rules-{i}-{key}"] = _s(rule.get(key))
    for kind in ("concepts", "misconceptions"):
        for i, item in enumerate(data.get(kind) or []):
            p = f"{kind}-{i}-"
            for key in ("id", "label", "why", "weight", "correction"):
                if key in item:
                    v[p + key] = _s(item[key])
            for key in LINE_FIELDS:
                v[p + key] = _lines(item.get(key))
            for key in FLOW_FIELDS:
                v[p + key] = "\n".join(_flow(x) for x in item.get(key) or [])
            feedback = item.get("feedback") or {}
            v[p + "feedback_found"], v[p + "feedback_missing"] = _s(feedback.get("found")), _s(feedback.get("missing"))
            if item.get("precision"):
                v[p + "precision"] = yaml.safe_dump(item["precision"], sort_keys=False, allow_unicode=True, width=110).strip()
    for sid in SKILL_IDS:
        skill = (data.get("skills") or {}).get(sid) or {}
        p = f"skills-{sid}-"
        v[p + "enabled"] = "1" if skill.get("enabled", True) else ""
        for key in ("label", "weight", "min_count"):
            v[p + key] = _s(skill.get(key))
        for key in SKILL_LINE_FIELDS:
            v[p + key] = _lines(skill.get(key))
        feedback = skill.get("feedback") or {}
        v[p + "feedback_found"], v[p + "feedback_missing"] = _s(feedback.get("found")), _s(feedback.get("missing"))
    return v


def row_indexes(values: Mapping[str, Any]) -> dict[str, list[int]]:
    """The row indexes present for each repeating section, in ascending order (the order shown and saved)."""
    found: dict[str, set[int]] = {"concepts": set(), "misconceptions": set(), "levels": set(), "rules": set()}
    for key in values:
        m = ROW.match(key)
        if m:
            found[m.group(1)].add(int(m.group(2)))
    return {k: sorted(v)[:MAX_ROWS] for k, v in found.items()}


# -- form -> rubric -------------------------------------------------------------------
@dataclass
class Built:
    """Rubric data from the form, where each value came from, and problems found while reading the form."""

    data: dict[str, Any]
    paths: dict[str, str] = field(default_factory=dict)  # rubric field path -> form field name
    lines: dict[str, list[int]] = field(default_factory=dict)  # path of a one-per-line list -> line numbers
    errors: dict[str, list[str]] = field(default_factory=dict)  # form field -> messages

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _number(raw: str, kind: type) -> Any:
    """int/float from the form; blank -> None (left out); unparseable -> the text, for the validator to report."""
    text = raw.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        try:
            as_float = float(text)
        except ValueError:
            return text
        return int(as_float) if kind is int and as_float.is_integer() else text


def build(values: Mapping[str, Any], *, slug: str, version: int = 1) -> Built:
    """Rubric data (for to_yaml) from submitted form values."""

    def get(name: str) -> str:
        raw = values.get(name, "")
        return (raw[0] if raw else "") if isinstance(raw, list) else str(raw)

    def getlist(name: str) -> list[str]:
        raw = values.get(name, [])
        return [str(x) for x in raw] if isinstance(raw, list) else ([str(raw)] if raw else [])

    b = Built({"id": slug, "title": get("title").strip(), "version": version, "subject": get("subject").strip()})

    def put(target: dict[str, Any], key: str, value: Any, path: str, name: str) -> None:
        b.paths[path] = name
        if value is not None and value != "" and value != [] and value != {}:
            target[key] = _Flow(value) if isinstance(value, list) and key in ("marks", "points", "requires_skills") else value

    b.paths.update({"title": "title", "subject": "subject", "id": "slug", "version": "title"})
    questions = [q.strip() for q in get("questions").splitlines() if q.strip()]
    b.data["questions"] = questions
    b.paths["questions"] = "questions"

    method = get("method") or "levels"
    scale: dict[str, Any] = {}
    if method == "points":
        put(scale, "points", [_number(get("points_low"), int), _number(get("points_high"), int)], "scale.points", "points_high")
        b.paths.update({"scale.points[0]": "points_low", "scale.points[1]": "points_high"})
    else:
        put(scale, "marks", [_number(get("marks_low"), int), _number(get("marks_high"), int)], "scale.marks", "marks_high")
        b.paths.update({"scale.marks[0]": "marks_low", "scale.marks[1]": "marks_high"})
        levels: list[dict[str, Any]] = []
        for i in row_indexes(values)["levels"]:
            p = f"levels-{i}-"
            if get(p + "remove"):
                continue
            path = f"scale.levels[{len(levels)}]"
            lv: dict[str, Any] = {}
            put(lv, "level", _number(get(p + "level"), int), path + ".level", p + "level")
            put(lv, "marks", [_number(get(p + "marks_low"), int), _number(get(p + "marks_high"), int)], path + ".marks", p + "marks_high")
            b.paths[path + ".marks[0]"], b.paths[path + ".marks[1]"] = p + "marks_low", p + "marks_high"
            put(lv, "descriptor", get(p + "descriptor").strip(), path + ".descriptor", p + "descriptor")
            for key in ("min_score", "min_coverage", "min_developed"):
                put(lv, key, _number(get(p + key), float), f"{path}.{key}", p + key)
            put(lv, "requires_skills", [s for s in getlist(p + "requires_skills") if s], path + ".requires_skills", p + "requires_skills")
            b.paths[path] = p + "descriptor"
            levels.append(lv)
        put(scale, "levels", levels, "scale.levels", "section-levels")
    b.data["scale"] = scale
    b.paths["scale"] = "section-scale"

    scoring: dict[str, Any] = {"method": method}
    b.paths.update({"scoring": "section-scoring", "scoring.method": "method"})
    weights: dict[str, Any] = {}
    for key in ("coverage", "development", "skills"):
        put(weights, key, _number(get(f"w_{key}"), float), f"scoring.weights.{key}", f"w_{key}")
    put(scoring, "weights", weights, "scoring.weights", "w_coverage")
    put(scoring, "misconception_penalty", _number(get("misconception_penalty"), float), "scoring.misconception_penalty", "misconception_penalty")
    put(scoring, "min_words", _number(get("min_words"), int), "scoring.min_words", "min_words")
    put(scoring, "off_topic_coverage", _number(get("off_topic_coverage"), float), "scoring.off_topic_coverage", "off_topic_coverage")
    put(scoring, "count", get("count").strip() or None, "scoring.count", "count")
    if method == "points":
        rules: list[dict[str, Any]] = []
        for i in row_indexes(values)["rules"]:
            p = f"rules-{i}-"
            if get(p + "remove"):
                continue
            path = f"scoring.rules[{len(rules)}]"
            rule: dict[str, Any] = {}
            put(rule, "points", _number(get(p + "points"), int), path + ".points", p + "points")
            put(rule, "min_elements", _number(get(p + "min_elements"), int), path + ".min_elements", p + "min_elements")
            put(rule, "descriptor", get(p + "descriptor").strip(), path + ".descriptor", p + "descriptor")
            b.paths[path] = p + "points"
            rules.append(rule)
        put(scoring, "rules", rules, "scoring.rules", "section-rules")
    b.data["scoring"] = scoring

    for kind in ("concepts", "misconceptions"):
        items: list[dict[str, Any]] = []
        for i in row_indexes(values)[kind]:
            p = f"{kind}-{i}-"
            if get(p + "remove"):
                continue
            path = f"{kind}[{len(items)}]"
            items.append(_item(b, kind, p, path, get))
        b.data[kind] = items
        b.paths[kind] = f"section-{kind}"

    skills: dict[str, Any] = {}
    for sid in SKILL_IDS:
        p, path = f"skills-{sid}-", f"skills.{sid}"
        if not get(p + "shown"):
            continue
        skill: dict[str, Any] = {}
        if not get(p + "enabled"):
            skill["enabled"] = False
        b.paths[path + ".enabled"] = p + "enabled"
        put(skill, "label", get(p + "label").strip(), path + ".label", p + "label")
        put(skill, "weight", _number(get(p + "weight"), float), path + ".weight", p + "weight")
        put(skill, "min_count", _number(get(p + "min_count"), int), path + ".min_count", p + "min_count")
        for key in SKILL_LINE_FIELDS:
            _put_lines(b, skill, key, get(p + key), f"{path}.{key}", p + key)
        _put_feedback(b, skill, p, path, get)
        b.paths[path] = p + "label"
        if skill:
            skills[sid] = skill
    if skills:
        b.data["skills"] = skills
    b.paths["skills"] = "section-skills"
    return b


def _put_lines(b: Built, target: dict[str, Any], key: str, raw: str, path: str, name: str) -> None:
    numbered = [(n, line.strip()) for n, line in enumerate(raw.splitlines(), start=1) if line.strip()]
    b.paths[path] = name
    b.lines[path] = [n for n, _ in numbered]
    if numbered:
        target[key] = [text for _, text in numbered]


def _put_flow(b: Built, target: dict[str, Any], key: str, raw: str, path: str, name: str, expect: type) -> None:
    """One YAML flow value per line (a token pattern list, or a paraphrase mapping)."""
    b.paths[path] = name
    parsed: list[Any] = []
    numbers: list[int] = []
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = yaml.safe_load(line)
        except yaml.YAMLError as exc:
            reason = getattr(exc, "problem", None) or "not valid YAML"
            b.error(name, f"line {n}: {reason} (write it as in the YAML file, e.g. {_EXAMPLES[key]})")
            continue
        if not isinstance(value, expect):
            b.error(name, f"line {n}: expected {'a [list of token specs]' if expect is list else 'a {mapping}'}, e.g. {_EXAMPLES[key]}")
            continue
        parsed.append(_Flow(value) if isinstance(value, list) else _flow_mapping(value))  # type: ignore[arg-type]
        numbers.append(n)
    b.lines[path] = numbers
    if parsed:
        target[key] = parsed


_EXAMPLES = {
    "token_patterns": '[{LOWER: lenin}, {OP: "{0,3}"}, {LEMMA: lead}]',
    "paraphrases": "{all: [[power, control], [concentrate]], window: 6}",
}


def _flow_mapping(value: dict[str, Any]) -> dict[str, Any]:
    out = dict(value)
    if isinstance(out.get("all"), list):
        out["all"] = _Flow(_Flow(g) if isinstance(g, list) else g for g in out["all"])
    if isinstance(out.get("unless"), list):
        out["unless"] = _Flow(out["unless"])
    return out


def _put_feedback(b: Built, target: dict[str, Any], p: str, path: str, get: Any) -> None:
    feedback: dict[str, str] = {}
    for key in ("found", "missing"):
        text = get(f"{p}feedback_{key}").strip()
        b.paths[f"{path}.feedback.{key}"] = f"{p}feedback_{key}"
        if text:
            feedback[key] = text
    if feedback:
        target["feedback"] = feedback


def _item(b: Built, kind: str, p: str, path: str, get: Any) -> dict[str, Any]:
    item: dict[str, Any] = {}
    b.paths[path] = p + "label"
    texts = ("id", "label", "why") if kind == "concepts" else ("id", "label", "correction")
    for key in texts:
        b.paths[f"{path}.{key}"] = p + key
        item[key] = get(p + key).strip()
    if kind == "concepts":
        b.paths[path] = p + "why"
        b.paths[path + ".weight"] = p + "weight"
        weight = _number(get(p + "weight"), float)
        if weight is not None:
            item["weight"] = int(weight) if isinstance(weight, float) and weight.is_integer() else weight
    for key in LINE_FIELDS:
        _put_lines(b, item, key, get(p + key), f"{path}.{key}", p + key)
    _put_flow(b, item, "token_patterns", get(p + "token_patterns"), path + ".token_patterns", p + "token_patterns", list)
    _put_flow(b, item, "paraphrases", get(p + "paraphrases"), path + ".paraphrases", p + "paraphrases", dict)
    if kind == "concepts":
        raw = get(p + "precision").strip()
        b.paths[path + ".precision"] = p + "precision"
        if raw:
            try:
                precision = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                b.error(p + "precision", f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
            else:
                if isinstance(precision, dict):
                    item["precision"] = precision
                else:
                    b.error(p + "precision", "write a mapping, e.g. description: the date 1923, then phrases: ['1923']")
        _put_feedback(b, item, p, path, get)
    # "no patterns" is reported at the item's own path: show it by the phrases box
    b.paths[path] = p + "phrases"
    return item


# -- validation problems -> fields -----------------------------------------------------
_PART = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]")


def _parts(path: str) -> list[str | int]:
    return [m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _PART.finditer(path)]


def _join(parts: list[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def place_problems(b: Built, error: RubricError) -> tuple[dict[str, list[str]], list[str]]:
    """Each problem on the form field it belongs to (longest matching path); the rest as general messages."""
    errors: dict[str, list[str]] = {k: list(v) for k, v in b.errors.items()}
    general: list[str] = []
    for problem in error.problems:
        parts = _parts(problem.path)
        placed = False
        for n in range(len(parts), 0, -1):
            prefix = _join(parts[:n])
            name = b.paths.get(prefix)
            if name is None:
                continue
            message = problem.message
            rest = parts[n:]
            line = None
            if rest and isinstance(rest[0], int) and prefix in b.lines and rest[0] < len(b.lines[prefix]):
                line = b.lines[prefix][rest[0]]
                rest = rest[1:]
            if rest:
                message = f"{_join(rest)}: {message}"
            if line is not None:
                message = f"line {line}: {message}"
            errors.setdefault(name, []).append(message)
            placed = True
            break
        if not placed:
            general.append(f"{problem.path}: {problem.message}" if problem.path else problem.message)
    return errors, general


def section_of(name: str) -> str | None:
    return name.removeprefix("section-") if name.startswith("section-") else None
