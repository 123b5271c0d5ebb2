"""Speed benchmark: `essaycoach mark` over 1,000 ~550-word essays beside spaCy's blank tokenizer (not a test).

Usage: .venv/bin/python bench/run.py [--n 1000] [--rubric stalinist-centralisation]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import write_corpus  # noqa: E402


def tokenizer_speed(texts: list[str]) -> float:
    import spacy

    nlp = spacy.blank("en")
    t0 = time.perf_counter()
    for _ in nlp.tokenizer.pipe(texts):
        pass
    return time.perf_counter() - t0


def in_process(texts: list[str], rubric_name: str) -> dict[str, float]:
    from app.rubric import load_rubric, resolve_rubric
    from app.service import mark_text

    rubric = load_rubric(resolve_rubric(rubric_name))
    mark_text(texts[0], rubric)  # warm-up: pipeline and matchers built once
    latencies = []
    t0 = time.perf_counter()
    for text in texts:
        s = time.perf_counter()
        mark_text(text, rubric)
        latencies.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    return {"seconds": total, "p50_ms": q[49] * 1000, "p95_ms": q[94] * 1000}


def cli_run(folder: Path, jobs: int, rubric_name: str) -> dict[str, float]:
    exe = Path(sys.executable).parent / "essaycoach"
    cmd = [str(exe), "mark", "--rubric", rubric_name, "--format", "jsonl", "--out", "/dev/null", "--jobs", str(jobs), str(folder)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": wall, "peak_rss_mb": max(peak, before) / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--rubric", default="stalinist-centralisation")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()

    folder = args.out / "corpus"
    paths = write_corpus(folder, args.n)
    texts = [p.read_text(encoding="utf-8") for p in paths]
    words = sum(len(t.split()) for t in texts)

    tok = min(tokenizer_speed(texts) for _ in range(3))
    proc = in_process(texts, args.rubric)
    runs = {j: cli_run(folder, j, args.rubric) for j in (1, 2)}

    report = {
        "essays": len(texts),
        "words": words,
        "mean_words": words / len(texts),
        "tokenizer_words_per_s": words / tok,
        "in_process": {
            "essays_per_s": len(texts) / proc["seconds"],
            "words_per_s": words / proc["seconds"],
            "ratio_to_tokenizer": tok / proc["seconds"],
            "p50_ms": proc["p50_ms"],
            "p95_ms": proc["p95_ms"],
        },
        "cli": {
            f"jobs_{j}": {
                "seconds": r["seconds"],
                "essays_per_s": len(texts) / r["seconds"],
                "words_per_s": words / r["seconds"],
                "ratio_to_tokenizer": tok / r["seconds"],
                "peak_rss_mb": r["peak_rss_mb"],
            }
            for j, r in runs.items()
        },
    }
    print(json.dumps(report, indent=2))
    (args.out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
