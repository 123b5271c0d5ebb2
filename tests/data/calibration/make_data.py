"""Write the synthetic marked essays for tests/test_calibrate.py (run from the repository root; output is committed).

Every essay is built from sentences naming 0-3 stages of the water cycle, some with a factual slip (the sea
boils). The rubric's rules give one point per stage and ignore the slip. Two synthetic teachers:
- marked.csv: the teacher takes one mark off for the slip (never below 0): teacher = rubric mark - slip;
- agree.csv: the teacher gives exactly the rubric's mark, so calibration has nothing to add.
No public data is used.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = {
    "evaporation": [
        "The sun warms the sea and the water evaporates into the air.",
        "Water evaporates from lakes and puddles on warm days.",
        "Heat makes the water evaporate and rise as vapour.",
    ],
    "condensation": [
        "High up the vapour cools and condenses into tiny droplets.",
        "The vapour condenses to form clouds.",
        "In the cold air it condenses into clouds.",
    ],
    "precipitation": [
        "Then it falls back down as rain.",
        "The droplets grow heavy and fall as rain or snow.",
        "Finally the water comes back to the ground as rain.",
    ],
}
SLIP = ["First the sun makes the sea boil.", "The sea is boiling when this starts.", "The water has to boil in the sun."]
FILLER = [
    "The water cycle never stops.",
    "It matters for every living thing on Earth.",
    "Rivers carry the water back to the ocean.",
]


def essays() -> list[tuple[str, str, int, bool]]:
    """(id, text, stages named, slip) for every set of stages, with and without the slip, in three wordings."""
    out = []
    names = list(STAGES)
    for variant in range(3):
        for k in range(len(names) + 1):
            for stages in itertools.combinations(names, k):
                for slip in (False, True):
                    parts = [STAGES[s][(variant + i) % 3] for i, s in enumerate(stages)]
                    if slip:
                        parts.insert(min(1, len(parts)), SLIP[variant])
                    parts.append(FILLER[variant])
                    eid = f"v{variant}-{'-'.join(s[:4] for s in stages) or 'none'}{'-slip' if slip else ''}"
                    out.append((eid, " ".join(parts), len(stages), slip))
    return out


def main() -> None:
    rows = essays()
    for name, teacher in (("marked.csv", lambda n, slip: max(0, n - slip)), ("agree.csv", lambda n, slip: n)):
        with (HERE / name).open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "text", "mark"])
            for eid, text, n, slip in rows:
                w.writerow([eid, text, teacher(n, slip)])


if __name__ == "__main__":
    main()
