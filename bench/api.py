"""Web benchmark: `essaycoach serve` cold start, server-side time of POST /api/v1/feedback for 600-word essays, RSS.

Starts the real server (waitress) in a subprocess on a free port with a fresh SQLite database, then reports:
- cold start: process spawn -> first response (GET /), and -> first marked essay (POST /api/v1/feedback);
- server-side time per request from the Server-Timing header (p50/p95 after warm-up) and the client round trip;
- the server's resident memory (VmRSS) and peak (VmHWM) after the run.

Usage: .venv/bin/python bench/api.py [--n 300] [--warmup 30] [--rubric stalinist-centralisation]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "app" / "samples" / "stalinist-centralisation"
WORDS = 600


def essays(n: int) -> list[str]:
    """n different 600-word essays: windows over the sample essays, so word caches are not all warm."""
    pool = " ".join(p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))).split()
    step = max(1, (len(pool) - WORDS) // max(n, 1))
    return [" ".join(pool[(i * step) % (len(pool) - WORDS):][:WORDS]) for i in range(n)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(port: int, method: str, path: str, body: dict | None = None, timeout: float = 30) -> tuple[int, float, bytes]:
    """(status, server-side ms from Server-Timing, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
    resp = conn.getresponse()
    payload = resp.read()
    timing = resp.getheader("Server-Timing", "app;dur=nan")
    conn.close()
    return resp.status, float(timing.split("dur=")[1]), payload


def wait_for(port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode}")
        try:
            request(port, "GET", "/", timeout=2)
            return
        except OSError:
            time.sleep(0.005)
    raise SystemExit("the server did not answer within the deadline")


def start(cmd: list[str], db_file: Path, body: dict) -> tuple[subprocess.Popen[bytes], int, float, float]:
    """Spawn the server; (process, port, seconds to first response to GET /, seconds to first feedback)."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{db_file}", SECRET_KEY="bench")
    t0 = time.perf_counter()
    proc = subprocess.Popen([*cmd, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(port, proc, t0 + 60)
    first_response = time.perf_counter() - t0
    status, _, _ = request(port, "POST", "/api/v1/feedback", body)
    assert status == 200, status
    return proc, port, first_response, time.perf_counter() - t0


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=10)


def memory(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return {"rss_mb": round(fields["VmRSS"], 1), "peak_rss_mb": round(fields["VmHWM"], 1)}


def pct(values: list[float], p: int) -> float:
    return round(statistics.quantiles(values, n=100)[p - 1], 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--rubric", default="stalinist-centralisation")
    ap.add_argument("--module", action="store_true", help="start with `python -m app.web` instead of `essaycoach serve`")
    ap.add_argument("--starts", type=int, default=5, help="cold starts to time (median and worst are reported)")
    args = ap.parse_args()

    texts = essays(args.n + args.warmup)
    exe = Path(sys.executable).parent / "essaycoach"
    cmd = [sys.executable, "-m", "app.web"] if args.module else [str(exe), "serve"]
    body = {"rubric": args.rubric, "text": texts[0]}
    starts: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.starts):  # each a fresh process on a fresh database: the worst case
            proc, port, first_response, first_feedback = start(cmd, Path(tmp) / f"start{i}.sqlite", body)
            starts.append((first_response, first_feedback))
            if i < args.starts - 1:
                stop(proc)
        try:
            for text in texts[1 : args.warmup]:
                request(port, "POST", "/api/v1/feedback", {"rubric": args.rubric, "text": text})
            server_ms, round_trip_ms = [], []
            for text in texts[args.warmup :]:
                s = time.perf_counter()
                status, dur, _ = request(port, "POST", "/api/v1/feedback", {"rubric": args.rubric, "text": text})
                round_trip_ms.append((time.perf_counter() - s) * 1000)
                assert status == 200, status
                server_ms.append(dur)
            mem = memory(proc.pid)
        finally:
            stop(proc)
    responses, feedbacks = [a for a, _ in starts], [b for _, b in starts]
    report = {
        "command": " ".join(cmd),
        "essays": len(server_ms),
        "words_per_essay": WORDS,
        "cold_starts": len(starts),
        "cold_start_first_response_s": {"median": round(statistics.median(responses), 3), "max": round(max(responses), 3)},
        "cold_start_first_feedback_s": {"median": round(statistics.median(feedbacks), 3), "max": round(max(feedbacks), 3)},
        "server_ms": {"p50": pct(server_ms, 50), "p95": pct(server_ms, 95), "max": round(max(server_ms), 2)},
        "round_trip_ms": {"p50": pct(round_trip_ms, 50), "p95": pct(round_trip_ms, 95)},
        "server_memory": mem,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
