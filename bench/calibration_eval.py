"""Calibration on public data (not a test): rubric-only vs calibrated agreement when a teacher marks 20, 50 or 200 answers.

For each data set and training size N, each draw takes N answers at random as "the teacher's marked essays",
runs exactly what `essaycoach train` runs on them (5-fold cross-validation, bootstrap intervals, the adoption
rule, the final fit), then measures the rubric-only and calibrated marks on every other answer (held out),
plus the mark marking would show (calibrated only when the rule recommended it). Mean ± sd over draws.

- ASAP-SAS sets 1 and 6 with rubrics/examples/asap-set{1,6}.yaml; teacher = the public leaderboard's Score.
- Mohler (UNT CS short answers, 81 questions): no rubric exists, so each question gets an automatic points
  rubric built from its reference answer alone (one concept per distinct content word, mark = round(5 x share
  found)); teacher = grader "me", and the second grader gives the human-human agreement on the same answers.
  One model is trained across all questions on the features every rubric shares (GENERIC_FEATURES).

Usage: .venv/bin/python bench/calibration_eval.py [--data ../shared/datasets] [--draws 10] [--out bench/out/calibration_eval.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.calibrate import GENERIC_FEATURES, cross_validated_marks, feature_matrix, feature_names, fit, result_features  # noqa: E402
from app.calibrate_report import BOOTSTRAP, build_report  # noqa: E402
from app.evaluate import exact_agreement, quadratic_weighted_kappa, read_dataset, standardised_mean_difference  # noqa: E402
from app.nlp import get_nlp  # noqa: E402
from app.rubric import Rubric, load_rubric, parse_rubric  # noqa: E402
from app.service import Marker, mark_text  # noqa: E402

SIZES = (20, 50, 200)
MOHLER_SCALE = (0, 5)


@dataclass
class Corpus:
    name: str
    scale: tuple[int, int]
    names: list[str]  # features the model may use
    x: np.ndarray
    teacher: np.ndarray
    rubric_only: np.ndarray
    second: np.ndarray | None  # a second human's marks on the same answers, when the data has them
    ids: list[str]


def _half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


# -- ASAP-SAS -----------------------------------------------------------------
def asap(data: Path, marker: Marker, essay_set: str) -> Corpus:
    rubric = load_rubric(ROOT / "rubrics" / "examples" / f"asap-set{essay_set}.yaml")
    ds = read_dataset(data / "asap-sas" / "asap_sas_public_test_scored.tsv", scale=(rubric.min_mark, rubric.max_mark),
                      concept_ids=[c.id for c in rubric.concepts], where={"EssaySet": [essay_set]})
    rows, teacher, ids = [], [], []
    for e in ds.essays:
        result = mark_text(e.text, rubric, source=e.id, marker=marker)
        rows.append(result_features(result, e.text))
        teacher.append(e.human)
        ids.append(e.id)
    names = feature_names(rubric)
    x = feature_matrix(rows, names)
    return Corpus(f"ASAP-SAS set {essay_set}", (rubric.min_mark, rubric.max_mark), names, x, np.array(teacher),
                  x[:, 0].astype(int), None, ids)


# -- Mohler -------------------------------------------------------------------
def reference_rubric(qid: str, question: str, reference: str, nlp: Any) -> Rubric:
    """A points rubric from the reference answer alone: each distinct content word is a concept; mark = round(5 x share found)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    seen: dict[str, str] = {}
    for token in nlp(reference):
        word = token.lower_
        if not re.fullmatch(r"[a-z][a-z\-]+", word) or word in STOP_WORDS or token.norm_ in STOP_WORDS:
            continue
        seen.setdefault(token.norm_, word)  # the engine's canonical form: "functions" and "function" are one concept
    words = list(seen.values()) or [w.lower() for w in re.findall(r"[A-Za-z]+", reference)][:1]
    n = len(words)
    lo, hi = MOHLER_SCALE
    rules = [{"points": p, "min_elements": max(1, math.ceil(n * (p - 0.5) / hi - 1e-9))} for p in range(hi, lo, -1)]
    concepts = [{"id": f"w{i}-{re.sub('[^a-z0-9]', '', w)[:40] or 'x'}", "label": w, "why": "A content word of the reference answer.", "phrases": [w]} for i, w in enumerate(words)]
    doc = {
        "id": f"mohler-{qid.replace('.', '-')}", "title": f"Mohler {qid}", "version": 1, "subject": "Computer science",
        "questions": [question], "scale": {"points": list(MOHLER_SCALE)},
        "scoring": {"method": "points", "min_words": 1, "rules": rules}, "concepts": concepts,
    }
    import yaml

    return parse_rubric(yaml.safe_dump(doc, sort_keys=False), f"<mohler {qid}>")


def mohler(data: Path, marker: Marker) -> Corpus:
    base = data / "mohler"
    excluded = {line[1:].strip() for line in (base / "original_v2.0" / "data" / "docs" / "files").read_text().splitlines() if line.startswith("#")}
    with (base / "questions.tsv").open(encoding="utf-8", newline="") as f:
        questions = {r["id"]: r for r in csv.DictReader(f, delimiter="\t")}
    rubrics = {qid: reference_rubric(qid, q["question"], q["solution"], marker.nlp) for qid, q in questions.items() if qid not in excluded}
    rows, teacher, second, rubric_only, ids = [], [], [], [], []
    with (base / "answers.tsv").open(encoding="utf-8", newline="") as f:
        for i, r in enumerate(csv.DictReader(f, delimiter="\t")):
            qid = r["id"]
            if qid not in rubrics or not r["answer"].strip():
                continue
            per = 2.0 if qid.split(".")[0] in ("11", "12") else 1.0  # the exams are marked 0-10 in this file
            result = mark_text(r["answer"], rubrics[qid], source=qid, marker=marker)
            rows.append(result_features(result, r["answer"]))
            teacher.append(_half_up(float(r["score_me"]) / per))
            second.append(_half_up(float(r["score_other"]) / per))
            rubric_only.append(result["rubric_mark"])
            ids.append(f"{qid}#{i}")
    names = list(GENERIC_FEATURES)
    return Corpus("Mohler (81 questions)", MOHLER_SCALE, names, feature_matrix(rows, names), np.array(teacher), np.array(rubric_only), np.array(second), ids)


# -- one draw -----------------------------------------------------------------
def draw(c: Corpus, n: int, seed: int, folds: int, resamples: int) -> dict[str, Any]:
    lo, hi = c.scale
    labels = list(range(lo, hi + 1))
    order = np.random.default_rng(seed).permutation(len(c.teacher))
    train, test = order[:n], order[n:]
    y_tr, y_te = c.teacher[train], c.teacher[test]
    out: dict[str, Any] = {
        "rubric_qwk": quadratic_weighted_kappa(y_te.tolist(), c.rubric_only[test].tolist(), labels),
        "rubric_exact": exact_agreement(y_te.tolist(), c.rubric_only[test].tolist()),
        "rubric_smd": standardised_mean_difference(y_te.tolist(), c.rubric_only[test].tolist()),
    }
    if c.second is not None:
        out["human_qwk"] = quadratic_weighted_kappa(y_te.tolist(), c.second[test].tolist(), labels)
        out["human_exact"] = exact_agreement(y_te.tolist(), c.second[test].tolist())
    if len(set(y_tr.tolist())) < 2:  # `essaycoach train` refuses this: nothing to learn
        out.update(trainable=False, recommended=False, shown_qwk=out["rubric_qwk"])
        return out
    k = min(folds, n)
    cv = cross_validated_marks(c.x[train], y_tr, c.names, lo, hi, folds=k, seed=seed)
    essays = [{"id": c.ids[i], "row": None, "text": ""} for i in train]
    report = build_report(essays, y_tr.tolist(), cv.tolist(), c.rubric_only[train].tolist(), scale=c.scale, folds=k, seed=seed, resamples=resamples)
    model = fit(c.x[train], y_tr, c.names, lo, hi)
    cal = model.marks(c.x[test])
    out.update(
        trainable=True,
        cv_qwk=report["calibrated"]["qwk"],
        cv_rubric_qwk=report["rubric_only"]["qwk"],
        recommended=report["recommended"],
        cal_qwk=quadratic_weighted_kappa(y_te.tolist(), cal.tolist(), labels),
        cal_exact=exact_agreement(y_te.tolist(), cal.tolist()),
        cal_smd=standardised_mean_difference(y_te.tolist(), cal.tolist()),
    )
    out["shown_qwk"] = out["cal_qwk"] if report["recommended"] else out["rubric_qwk"]
    return out


def _ms(values: list[Any], pct: bool = False) -> str:
    v = [float(x) for x in values if x is not None]
    if not v:
        return "-"
    scale = 100 if pct else 1
    fmt = "{:.1f}" if pct else "{:.3f}"
    sd = statistics.pstdev(v) * scale if len(v) > 1 else 0.0
    return f"{fmt.format(statistics.mean(v) * scale)} ± {fmt.format(sd)}"


def table(results: dict[str, dict[int, list[dict[str, Any]]]]) -> str:
    head = ("| data | N | rubric-only QWK | calibrated QWK | CV estimate (on the N) | recommended | QWK shown | rubric-only exact | calibrated exact | human-human QWK |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for name, by_n in results.items():
        for n, draws in by_n.items():
            ok = [d for d in draws if d["trainable"]]
            lines.append(
                f"| {name} | {n} | {_ms([d['rubric_qwk'] for d in draws])} | {_ms([d['cal_qwk'] for d in ok])} | {_ms([d['cv_qwk'] for d in ok])} "
                f"| {sum(d['recommended'] for d in draws)}/{len(draws)} | {_ms([d['shown_qwk'] for d in draws])} "
                f"| {_ms([d['rubric_exact'] for d in draws], True)}% | {_ms([d['cal_exact'] for d in ok], True)}% "
                f"| {_ms([d.get('human_qwk') for d in draws]) if 'human_qwk' in draws[0] else '-'} |"
            )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--draws", type=int, default=10)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--resamples", type=int, default=BOOTSTRAP)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "calibration_eval.json")
    args = ap.parse_args()
    t0 = time.perf_counter()
    marker = Marker(get_nlp())
    corpora = [asap(args.data, marker, "1"), asap(args.data, marker, "6"), mohler(args.data, marker)]
    print(f"marked {sum(len(c.teacher) for c in corpora)} answers in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    results: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for c in corpora:
        results[c.name] = {}
        for n in SIZES:
            results[c.name][n] = [draw(c, n, seed, args.folds, args.resamples) for seed in range(args.draws)]
            print(f"{c.name} N={n} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    whole = {c.name: {"n": len(c.teacher), "rubric_qwk_all": quadratic_weighted_kappa(c.teacher.tolist(), c.rubric_only.tolist(), list(range(c.scale[0], c.scale[1] + 1))),
                      "human_qwk_all": quadratic_weighted_kappa(c.teacher.tolist(), c.second.tolist(), list(range(c.scale[0], c.scale[1] + 1))) if c.second is not None else None}
             for c in corpora}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"draws": args.draws, "folds": args.folds, "resamples": args.resamples, "whole": whole, "results": results}, indent=1))
    print(table(results))
    print()
    for name, w in whole.items():
        extra = f", human-human QWK {w['human_qwk_all']:.3f}" if w["human_qwk_all"] is not None else ""
        print(f"{name}: {w['n']} answers, rubric-only QWK on all {w['rubric_qwk_all']:.3f}{extra}")


if __name__ == "__main__":
    main()
