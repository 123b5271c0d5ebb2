"""Batch-marking benchmark: a class of 30 essays from upload to the results page, through the real server.

Starts `essaycoach serve` (waitress, background worker, fresh SQLite database) in a subprocess, makes a teacher
with `essaycoach create-teacher`, logs in and creates an assignment through the pages, then for each run:
POST the class zip (tests/web/classset.py: 30 essays of 120-360 words) -> poll the job's JSON as the page's
script does (every 50 ms here) -> GET the results table. Reports the wall time of each run (median and worst),
where it goes (upload request, queue to done, results page) and the essays marked per second.

Usage: .venv/bin/python bench/batch.py [--runs 10] [--poll 0.05]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
EMAIL, PASSWORD = "bench@school.example", "benchmark password"


def classset():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("classset", ROOT / "tests" / "web" / "classset.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class Browser:
    """Cookies and CSRF tokens, as a browser keeps them; no redirects followed (the Location is returned)."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())

    def open(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, resp.headers.get("Location", ""), resp.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location", ""), exc.read().decode("utf-8", "replace")

    def token(self, path: str) -> str:
        status, _, body = self.open(path)
        match = CSRF.search(body)
        assert status == 200 and match, (path, status)
        return match.group(1)

    def form(self, path: str, fields: dict[str, str], page: str) -> tuple[int, str, str]:
        body = urllib.parse.urlencode({"csrf_token": self.token(page), **fields}).encode()
        return self.open(path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def upload(self, path: str, token: str, filename: str, data: bytes) -> tuple[int, str, str]:
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\nContent-Type: application/zip\r\n\r\n'
        ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
        return self.open(path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--poll", type=float, default=0.05, help="seconds between progress polls")
    args = ap.parse_args()
    cs = classset()
    essays = cs.class_essays()
    data = cs.class_zip(essays)
    exe = Path(sys.executable).parent / "essaycoach"
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite", SECRET_KEY="bench")
        made = subprocess.run([str(exe), "create-teacher", EMAIL], input=f"{PASSWORD}\n{PASSWORD}\n", text=True, env=env, capture_output=True, check=False)
        assert made.returncode == 0, made.stderr
        port = free_port()
        proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            b = Browser(f"http://127.0.0.1:{port}")
            deadline = time.monotonic() + 60
            while True:  # the engine warms up in the background: wait until it is ready, as a teacher would
                try:
                    status, _, body = b.open("/healthz")
                    if status == 200 and json.loads(body)["marking_ready"]:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not get ready")
                time.sleep(0.05)
            status, location, _ = b.form("/teacher/login", {"email": EMAIL, "password": PASSWORD}, "/teacher/login")
            assert status == 303, status
            runs = []
            for i in range(args.runs):
                status, location, _ = b.form("/teacher/assignments/new", {"title": f"Run {i}", "rubric": "file:stalinist-centralisation", "show_mark": "1"}, "/teacher/")
                assert status == 303, status
                page = location.split("#")[0]
                token = b.token(page)
                t0 = time.perf_counter()
                status, location, _ = b.upload(page + "/upload", token, "10B essays.zip", data)
                t_upload = time.perf_counter()
                assert status == 303, status
                job = re.search(r"job=(\d+)", location).group(1)  # type: ignore[union-attr]
                while True:
                    _, _, body = b.open(f"/teacher/jobs/{job}.json")
                    progress = json.loads(body)
                    if progress["status"] == "done":
                        break
                    time.sleep(args.poll)
                t_done = time.perf_counter()
                status, _, html = b.open(page)
                t_results = time.perf_counter()
                assert status == 200 and html.count('class="mark-big"') == 30 and progress["marked"] == 30, progress
                runs.append({"total_s": t_results - t0, "upload_s": t_upload - t0, "marking_s": t_done - t_upload, "results_page_s": t_results - t_done})
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    totals = [r["total_s"] for r in runs]

    def med(key: str) -> float:
        return round(statistics.median(r[key] for r in runs), 3)

    report = {
        "essays_per_class": len(essays),
        "words": sum(len(t.split()) for _, t in essays),
        "zip_bytes": len(data),
        "runs": len(runs),
        "upload_to_results_s": {"median": round(statistics.median(totals), 3), "max": round(max(totals), 3), "first": round(totals[0], 3)},
        "median_split_s": {"upload_request": med("upload_s"), "queue_to_done": med("marking_s"), "results_page": med("results_page_s")},
        "essays_per_s": round(len(essays) / statistics.median(totals), 1),
        "target_s": 3.0,
        "poll_s": args.poll,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
