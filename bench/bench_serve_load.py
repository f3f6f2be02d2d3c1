"""Load on `ferkit serve`: N concurrent clients post a 640x480 photo with one face over loopback for a fixed time.
Reports served requests/s, p50/p99 latency, 503 rejections, errors, and the server's resident memory before and
after; clients either honour a 503's Retry-After or retry at once.

Run by hand (not a test):
    python bench/bench_serve_load.py --clients 1 4 16 --seconds 60 --workers 2
    python bench/bench_serve_load.py --clients 4 50 --retry honour immediate --seconds 45   # overload
Results recorded in docs/serve.md ("Load").
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"


def photo_jpeg() -> bytes:
    """The example's face on a 640x480 canvas, as a JPEG a client would send."""
    canvas = Image.new("RGB", (640, 480), (90, 90, 90))
    canvas.paste(Image.open(EXAMPLE).convert("RGB").resize((480, 480)), (80, 0))
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=90)
    return out.getvalue()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(args) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "ferkit", "serve", "--port", str(port), "--model", args.model, "--detector",
               args.detector, "--min-face", str(args.min_face), "--workers", str(args.workers)]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server, port
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("ferkit serve did not start")


def client(port: int, body: bytes, stop: float, retry: str, out: dict) -> None:
    """Keep-alive requests one after another until `stop`. A 503 is retried as `retry` says: "honour" waits its
    Retry-After, "immediate" sends again at once (as many real clients do). Latency runs from a request's first
    attempt to its answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    while time.perf_counter() < stop:
        try:
            connection.request("POST", "/v1/analyze", body, {"Content-Type": "image/jpeg"})
            response = connection.getresponse()
            payload = response.read()
            if response.will_close:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            if response.status == 503:
                out["rejections"].append(1)
                if retry == "honour":
                    time.sleep(float(response.headers.get("Retry-After", "1")))
                continue  # the same request again: its latency keeps counting
            if response.status != 200 or b'"faces":[{' not in payload:
                out["errors"].append(f"HTTP {response.status}: {payload[:120]!r}")
            else:
                out["latencies"].append(time.perf_counter() - start)
        except (OSError, http.client.HTTPException) as exc:
            out["errors"].append(repr(exc))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start = time.perf_counter()
    connection.close()


def run(port: int, clients: int, seconds: float, body: bytes, retry: str = "honour") -> dict:
    out: dict = {"latencies": [], "errors": [], "rejections": []}
    stop = time.perf_counter() + seconds
    threads = [threading.Thread(target=client, args=(port, body, stop, retry, out)) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--model", default="fast")
    parser.add_argument("--detector", default="mtcnn")
    parser.add_argument("--min-face", type=int, default=20)
    parser.add_argument(
        "--retry",
        nargs="+",
        default=["honour"],
        choices=("honour", "immediate"),
        help="what clients do with a 503: wait its Retry-After, or send again at once",
    )
    args = parser.parse_args()
    body = photo_jpeg()
    server, port = start_server(args)
    try:
        run(port, 2, 3, body)  # warm-up: first calls allocate the workers' buffers
        print(f"# {os.cpu_count()} cores; ferkit serve --model {args.model} --detector {args.detector} "
              f"--min-face {args.min_face} --workers {args.workers}; 640x480 JPEG ({len(body) // 1024} KB), "
              f"one face; {args.seconds:g} s per row")  # fmt: skip
        print("| clients | on 503 | served | served/s | p50 ms | p99 ms | 503s | errors | RSS MiB before | after |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for n in args.clients:
            for retry in args.retry:
                before = rss_mib(server.pid)
                out = run(port, n, args.seconds, body, retry)
                after = rss_mib(server.pid)
                ms = np.array(out["latencies"]) * 1000
                p50, p99 = (np.percentile(ms, q) for q in (50, 99)) if len(ms) else (float("nan"),) * 2
                print(
                    f"| {n} | {retry} | {len(ms)} | {len(ms) / args.seconds:.1f} | {p50:.0f} | {p99:.0f} "
                    f"| {len(out['rejections'])} | {len(out['errors'])} | {before:.0f} | {after:.0f} |",
                    flush=True,
                )
                for e in out["errors"][:3]:
                    print(f"#   error: {e}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
