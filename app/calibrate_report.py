"""The calibration report: cross-validated agreement with bootstrap intervals beside the rubric-only mark, and the verdict."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .evaluate import (
    QWK_THRESHOLD,
    SMD_THRESHOLD,
    _num,
    _pct,
    _snippet,
    adjacent_agreement,
    confusion,
    exact_agreement,
    pearson,
    quadratic_weighted_kappa,
    standardised_mean_difference,
)

INTERVAL = 0.90  # two-sided; the adoption rule uses its lower end, i.e. a one-sided 95% test
BOOTSTRAP = 1000
MIN_ESSAYS = 20


def agreement(teacher: Sequence[int], machine: Sequence[int], labels: Sequence[int]) -> dict[str, Any]:
    """The evaluation's metrics (app.evaluate) for one set of machine marks against the teacher's."""
    return {
        "qwk": quadratic_weighted_kappa(teacher, machine, labels),
        "exact_agreement": exact_agreement(teacher, machine),
        "adjacent_agreement": adjacent_agreement(teacher, machine),
        "smd": standardised_mean_difference(teacher, machine),
        "pearson": pearson(teacher, machine),
        "mean": float(np.mean(machine)),
        "sd": float(np.std(machine)),
        "confusion": confusion(teacher, machine, labels),
    }


def _kappa(t: np.ndarray, m: np.ndarray, labels: Sequence[int]) -> float:
    value = quadratic_weighted_kappa(t.tolist(), m.tolist(), labels)
    return np.nan if value is None else value


def bootstrap(
    teacher: Sequence[int], calibrated: Sequence[int], rubric: Sequence[int], labels: Sequence[int], *, resamples: int = BOOTSTRAP, seed: int = 0
) -> dict[str, Any]:
    """Percentile intervals from resampling essays (pairs kept together) over the cross-validated marks.

    The gain is paired: each resample scores both marks on the same essays, so the interval of the
    difference is much narrower than the two kappa intervals side by side suggest.
    """
    t, c, r = (np.asarray(v, dtype=int) for v in (teacher, calibrated, rubric))
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in ("cal_qwk", "rub_qwk", "cal_exact", "rub_exact", "cal_adjacent", "rub_adjacent", "gain")}
    for _ in range(resamples):
        i = rng.integers(0, len(t), len(t))
        cq, rq = _kappa(t[i], c[i], labels), _kappa(t[i], r[i], labels)
        draws["cal_qwk"].append(cq)
        draws["rub_qwk"].append(rq)
        draws["gain"].append(cq - (0.0 if np.isnan(rq) else rq))  # an undefined rubric kappa: no agreement beyond chance
        draws["cal_exact"].append(float(np.mean(t[i] == c[i])))
        draws["rub_exact"].append(float(np.mean(t[i] == r[i])))
        draws["cal_adjacent"].append(float(np.mean(np.abs(t[i] - c[i]) <= 1)))
        draws["rub_adjacent"].append(float(np.mean(np.abs(t[i] - r[i]) <= 1)))
    tail = 100 * (1 - INTERVAL) / 2
    out: dict[str, Any] = {}
    for key, values in draws.items():
        arr = np.asarray(values, dtype=float)
        arr = arr[~np.isnan(arr)]
        out[key] = [float(np.percentile(arr, tail)), float(np.percentile(arr, 100 - tail))] if len(arr) else None
    gains = np.asarray(draws["gain"], dtype=float)
    gains = gains[~np.isnan(gains)]
    out["share_better"] = float(np.mean(gains > 0)) if len(gains) else 0.0
    return out


def verdict(cal_qwk: float | None, rub_qwk: float | None, gain_interval: Sequence[float] | None) -> tuple[bool, str]:
    """The adoption rule: recommended only when calibration beats the rubric-only kappa and the gain's interval is above 0."""
    rub = 0.0 if rub_qwk is None else rub_qwk
    if cal_qwk is None:
        return False, "Not recommended: the calibrated marks' kappa is undefined (it gives every essay the same mark)."
    gain = cal_qwk - rub
    if gain <= 0:
        return False, f"Not recommended: calibration does not beat the rubric-only mark (QWK {cal_qwk:.3f} vs {rub:.3f}); keep the rubric's marks."
    if gain_interval is None or gain_interval[0] <= 0:
        span = f"{gain_interval[0]:+.3f} to {gain_interval[1]:+.3f}" if gain_interval else "undefined"
        return False, (
            f"Not recommended: calibration is ahead by {gain:.3f} QWK, but the {INTERVAL:.0%} interval of the gain ({span}) "
            "includes no gain; mark more essays and train again."
        )
    return True, f"Recommended: calibration beats the rubric-only mark by {gain:.3f} QWK ({INTERVAL:.0%} interval {gain_interval[0]:+.3f} to {gain_interval[1]:+.3f})."


def flags(metrics: Mapping[str, Any], who: str) -> list[dict[str, str]]:
    """RSMTool's warnings: kappa below 0.70, |SMD| above 0.15."""
    out = []
    qwk, smd = metrics["qwk"], metrics["smd"]
    if qwk is None or qwk < QWK_THRESHOLD:
        out.append({"id": "low_qwk", "message": f"{who}: quadratic weighted kappa {_num(qwk)} is below {QWK_THRESHOLD:.2f}"})
    if smd is not None and abs(smd) > SMD_THRESHOLD:
        direction = "higher" if smd > 0 else "lower"
        out.append({"id": "high_smd", "message": f"{who}: |SMD| {abs(smd):.3f} is above {SMD_THRESHOLD:.2f} (marks {direction} than the teacher)"})
    return out


def build_report(
    essays: Sequence[Mapping[str, Any]],
    teacher: Sequence[int],
    calibrated: Sequence[int],
    rubric_only: Sequence[int],
    *,
    scale: tuple[int, int],
    folds: int,
    seed: int,
    resamples: int = BOOTSTRAP,
    top: int = 10,
) -> dict[str, Any]:
    """Every number of the calibration report as one JSON-ready dict; `essays` are {id, row, text} in the marks' order."""
    lo, hi = scale
    labels = list(range(lo, hi + 1))
    cal = agreement(teacher, calibrated, labels)
    rub = agreement(teacher, rubric_only, labels)
    boot = bootstrap(teacher, calibrated, rubric_only, labels, resamples=resamples, seed=seed)
    cal["intervals"] = {"qwk": boot["cal_qwk"], "exact_agreement": boot["cal_exact"], "adjacent_agreement": boot["cal_adjacent"]}
    rub["intervals"] = {"qwk": boot["rub_qwk"], "exact_agreement": boot["rub_exact"], "adjacent_agreement": boot["rub_adjacent"]}
    recommended, message = verdict(cal["qwk"], rub["qwk"], boot["gain"])
    gain = None if cal["qwk"] is None else cal["qwk"] - (rub["qwk"] or 0.0)
    rows = sorted(
        (i for i in range(len(teacher)) if calibrated[i] != teacher[i]),
        key=lambda i: (-abs(calibrated[i] - teacher[i]), -abs(rubric_only[i] - teacher[i]), i),
    )
    worst = [
        {
            "id": essays[i]["id"],
            "row": essays[i].get("row"),
            "teacher": int(teacher[i]),
            "calibrated": int(calibrated[i]),
            "rubric_only": int(rubric_only[i]),
            "difference": int(calibrated[i]) - int(teacher[i]),
            "text": _snippet(str(essays[i].get("text", ""))),
        }
        for i in rows[:top]
    ]
    return {
        "n": len(teacher),
        "scale": [lo, hi],
        "validation": {"method": "k-fold cross-validation", "folds": folds, "seed": seed, "bootstrap_resamples": resamples, "interval": INTERVAL},
        "teacher": {"mean": float(np.mean(teacher)), "sd": float(np.std(teacher)), "counts": [int(np.sum(np.asarray(teacher) == m)) for m in labels]},
        "calibrated": cal,
        "rubric_only": rub,
        "gain": {"qwk": gain, "interval": boot["gain"], "share_better": boot["share_better"]},
        "recommended": recommended,
        "verdict": message,
        "thresholds": {"qwk_min": QWK_THRESHOLD, "smd_max_abs": SMD_THRESHOLD},
        "flags": flags(cal, "calibrated") + flags(rub, "rubric-only"),
        "disagreements": len(rows),
        "most_disagreed": worst,
    }


def _interval(values: Sequence[float] | None, fmt: Any) -> str:
    return "" if not values else f"[{fmt(values[0])}, {fmt(values[1])}]"


def format_report(report: Mapping[str, Any]) -> str:
    """The training report as plain text for a terminal (a page renders the same dict)."""
    r = report
    out: list[str] = []
    rub = r.get("rubric", {})
    if rub:
        out.append(f"Calibration for rubric {rub['id']} v{rub['version']} ({rub['title']})")
    if "data" in r:
        read = f"{r['rows_read']} rows read"
        if r.get("where"):
            read += f", {r['filtered_out']} left out by --where " + " and ".join(f"{c}={'|'.join(v)}" for c, v in r["where"].items())
        if r.get("skipped_empty"):
            read += f", {r['skipped_empty']} skipped (empty text)"
        if r.get("not_marked"):
            read += f", {len(r['not_marked'])} not marked by the engine"
        out.append(f"Data: {r['data']}  ({read})")
    v = r["validation"]
    out.append(
        f"{r['n']} essays marked by the teacher on the scale {r['scale'][0]}-{r['scale'][1]}; agreement is cross-validated "
        f"({v['folds']}-fold: every essay marked by a model that never saw it), {v['interval']:.0%} intervals from {v['bootstrap_resamples']} bootstrap resamples"
    )
    out.append("")
    cal, base = r["calibrated"], r["rubric_only"]
    width = 24
    out.append(f"  {'':<26}{'calibrated':>{width}}  {'rubric only':>{width}}")
    rows = [
        ("Quadratic weighted kappa", "qwk", lambda x: _num(x)),
        ("Exact agreement", "exact_agreement", _pct),
        ("Adjacent agreement (±1)", "adjacent_agreement", _pct),
    ]
    for name, key, fmt in rows:
        cells = [f"{fmt(m[key]) if m[key] is not None else 'undefined'} {_interval(m['intervals'].get(key), fmt)}" for m in (cal, base)]
        out.append(f"  {name:<26}{cells[0]:>{width}}  {cells[1]:>{width}}")
    out.append(f"  {'Standardised mean diff.':<26}{_num(cal['smd']):>{width}}  {_num(base['smd']):>{width}}")
    out.append(f"  {'Pearson r':<26}{_num(cal['pearson']):>{width}}  {_num(base['pearson']):>{width}}")
    out.append(f"  {'Mean mark (teacher ' + format(r['teacher']['mean'], '.2f') + ')':<26}{cal['mean']:>{width}.2f}  {base['mean']:>{width}.2f}")
    out.append(f"  {'SD (teacher ' + format(r['teacher']['sd'], '.2f') + ')':<26}{cal['sd']:>{width}.2f}  {base['sd']:>{width}.2f}")
    out.append(f"  (want kappa >= {r['thresholds']['qwk_min']:.2f} and |SMD| <= {r['thresholds']['smd_max_abs']:.2f})")
    out.append("")
    labels = list(range(r["scale"][0], r["scale"][1] + 1))
    for title, m in (("calibrated", cal), ("rubric only", base)):
        out.append(f"Confusion matrix, {title} (rows: teacher's mark, columns: {title})")
        cell = max(5, len(str(r["n"])) + 1, *(len(str(x)) + 1 for x in labels))
        out.append("  " + f"{'teacher':>7}" + "".join(f"{x:>{cell}}" for x in labels))
        for label, counts in zip(labels, m["confusion"]):
            out.append("  " + f"{label:>7}" + "".join(f"{c:>{cell}}" for c in counts))
        out.append("")
    worst = r["most_disagreed"]
    if worst:
        out.append(f"Essays calibration disagrees with most ({len(worst)} of {r['disagreements']} disagreements)")
        for i, w in enumerate(worst, 1):
            out.append(f"  {i:>2}. id {w['id']}  teacher {w['teacher']}  calibrated {w['calibrated']} ({w['difference']:+d})  rubric only {w['rubric_only']}")
            out.append(f"      {w['text']}")
        out.append("")
    else:
        out += ["Calibration agrees with the teacher on every essay.", ""]
    if r.get("model"):
        top = r["model"].get("top_features", [])
        if top:
            out.append("What the model learnt (change in mark per unit of each feature, e.g. found = 1; most influential first)")
            out += [f"  {f['per_unit']:+6.2f}  {f['name']}" for f in top]
            out.append("")
    for f in r["flags"]:
        out.append(f"WARNING: {f['message']}")
    out.append(("" if not r["flags"] else "\n") + r["verdict"])
    if r.get("saved"):
        out.append(r["saved"])
    return "\n".join(out).rstrip() + "\n"
