"""Load benchmark of ``lit-ctr serve`` on loopback: requests/s and p50/p99 latency.

For the ONNX and TorchScript artifacts of ``artifacts.py``'s small DeepFM, starts
``lit-ctr serve`` on 127.0.0.1 (a free port), waits for ``/health``, then sends a bounded
number of ``POST /predict`` requests of 1 row and of 64 rows from ``--clients`` threads
(one keep-alive connection each), and stops the server. Nothing leaves the machine.

    python bench/serving/run.py [--requests 400] [--clients 8] [--max_batch_size 64]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from artifacts import make  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(artifact: Path, max_batch_size: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "lit_ctr", "serve", "--artifact", str(artifact), "--port", str(port)]
    command += ["--max_batch_size", str(max_batch_size)]
    process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    stop(process)
    raise RuntimeError("the server was not ready in 300 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def load(url: str, rows: list[dict], per_request: int, requests: int, clients: int) -> dict:
    """``requests`` requests of ``per_request`` rows from ``clients`` threads."""
    bodies = [{"rows": (rows[i * per_request :] + rows)[:per_request]} for i in range(requests)]
    latencies: list[float] = []
    failures = []
    lock = threading.Lock()
    next_index = iter(range(requests))

    def client() -> None:
        with httpx.Client(timeout=60) as session:
            session.post(f"{url}/predict", json=bodies[0])  # connect and warm up
            for i in next_index:
                begin = time.perf_counter()
                response = session.post(f"{url}/predict", json=bodies[i])
                elapsed = time.perf_counter() - begin
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        failures.append(response.status_code)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - begin
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / wall,
        "rows_per_s": len(latencies) * per_request / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "failures": len(failures),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/tmp/lit-ctr-serving"))
    parser.add_argument("--requests", type=int, default=400, help="requests per cell (bounded)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max_batch_size", type=int, default=64)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    paths = make(args.out)
    rows = json.loads(paths["rows"].read_text())
    results: dict = {"load_average_before": os.getloadavg()[0], "cpus": os.cpu_count(), "cells": {}}
    for kind in ("onnx", "torchscript"):
        process, url = start(paths[kind], args.max_batch_size, args.out / f"serve-{kind}.log")
        try:
            for per_request in (1, 64):
                results["cells"][f"{kind}/{per_request}"] = load(url, rows, per_request, args.requests, args.clients)
        finally:
            stop(process)
    results["load_average_after"] = os.getloadavg()[0]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(
        f"load average (1 min) before {results['load_average_before']:.1f}, after {results['load_average_after']:.1f}, "
        f"{os.cpu_count()} CPUs; {args.requests} requests per cell, {args.clients} clients, "
        f"max_batch_size {args.max_batch_size}\n"
    )
    print("| artifact | rows per request | requests/s | rows/s | p50 | p99 | failed |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for key, r in results["cells"].items():
        kind, per_request = key.split("/")
        print(
            f"| {kind} | {per_request} | {r['requests_per_s']:,.0f} | {r['rows_per_s']:,.0f} | "
            f"{r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['failures']} |"
        )


if __name__ == "__main__":
    main()
