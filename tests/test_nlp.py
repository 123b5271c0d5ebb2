"""The shared pipeline: canonical word forms, safe fuzzy correction, sentence boundaries, built once."""

from __future__ import annotations

import pytest

from app.nlp import build_nlp, canonicaliser, get_nlp


@pytest.fixture(scope="module")
def nlp():
    nlp = build_nlp()
    canonicaliser(nlp).add_terms(["nomenklatura", "factionalism", "sovnarkom", "centralism", "centralist", "politburo", "commissar"])
    return nlp


def norms(nlp, text):
    return [t.norm_ for t in nlp(text) if not t.is_space]


@pytest.mark.parametrize(
    "a, b",
    [
        ("centralised", "centralized"),
        ("Centralisation", "centralization"),
        ("Factions", "faction"),
        ("Soviets", "soviet"),
        ("colour", "color"),
        ("analysed", "analyzed"),
        ("centre", "center"),
        ("questioned", "question"),
        ("bureaucracies", "bureaucracy"),
    ],
)
def test_spelling_and_inflection_share_one_form(nlp, a, b):
    assert norms(nlp, a) == norms(nlp, b)


@pytest.mark.parametrize(
    "misspelt, term",
    [("nomenclatura", "nomenklatura"), ("Sovnarcom", "sovnarkom"), ("factionalisim", "factionalism"), ("commisars", "commissar"), ("Politbureo", "politburo")],
)
def test_misspellings_of_rubric_terms_are_corrected(nlp, misspelt, term):
    assert norms(nlp, misspelt) == [term]


@pytest.mark.parametrize(
    "word",
    [
        "centralists",  # a rubric word of its own: must not become "centralism"
        "nominated",  # a real English word near nothing
        "factional",  # real word: known words are never "corrected"
        "sovereign",
        "soviet",  # too short for fuzzy matching
    ],
)
def test_fuzzy_correction_leaves_real_words_alone(nlp, word):
    assert norms(nlp, word)[0] not in {"centralism", "nomenklatura", "factionalism", "sovnarkom", "politburo", "commissar"}


@pytest.mark.parametrize("contracted, full", [("It wasn't fair", "It was not fair"), ("They weren't", "They were not"), ("He can't", "He can not")])
def test_contractions_share_canonical_forms(nlp, contracted, full):
    assert norms(nlp, contracted) == norms(nlp, full)


def test_new_terms_apply_to_words_seen_before():
    nlp = build_nlp()
    assert norms(nlp, "photosynthesys") != ["photosynthesis"]
    canonicaliser(nlp).add_terms(["photosynthesis"])
    assert norms(nlp, "photosynthesys") == ["photosynthesis"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ('He said "Go." Then he left.', ['He said "Go."', "Then he left."]),
        ("It was 1923 (under Lenin). Then 1929...", ["It was 1923 (under Lenin).", "Then 1929..."]),
    ],
)
def test_sentence_boundaries(nlp, text, expected):
    assert [s.text.strip() for s in nlp(text).sents] == expected


def test_line_breaks_end_sentences(nlp):
    doc = nlp("The Politburo\n\nA heading without a stop\nThen a sentence. And another.")
    sents = [s.text.strip() for s in doc.sents if s.text.strip()]
    assert sents == ["The Politburo", "A heading without a stop", "Then a sentence.", "And another."]


def test_shared_pipeline_is_built_once():
    assert get_nlp() is get_nlp()
    assert get_nlp().pipe_names == ["essaycoach_canonical", "essaycoach_sentences"]


def test_marker_compiles_each_rubric_content_once(tmp_path):
    from pathlib import Path

    from app.rubric import load_rubric
    from app.service import Marker

    mini = Path(__file__).parent / "data" / "rubrics" / "mini.yaml"
    marker = Marker(build_nlp(), max_rubrics=2)
    first = marker.compiled(load_rubric(mini))
    assert marker.compiled(load_rubric(mini)) is first  # reloaded file, same content: cached
    edited = tmp_path / "edited.yaml"
    edited.write_text(mini.read_text(encoding="utf-8").replace("Loyalists.", "Loyal officials."), encoding="utf-8")
    assert marker.compiled(load_rubric(edited)) is not first  # same id and version, new content
    other = tmp_path / "other.yaml"
    other.write_text(mini.read_text(encoding="utf-8").replace("id: mini", "id: other"), encoding="utf-8")
    marker.compiled(load_rubric(other))
    assert len(marker._compiled) == 2  # bounded


def test_member_matches_numpy_isin():
    import numpy as np

    from app.nlp import member

    rng = np.random.default_rng(7)
    values = rng.integers(0, 2**63, 500, dtype=np.uint64)
    pool = np.unique(np.concatenate([values[::3], rng.integers(0, 2**63, 50, dtype=np.uint64)]))
    assert (member(values, pool) == np.isin(values, pool)).all()
    assert not member(values, np.array([], dtype=np.uint64)).any()
