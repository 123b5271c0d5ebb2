"""Generate a reproducible corpus of synthetic ~550-word essays for the speed benchmark.

Sentences come from the project's own sample essays (real student vocabulary, so the tokenizer baseline
is not flattered by a tiny vocabulary) mixed with templated sentences, with about one typo in fifty words.
"""

from __future__ import annotations

import random
import re
from functools import cache
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "app" / "samples"


@cache
def sample_sentences() -> tuple[str, ...]:
    out = []
    for f in sorted(SAMPLES.rglob("*.txt")):
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", f.read_text(encoding="utf-8")) if len(s.split()) >= 6]
    return tuple(out)

OPENERS = [
    "Power in the Soviet state was {deg} centralised between 1921 and 1929.",
    "To {deg2} extent, the years after the Civil War saw power pass into the hands of a few.",
    "Historians disagree about how far {actor} controlled the party by {year}.",
]
SENTENCES = [
    "The {body} met {freq} and {verb} the decisions that mattered most.",
    "{actor} used the post of General Secretary to appoint {people} to key jobs in {year}.",
    "This meant that local {org} had little real say, because orders came from Moscow.",
    "However, it could be argued that {actor} still faced opposition from {rival} until {year}.",
    "The nomenklatura system, introduced in 1923, gave the party control over {count} appointments.",
    "Democratic centralism promised debate before decisions, but in practice it meant obedience.",
    "As a result, the Sovnarkom lost influence to the Politburo, which had only {small} members.",
    "The ban on factions at the Tenth Party Congress in 1921 made open opposition {adj}.",
    "Loyal officials who never questioned the leader filled the {org} by the late 1920s.",
    "{rival} warned that the party was becoming a privileged elite cut off from the workers.",
    "The New Economic Policy allowed some private trade, which {verb2} the idea of a command economy.",
    "Overall, the evidence suggests that a small group around {actor} held {deg} power.",
    "Local soviets continued to meet, yet they mostly approved what the {body} had decided.",
    "In {year} {count} delegates attended the congress, but few spoke against the leadership.",
    "Peasants in the villages of {place} rarely saw the party officials who ruled them.",
    "The secret police, the Cheka and later the OGPU, watched anyone who criticised {actor}.",
    "Admittedly, {actor} did not yet rule alone, since the {body} still argued over policy.",
    "On balance, this shows that centralisation was {adj2} by the end of the decade.",
]
FILL = {
    "deg": ["largely", "only partly", "increasingly", "to a great extent", "heavily"],
    "deg2": ["a large", "some", "a limited", "a considerable"],
    "actor": ["Stalin", "Lenin", "the Politburo", "Zinoviev", "Kamenev", "Bukharin", "the Secretariat"],
    "year": [str(y) for y in range(1918, 1933)],
    "body": ["Politburo", "Orgburo", "Secretariat", "Central Committee", "Sovnarkom"],
    "freq": ["weekly", "often", "in secret", "every few days", "regularly"],
    "verb": ["took", "shaped", "approved", "controlled", "settled"],
    "verb2": ["complicated", "weakened", "contradicted", "delayed"],
    "people": ["his supporters", "loyal officials", "reliable secretaries", "young party members"],
    "org": ["soviets", "party committees", "trade unions", "regional offices"],
    "rival": ["Trotsky", "the Workers' Opposition", "the Left Opposition", "Bukharin", "Tomsky"],
    "count": ["5,000", "several thousand", "1,300", "over 700", "about 20,000"],
    "small": ["seven", "eight", "nine", "a handful of"],
    "adj": ["dangerous", "almost impossible", "rare", "risky"],
    "adj2": ["far advanced", "incomplete", "almost total", "growing"],
    "place": ["Ukraine", "Siberia", "the Volga", "Tambov", "Belarus"],
}


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 7 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if rng.random() < 0.5 else word[:i] + word[i + 1 :]


def _fill(template: str, rng: random.Random) -> str:
    for key, options in FILL.items():
        while "{" + key + "}" in template:
            template = template.replace("{" + key + "}", rng.choice(options), 1)
    return template


def essay(rng: random.Random, target_words: int = 550) -> str:
    paragraphs: list[list[str]] = [[_fill(rng.choice(OPENERS), rng)]]
    words = 0
    while words < target_words:
        if len(paragraphs[-1]) >= rng.randint(4, 7):
            paragraphs.append([])
        s = rng.choice(sample_sentences()) if rng.random() < 0.7 else _fill(rng.choice(SENTENCES), rng)
        # Students misspell: about one word in fifty.
        s = " ".join(_typo(w, rng) if rng.random() < 0.02 else w for w in s.split())
        paragraphs[-1].append(s)
        words += len(s.split())
    return "\n\n".join(" ".join(p) for p in paragraphs)


def write_corpus(folder: Path, n: int = 1000, seed: int = 2026) -> list[Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"essay-{i:04d}.txt"
        p.write_text(essay(rng), encoding="utf-8")
        paths.append(p)
    return paths
