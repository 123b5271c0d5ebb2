"""The rubric validator: every kind of mistake is caught, named by file, field path and line; exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.rubric import RubricError, RubricNotFound, load_rubric, parse_rubric, resolve_rubric

MINI = Path(__file__).parent / "data" / "rubrics" / "mini.yaml"


def _problems(text: str) -> list:
    with pytest.raises(RubricError) as info:
        parse_rubric(text, "teacher.yaml")
    return info.value.problems


def _mini() -> str:
    return MINI.read_text(encoding="utf-8")


def test_mini_rubric_is_valid():
    rubric = parse_rubric(_mini(), "mini.yaml")
    assert [c.id for c in rubric.concepts] == ["nomenklatura", "yes_men", "soviets"]
    assert rubric.max_mark == 25 and rubric.min_mark == 0


@pytest.mark.parametrize(
    "old, new, path, line_text, words",
    [
        # unknown field, with its line
        ("    label: Yes-men\n", "    label: Yes-men\n    lable: typo\n", "concepts[1].lable", "lable: typo", "unknown field"),
        # wrong type
        ("version: 1\n", "version: one\n", "version", "version: one", "integer"),
        # duplicate concept id
        ("  - id: soviets\n", "  - id: yes_men\n", "concepts[2].id", "- id: yes_men", "already used by concepts[1]"),
        # invalid token pattern: unknown attribute
        ("[{LOWER: soviets}]", "[{LOWERCASE: soviets}]", "concepts[2].token_patterns[0]", "token_patterns:", "invalid token pattern"),
        # empty token pattern
        ("[{LOWER: soviets}]", "[]", "concepts[2].token_patterns[0]", "token_patterns:", "empty token pattern"),
        # empty phrase
        ("phrases: [nomenklatura]", "phrases: ['']", "concepts[0].phrases[0]", "phrases: ['']", "at least 1 character"),
        # a concept with no patterns at all
        ("    phrases: [yes-men]\n    paraphrases:\n      - all: [[loyal, obedient], [official, bureaucrat, member], [question, challenge, criticise]]\n", "", "concepts[1]", "- id: yes_men", "no patterns"),
        # levels overlap
        ("{level: 2, marks: [6, 10]", "{level: 2, marks: [5, 10]", "scale", "scale:", "overlap"),
        # level marks backwards
        ("{level: 3, marks: [11, 15]", "{level: 3, marks: [15, 11]", "scale.levels[2].marks", "{level: 3", "backwards"),
        # paraphrase group with a multi-word entry
        ("[loyal, obedient]", "[loyal, very obedient]", "concepts[1].paraphrases[0].all", "very obedient", "single words"),
        # unknown skill
        ("requires_skills: [explanation]}", "requires_skills: [explaining]}", "scale.levels[2].requires_skills[0]", "explaining", "judgement"),
    ],
)
def test_each_mistake_is_named_with_path_and_line(old, new, path, line_text, words):
    text = _mini()
    assert old in text, "test case no longer matches the fixture"
    text = text.replace(old, new, 1)
    problems = _problems(text)
    hit = [p for p in problems if p.path == path]
    assert hit, f"no problem at {path}: {problems}"
    assert words in hit[0].message
    if line_text is not None:
        lines = text.splitlines()
        assert line_text in lines[hit[0].line - 1], f"line {hit[0].line} is {lines[hit[0].line - 1]!r}"


def test_duplicate_yaml_key_is_an_error():
    problems = _problems(_mini().replace("title: Mini\n", "title: Mini\ntitle: Other\n"))
    assert any(p.path == "title" and "twice" in p.message and p.line == 3 for p in problems)


def test_missing_fields_are_all_listed():
    problems = _problems("id: x\n")
    assert {p.path for p in problems} >= {"title", "version", "subject", "questions", "scale", "concepts"}
    assert all(p.message == "required field is missing" for p in problems)


def test_invalid_yaml_names_the_line():
    problems = _problems("id: x\ntitle: [unclosed\nversion: 1\n")
    assert problems[0].message.startswith("not valid YAML")
    assert problems[0].line is not None


def test_yaml_is_loaded_safely():
    # A Python object tag must be refused, never constructed.
    problems = _problems("!!python/object/apply:os.system ['echo hacked']\n")
    assert "not valid YAML" in problems[0].message


def test_points_scale_needs_rules():
    text = _mini().replace("  marks: [0, 25]\n", "  points: [0, 3]\n").split("  levels:")[0] + "scoring: {method: points}\n" + "concepts:" + _mini().split("concepts:")[1]
    problems = _problems(text)
    assert [(p.path, p.line) for p in problems if "rules is empty" in p.message] == [("scoring.rules", 8)]


def test_error_text_names_file_line_and_field():
    with pytest.raises(RubricError) as info:
        parse_rubric(_mini().replace("version: 1\n", "version: one\n"), "rubrics/mine.yaml")
    assert str(info.value).startswith("rubrics/mine.yaml:3: version:")


def test_non_utf8_rubric_file(tmp_path):
    bad = tmp_path / "latin.yaml"
    bad.write_bytes(_mini().replace("Mini", "Mini caf\xe9").encode("latin-1"))
    with pytest.raises(RubricError) as info:
        load_rubric(bad)
    assert "not UTF-8" in str(info.value) and str(bad) in str(info.value)


def test_unknown_rubric_name():
    with pytest.raises(RubricNotFound):
        resolve_rubric("no-such-rubric")


def test_rubric_check_cli_exit_codes(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["rubric", "check", str(MINI)])
    assert ok.exit_code == 0 and "OK" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(_mini().replace("version: 1\n", "version: one\n"), encoding="utf-8")
    result = runner.invoke(main, ["rubric", "check", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:3: version:" in result.output
    missing = runner.invoke(main, ["rubric", "check", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2


def test_every_shipped_rubric_is_valid():
    root = Path(__file__).parent.parent / "rubrics"
    files = sorted(root.rglob("*.yaml"))
    assert files, "no rubrics shipped"
    for f in files:
        load_rubric(f)


def test_documented_example_is_valid_and_marks():
    """The complete example in rubrics/README.md must stay true."""
    from app.service import mark_text

    readme = (Path(__file__).parent.parent / "rubrics" / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    rubric = parse_rubric(example, "rubrics/README.md")
    result = mark_text(
        "The Provisonal Government was weak and unpopular after the July Days, because Kerensky had failed. "
        "Lenin used the April Theses to persuade the party. As a result the Red Guards took the Winter Palace.",
        rubric,
    )
    found = {c["id"]: c for c in result["concepts"]}
    assert found["provisional_government"]["found"] and found["provisional_government"]["precise"]
    assert found["lenin_leadership"]["found"] and found["military_revolutionary_committee"]["found"]
    assert "counter_argument" not in {s["id"] for s in result["skills"]}
