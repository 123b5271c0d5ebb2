"""The default rubric (rubrics/stalinist-centralisation.yaml) finds each idea however a student words it.

Every concept has sentences that must match (including a misspelling and a paraphrase) and plausible
near-misses that must not; every misconception has wrong statements that must be flagged and correct
statements that must not be. Sentences are marked one at a time with the real spaCy pipeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from app.rubric import load_rubric, parse_rubric
from app.service import mark_text

DEFAULT_RUBRIC_PATH = Path(__file__).resolve().parent.parent / "rubrics" / "stalinist-centralisation.yaml"
REQUIRED_CONCEPTS = {
    "centralisation",
    "politburo",
    "sovnarkom",
    "politburo_dominance",
    "democratic_centralism",
    "soviets",
    "top_down_reality",
    "command_economy",
    "nomenklatura",
    "yes_men",
    "factionalism",
    "one_party_state",
    "stalin_general_secretary",
    "party_elite",
}
REQUIRED_MISCONCEPTIONS = {
    "nomenklatura_stalin_1929",
    "politburo_sovnarkom_swap",
    "democratic_centralism_bottom_up_in_practice",
    "ban_on_factions_date",
}

Marker = Callable[[str], dict[str, Any]]


@pytest.fixture(scope="module")
def mark(default_rubric) -> Marker:
    """Marks a text with the default rubric; results are cached, as many cases share sentences."""
    cache: dict[str, dict[str, Any]] = {}

    def run(text: str) -> dict[str, Any]:
        if text not in cache:
            cache[text] = mark_text(text, default_rubric)
        return cache[text]

    return run


def concept(result: dict[str, Any], cid: str) -> dict[str, Any]:
    matches = [c for c in result["concepts"] if c["id"] == cid]
    assert len(matches) == 1, f"concept {cid} missing from the result"
    return matches[0]


def misconception_ids(result: dict[str, Any]) -> set[str]:
    return {m["id"] for m in result["misconceptions"]}


# -- concepts -------------------------------------------------------------------------------------
# match: must be found (at least one misspelling and one paraphrase each); miss: near-misses.
CONCEPT_CASES: dict[str, dict[str, list[str]]] = {
    "centralisation": {
        "match": [
            "Between 1921 and 1929 the Bolsheviks steadily centralised power.",
            "The centralization of the state went further after Lenin's death.",  # American spelling
            "There was a lot of centralisaton in the party after 1921.",  # misspelling
            "There was a lot of centralasation in the party after 1921.",  # misspelling
            "By 1929 power had become concentrated around Stalin and his allies.",  # paraphrase
            "Decision-making was left to a handful of leaders in Moscow.",  # paraphrase
        ],
        "miss": [
            "The Central Committee met in Moscow several times a year.",
            "Under the NEP some economic decisions were decentralised to local trusts.",
        ],
    },
    "politburo": {
        "match": [
            "The Politburo met every week to decide policy.",
            "Stalin packed the Polit Bureau with his allies.",  # split spelling
            "The Poliburo had only seven members.",  # misspelling
            "Real decisions were taken by the party's inner circle.",  # paraphrase
        ],
        "miss": [
            "The Orgburo handled the party's appointments.",
            "Stalin relied on an inner circle of friends such as Molotov.",
        ],
    },
    "sovnarkom": {
        "match": [
            "Lenin chaired the Sovnarkom until his strokes.",
            "The Sovnarcom was officially the government.",  # misspelling
            "The Council of Peoples Commissars ran the ministries.",  # missing apostrophe
            "Lenin led a council made up of commissars who each ran a ministry.",  # paraphrase
        ],
        "miss": [
            "Trotsky was Commissar for War until 1925.",
            "Red Army units had political commissars to watch the officers.",
        ],
    },
    "politburo_dominance": {
        "match": [
            "The Politburo increasingly overshadowed the Sovnarkom.",
            "Real power lay with the Politburo rather than with the Sovnarkom.",  # paraphrase
            "By the mid-1920s the Sovnarkom simply carried out what the party leaders had decided.",  # paraphrase
            "The Polit Bureau became more powerful than the Sovnarcom.",  # misspellings
            "The party dominated the state.",
            "The Politburo was in effect the real government of Russia.",  # paraphrase
        ],
        "miss": [
            "The Politburo and the Sovnarkom were both important bodies.",
            "The Sovnarkom was chaired by Lenin, and the Politburo met weekly.",
            "The Politburo was the most powerful body in the party.",
        ],
    },
    "democratic_centralism": {
        "match": [
            "Democratic centralism required members to obey decisions.",
            "Under Democratic Centralsim members could argue but not oppose a decision.",  # misspelling
            "Members could discuss a policy freely, but once a decision was taken every member had to obey it.",  # paraphrase
        ],
        "miss": [
            "The Democratic Centralists were an opposition group that wanted more debate.",
            "Lenin claimed to be democratic, but power was centralised.",
        ],
    },
    "soviets": {
        "match": [
            "The soviets were reduced to approving the party's decisions.",
            "The Soveits lost their independence after 1921.",  # misspelling
            "The elected councils of workers and peasants lost their power.",  # paraphrase
            "Each village had its own local soviet.",
        ],
        "miss": [
            "The Soviet Union was formed in 1922.",
            "The Soviet government controlled the press.",
            "Soviet leaders feared another Kronstadt.",
            "Soviet troops crushed the sailors at Kronstadt.",
            "The Council of People's Commissars met in the Kremlin.",
        ],
    },
    "top_down_reality": {
        "match": [
            "In theory the soviets held power, but in practice the party made every decision.",
            "Orders were handed down from Moscow to the local branches.",  # paraphrase
            "It was a top down system.",
            "In theroy the members elected their leaders, but in practise the leadership decided everything.",  # misspellings
            "The local soviets simply did what the party told them.",  # paraphrase
        ],
        "miss": [
            "The top leaders of the party met every week.",
            "In practice the NEP helped the peasants recover.",
            "Lenin did what he said he would do.",
        ],
    },
    "command_economy": {
        "match": [
            "The First Five-Year Plan of 1928 began a command economy.",
            "Gosplan set production targets for every factory.",
            "From 1928 the state decided what every factory produced.",  # paraphrase
            "Stalin wanted a comand economy.",  # misspelling
            "Stalin wanted a command econamy.",  # misspelling
        ],
        "miss": [
            "Under the NEP peasants could sell surplus grain on the market.",
            "The economy was not completely controlled by the government.",
        ],
    },
    "nomenklatura": {
        "match": [
            "The nomenklatura system listed every important post.",
            "Stalin's grip on the nomenklatra helped him.",  # misspelling
            "Stalin's grip on the nomenclatura helped him.",  # misspelling
            "The party kept a list of key posts and of trusted people allowed to fill them.",  # paraphrase
        ],
        "miss": [
            "Stalin drew up a list of his enemies.",
            "Many officials kept their posts throughout the 1920s.",
        ],
    },
    "yes_men": {
        "match": [
            "Stalin surrounded himself with yes-men.",
            "The congresses were full of yes men.",
            "Stalin relied on loyalist officals who never questioned him.",  # misspelling + paraphrase
            "Officials who owed their careers to Stalin would vote for whatever he proposed.",  # paraphrase
        ],
        "miss": [
            "Zinoviev and Kamenev agreed with Stalin in 1924 to isolate Trotsky.",
            "The Red Army stayed loyal to the government during the Kronstadt rising.",
        ],
    },
    "factionalism": {
        "match": [
            "Lenin banned factions at the 10th Party Congress.",
            "Factionalsim was seen as a threat to the party.",  # misspelling
            "The ban on fractions stopped groups organising inside the party.",  # common slip
            "The resolution On Party Unity outlawed organised groups within the party.",  # paraphrase
        ],
        "miss": [
            "Only a fraction of the population were party members.",
            "Many factories closed during the Civil War.",
        ],
    },
    "one_party_state": {
        "match": [
            "By 1921 Russia was a one-party state.",
            "The Mensheviks and SRs were banned and their leaders put on trial.",  # paraphrase
            "The Communists were the only legal party.",
            "The Menshaviks were suppressed.",  # misspelling + paraphrase
        ],
        "miss": [
            "Stalin was the only party leader who understood the apparatus.",
            "The party banned factions in 1921.",
        ],
    },
    "stalin_general_secretary": {
        "match": [
            "In 1922 Stalin became General Secretary.",
            "As general secratary Stalin controlled appointments.",  # misspelling
            "Stalin placed his supporters in key posts across the regions.",  # paraphrase
            "Stalin appointed loyal officials to run the provinces.",  # paraphrase
        ],
        "miss": [
            "Stalin gave a long speech to his supporters at the congress.",
            "Lenin appointed Trotsky to lead the Red Army.",
            "Molotov worked as a secretary in the party offices.",
        ],
    },
    "party_elite": {
        "match": [
            "Party officials enjoyed privileges such as better flats and special shops.",  # paraphrase
            "A new elite emerged, which contradicted the communist idea of equality.",
            "Lenin saw the party as a vangard leading the workers.",  # misspelling
            "The party's leaders lived much better than ordinary workers.",  # paraphrase
            "Lenin believed illiterate peasants could not be trusted to govern themselves, so the party had to lead them.",  # paraphrase
        ],
        "miss": [
            "Before 1917 the nobility were the ruling class.",
            "Communism promised that all workers would be equal.",
            "Most peasants in 1921 were illiterate.",
        ],
    },
}


def _concept_params(kind: str) -> list[Any]:
    return [pytest.param(cid, s, id=f"{cid}: {s[:50]}") for cid, cases in CONCEPT_CASES.items() for s in cases[kind]]


@pytest.mark.parametrize("cid, sentence", _concept_params("match"))
def test_concept_is_found(mark, cid, sentence):
    c = concept(mark(sentence), cid)
    assert c["found"], f"{cid} not found in: {sentence}"
    assert c["evidence"], "a found concept must quote its evidence"


@pytest.mark.parametrize("cid, sentence", _concept_params("miss"))
def test_near_miss_is_not_a_concept(mark, cid, sentence):
    c = concept(mark(sentence), cid)
    assert not c["found"], f"{cid} wrongly found in: {sentence} (evidence: {[e['text'] for e in c['evidence']]})"


def test_every_concept_has_enough_cases(default_rubric):
    assert {c.id for c in default_rubric.concepts} <= set(CONCEPT_CASES), "every concept of the rubric needs cases"
    assert REQUIRED_CONCEPTS <= set(CONCEPT_CASES)
    for cid, cases in CONCEPT_CASES.items():
        assert len(cases["match"]) >= 3 and len(cases["miss"]) >= 2, cid


# -- misconceptions -------------------------------------------------------------------------------
MISCONCEPTION_CASES: dict[str, dict[str, list[str]]] = {
    "nomenklatura_stalin_1929": {
        "flag": [
            "Stalin created the nomenklatura in 1929 to reward his supporters.",
            "The nomenklatura was introduced by Stalin.",
            "The nomenclatura system began in 1928.",  # misspelling, late date
            "Stalin set up the nomenklatura so that he could promote his friends.",
        ],
        "correct": [
            "It was not Stalin but Lenin who created the nomenklatura in 1923.",
            "The nomenklatura, introduced in 1923, was used by Stalin to promote allies.",
            "By 1929 Stalin was using the nomenklatura to promote allies.",
            "Stalin did not create the nomenklatura.",
        ],
    },
    "politburo_sovnarkom_swap": {
        "flag": [
            "The Sovnarkom was the party's inner circle of about seven leaders.",
            "The Politburo had about twenty members, each running a ministry.",
            "The Politburo was the government, made up of ministers who ran each department.",
            "The Sovnarkom had only 7 members.",
            "The Polit Bureau was a large body of 20 commissars.",
        ],
        "correct": [
            "The Politburo had about seven members, while the Sovnarkom had around twenty commissars.",
            "The Sovnarkom was the government, while the Politburo was the party's inner circle.",
            "The Politburo told the commissars in the government what to do.",
            "The Politburo, with only seven members, was more powerful than the Sovnarkom with its twenty commissars.",
        ],
    },
    "democratic_centralism_bottom_up_in_practice": {
        "flag": [
            "In practice, decisions really came up from ordinary party members.",
            "Democratic centralism actually worked from the bottom up.",
            "In reality ordinary members and local soviets still had a genuine say in policy.",
            "In practise, ordinary members decided policy and the leaders listened to them.",
            "But in practice democratic centralism meant that decisions really came from ordinary members up to the leaders.",
        ],
        "correct": [
            "In theory decisions came up from ordinary members, but in practice they came from the top.",
            "In practice ordinary members had no real say.",
            "Democratic centralism was meant to work from the bottom up, but it never did.",
            "In reality the local soviets lost all their power to the party.",
            "In practice, decisions flowed from the Politburo down to ordinary members.",
        ],
    },
    "ban_on_factions_date": {
        "flag": [
            "Factions were banned in 1927.",
            "In 1924 the party banned factions.",
            "The 1925 ban on factions silenced Trotsky.",
            "Factions were banned at the 15th Party Congress.",
            "Factionalism was outlawed by Lenin in 1918.",
        ],
        "correct": [
            "Factions were banned in 1921 at the 10th Party Congress.",
            "In 1927 Stalin used the ban on factions to expel Trotsky.",
            "The ban on factions, passed in 1921, was used against the United Opposition in 1926.",
            "Factions were banned in 1921, and in 1927 Trotsky was expelled for factionalism.",
            "Factions were banned in 1921 and not in 1927 as some students think.",
        ],
    },
}


def _misconception_params(kind: str) -> list[Any]:
    return [pytest.param(mid, s, id=f"{mid}: {s[:50]}") for mid, cases in MISCONCEPTION_CASES.items() for s in cases[kind]]


@pytest.mark.parametrize("mid, sentence", _misconception_params("flag"))
def test_misconception_is_flagged(mark, mid, sentence):
    result = mark(sentence)
    assert mid in misconception_ids(result), f"{mid} not flagged in: {sentence}"
    flagged = next(m for m in result["misconceptions"] if m["id"] == mid)
    assert flagged["message"] and flagged["evidence"]


@pytest.mark.parametrize("mid, sentence", _misconception_params("correct"))
def test_correct_statement_is_not_flagged(mark, mid, sentence):
    assert mid not in misconception_ids(mark(sentence)), f"{mid} wrongly flagged in: {sentence}"


def test_every_misconception_has_enough_cases():
    assert set(MISCONCEPTION_CASES) == REQUIRED_MISCONCEPTIONS
    for mid, cases in MISCONCEPTION_CASES.items():
        assert len(cases["flag"]) >= 3 and len(cases["correct"]) >= 2, mid


# -- evidence spans and precision -----------------------------------------------------------------
@pytest.mark.parametrize(
    "text, cid, expected",
    [
        ("Stalin surrounded himself with yes-men.", "yes_men", "yes-men"),
        ("Stalin packed the Polit Bureau with his allies.", "politburo", "Polit Bureau"),
        ("Later, the Sovnarcom was officially the government.", "sovnarkom", "Sovnarcom"),
        ("The party grew. It was a top down system.", "top_down_reality", "top down system"),
        ("After Kronstadt, Lenin banned factions. Each village had its own local soviet.", "soviets", "local soviet"),
        ("Under Democratic Centralsim members could argue but not oppose a decision.", "democratic_centralism", "Democratic Centralsim"),
    ],
)
def test_concept_evidence_points_at_the_words(mark, text, cid, expected):
    c = concept(mark(text), cid)
    assert c["found"]
    ev = c["evidence"][0]
    assert ev["text"] == expected
    assert text[ev["start"] : ev["end"]] == expected
    assert expected in ev["sentence"]


@pytest.mark.parametrize(
    "text, mid, expected",
    [
        ("Trotsky lost. Factions were banned in 1927.", "ban_on_factions_date", "Factions were banned in 1927"),
        ("The Sovnarkom had only 7 members.", "politburo_sovnarkom_swap", "Sovnarkom had only 7 members"),
    ],
)
def test_misconception_evidence_points_at_the_words(mark, text, mid, expected):
    flagged = [m for m in mark(text)["misconceptions"] if m["id"] == mid]
    assert flagged
    ev = flagged[0]["evidence"][0]
    assert ev["text"] == expected == text[ev["start"] : ev["end"]]


@pytest.mark.parametrize(
    "text, cid, precise",
    [
        ("The nomenklatura was set up in 1923 to control appointments.", "nomenklatura", True),
        ("The nomenklatura gave the centre control over appointments.", "nomenklatura", False),
        ("Lenin banned factions at the Tenth Party Congress.", "factionalism", True),
        ("Lenin banned factions because he feared a split.", "factionalism", False),
        ("Stalin became General Secretary in 1922.", "stalin_general_secretary", True),
        ("Stalin became General Secretary and used the post well.", "stalin_general_secretary", False),
    ],
)
def test_precision(mark, text, cid, precise):
    c = concept(mark(text), cid)
    assert c["found"] and c["precise"] is precise


def test_soviet_union_trap_paragraph(mark):
    """Saying "Soviet" a lot, and naming the Democratic Centralists group, is not discussing soviets or democratic centralism."""
    text = (
        "The Soviet Union was created in 1922 and the Soviet state was led by Lenin. "
        "The Soviet government faced opposition from the Democratic Centralists, who wanted more democracy. "
        "Soviet leaders were worried, and Soviet Russia was poor after the Civil War."
    )
    result = mark(text)
    assert not concept(result, "soviets")["found"]
    assert not concept(result, "democratic_centralism")["found"]


# -- the rubric file itself -----------------------------------------------------------------------
def test_rubric_has_the_required_ids_and_validates(default_rubric):
    assert default_rubric.id == "stalinist-centralisation"
    assert default_rubric.version == 1 and default_rubric.subject == "History"
    assert default_rubric.questions[0] == "To what extent was power in the Soviet state centralised in the hands of a few in the years 1921-1929?"
    assert REQUIRED_CONCEPTS <= {c.id for c in default_rubric.concepts}
    assert {m.id for m in default_rubric.misconceptions} == REQUIRED_MISCONCEPTIONS
    # parse_rubric runs every check, including token patterns against spaCy's Matcher
    again = parse_rubric(DEFAULT_RUBRIC_PATH.read_text(encoding="utf-8"), str(DEFAULT_RUBRIC_PATH))
    assert again == load_rubric(DEFAULT_RUBRIC_PATH)
    for c in default_rubric.concepts:
        assert c.label and c.why and c.feedback.found and c.feedback.missing, c.id
    for m in default_rubric.misconceptions:
        assert len(m.correction) > 40, m.id


def test_levels_reward_argument_not_keywords(default_rubric):
    levels = default_rubric.levels_sorted()
    assert [(lv.level, lv.marks) for lv in levels] == [(1, (1, 5)), (2, (6, 10)), (3, (11, 15)), (4, (16, 20)), (5, (21, 25))]
    assert default_rubric.scale.marks == (0, 25)
    starts = ["irrelevant or extremely vague", "descriptive or partial", "some analysis, generalised support", "analytical, some judgement", "fully analytical, sustained and substantiated judgement"]
    for lv, start in zip(levels, starts):
        assert lv.descriptor.lower().startswith(start), lv.level
    skills = {lv.level: set(lv.requires_skills) for lv in levels}
    assert "explanation" in skills[3]
    assert {"explanation", "judgement"} <= skills[4]
    assert {"explanation", "judgement", "counter_argument", "evidence"} <= skills[5]
    for lower, higher in zip(levels, levels[1:]):
        assert higher.min_score > lower.min_score
        assert higher.min_developed >= lower.min_developed


def test_naming_every_term_without_argument_stays_low(mark):
    """A list of the right words, with no explanation or judgement, must not reach Level 3."""
    text = (
        "Centralisation. The Politburo. The Sovnarkom. Democratic centralism. The soviets. "
        "The nomenklatura. Yes-men. Factionalism. A one-party state. The General Secretary. "
        "A command economy. A party elite. A top-down system. These were all part of Soviet power."
    )
    result = mark(text)
    assert sum(c["found"] for c in result["concepts"]) >= 10
    assert result["level"] <= 2
