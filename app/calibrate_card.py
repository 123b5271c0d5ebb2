"""The model card written beside every calibration model: what it is for, what it was trained on, how well it agrees, its limits."""

from __future__ import annotations

from typing import Any, Mapping

from .calibrate_store import CalibrationModel
from .evaluate import _num, _pct


def _cell(metrics: Mapping[str, Any], key: str, pct: bool = False) -> str:
    value = metrics.get(key)
    fmt = _pct if pct else _num
    text = "undefined" if value is None else fmt(value)
    interval = metrics.get("intervals", {}).get(key)
    return f"{text} [{fmt(interval[0])}, {fmt(interval[1])}]" if interval else text


def model_card(model: CalibrationModel) -> str:
    m, t, lm = model.metrics, model.training, model.model
    cal, rub = m.get("calibrated", {}), m.get("rubric_only", {})
    v = m.get("validation", {})
    status = f"adopted on {model.adopted}: marking shows the calibrated mark" if model.adopted else "not adopted: marking shows the rubric's mark"
    level = v.get("interval", 0.9)
    lines = [
        f"# Calibration model: {model.rubric_title}",
        "",
        f"- **Rubric:** `{model.rubric_id}` version {model.rubric_version} (content fingerprint `{model.rubric_digest[:12]}`); refused for any other version or edit",
        f"- **Trained:** {t.get('date')} on {t.get('n')} essays marked by the teacher{' (' + str(t['data']) + ')' if t.get('data') else ''}, engine {t.get('engine')}",
        f"- **Marks:** {lm.lo}-{lm.hi}; teacher's marks per mark: {t.get('teacher_counts')}",
        f"- **Verdict:** {model.verdict}",
        f"- **Status:** {status}",
        "",
        "## Intended use",
        "",
        "Predicts this teacher's mark for new essays answering this rubric's question, from what the rubric's rules",
        "detect in them. It is used only after the teacher adopts it (`essaycoach model adopt`), and only when the",
        "cross-validation below showed it agrees with the teacher better than the rubric's own mark. The rubric's mark",
        "stays in every result (`rubric_mark`); `mark_source` says which mark is shown.",
        "",
        "## Model",
        "",
        f"Ridge regression of (teacher's mark - rubric mark) on {len(lm.features)} standardised features, penalty alpha",
        f"= {lm.alpha:.4g} chosen by leave-one-out; predictions rescaled to the teacher's mean and spread on the training",
        "essays, rounded half up and clipped to the scale. Stored as plain JSON coefficients (`model.json`); loading it runs no code.",
        "",
        "Features: " + ", ".join(f"`{f}`" for f in lm.features) + ".",
        "",
        f"## Cross-validated agreement ({v.get('folds')}-fold, {level:.0%} bootstrap intervals)",
        "",
        "| | calibrated | rubric only |",
        "|---|---|---|",
        f"| quadratic weighted kappa | {_cell(cal, 'qwk')} | {_cell(rub, 'qwk')} |",
        f"| exact agreement | {_cell(cal, 'exact_agreement', True)} | {_cell(rub, 'exact_agreement', True)} |",
        f"| adjacent agreement (±1) | {_cell(cal, 'adjacent_agreement', True)} | {_cell(rub, 'adjacent_agreement', True)} |",
        f"| standardised mean difference | {_num(cal.get('smd'))} | {_num(rub.get('smd'))} |",
        f"| Pearson r | {_num(cal.get('pearson'))} | {_num(rub.get('pearson'))} |",
        "",
    ]
    for f in m.get("flags", []):
        lines.append(f"- Warning: {f['message']}")
    lines += [
        "",
        "## Limits",
        "",
        f"- Learnt from one teacher's marks on {t.get('n')} essays: it copies that teacher's standard, inconsistencies included,",
        "  and with few essays the intervals above are wide.",
        "- It only sees what the rubric's rules detect plus the text's length and sentence shape: it cannot credit an idea the",
        "  rubric does not describe, and it may reward length where the teacher did.",
        "- The agreement above was measured on essays like the training ones; another class, year or question may differ.",
        "  Check it again on newly marked essays (`essaycoach evaluate`) and retrain when it drifts.",
        "- The level, descriptor and feedback still come from the rubric's rules, so a calibrated mark can sit outside the",
        "  level's band.",
    ]
    return "\n".join(lines) + "\n"
