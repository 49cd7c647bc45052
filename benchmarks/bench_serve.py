"""Deciding all day: ``skvoice serve`` under a bounded load, against ``skvoice verify`` per call.

Usage: python benchmarks/bench_serve.py [--requests 1000] [--clients 1 2]

An enrolment model (``skvoice enroll`` with the distilled encoder on the 12
speakers of ``tests/data/speechocean762``) is served on loopback by ``skvoice
serve`` in its own process. Each run sends ``--requests`` requests of a 2-3 s
recording from ``--clients`` clients at once and reports requests per second,
the 50th and 99th percentile latency, the failed requests and the server's
resident memory before and after (flat: no leak). Beside it, what a service
calling ``skvoice verify`` once per decision pays: the median of 3 calls, each
loading torch and the model. Writes ``benchmarks/results/serve.md``.
"""

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from _common import SMOKE, markdown_table, write_result

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("skvoice/_serve.py", "skvoice/_cli.py", "decisions", "networks")

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "speechocean762" / "WAVE"
SKVOICE = [sys.executable, "-m", "skvoice"]


def enrol(folder):
    speakers = sorted(os.listdir(DATA))
    model = Path(folder) / "m.skvoice"
    subprocess.run(
        [*SKVOICE, "enroll", str(DATA), "--allowed", ",".join(speakers[:2])]
        + ["--out", str(model), "--encoder", "speechocean762-distilled", "--quiet"],
        check=True,
        capture_output=True,
    )
    first = sorted(os.listdir(DATA / speakers[0]))[0]
    return model, DATA / speakers[0] / first


def start(model):
    proc = subprocess.Popen(
        [*SKVOICE, "serve", str(model), "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    port = int(re.search(r"http://[\d.]+:(\d+)", line).group(1))
    return proc, port


def post(port, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        t = time.perf_counter()
        conn.request("POST", "/verify", body=body)
        res = conn.getresponse()
        res.read()
        return res.status, time.perf_counter() - t
    finally:
        conn.close()


def load(port, body, n, clients):
    results = []
    lock = threading.Lock()
    per_client = n // clients

    def client():
        for _ in range(per_client):
            r = post(port, body)
            with lock:
                results.append(r)

    t = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    latencies = sorted(r[1] for r in results)
    failed = sum(r[0] != 200 for r in results)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return len(results) / wall, statistics.median(latencies), p99, failed, len(results)


def main(n, clients_list):
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        model, wav = enrol(folder)
        body = wav.read_bytes()
        proc, port = start(model)
        try:
            server = psutil.Process(proc.pid)
            post(port, body)  # warm-up
            for clients in clients_list:
                before = server.memory_info().rss / 2**20
                rps, p50, p99, failed, sent = load(port, body, n, clients)
                after = server.memory_info().rss / 2**20
                rows.append(
                    [
                        f"skvoice serve, {clients} client(s)",
                        sent,
                        f"{rps:.1f}",
                        f"{1000 * p50:.0f}",
                        f"{1000 * p99:.0f}",
                        failed,
                        f"{before:.0f} -> {after:.0f}",
                    ]
                )
        finally:
            proc.terminate()
            proc.wait()
        times = []
        for _ in range(1 if SMOKE else 3):
            t = time.perf_counter()
            subprocess.run(
                [*SKVOICE, "verify", str(model), str(wav), "--quiet"], capture_output=True
            )
            times.append(time.perf_counter() - t)
        per_call = statistics.median(times)
        rows.append(
            [
                "skvoice verify, one call a decision",
                len(times),
                f"{1 / per_call:.2f}",
                f"{1000 * per_call:.0f}",
                "",
                0,
                "",
            ]
        )
    header = (
        "how",
        "requests",
        "decisions per s",
        "p50 latency (ms)",
        "p99 latency (ms)",
        "failed",
        "server memory (MiB, before -> after)",
    )
    return (
        f"An enrolment (distilled encoder) deciding on one {wav.name} recording a request, on "
        "loopback, on this machine (`bench_serve.py`'s docstring).\n\n"
        + markdown_table(header, rows)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    write_result("serve", main(20 if SMOKE else args.requests, args.clients))
