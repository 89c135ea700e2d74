"""Load test of `policy serve` on the loopback interface: evaluations per second and latency.

    python benchmarks/serve_load.py [--requests 2000] [--concurrency 1,8,32] [--workers 2]
                                    [--only-contract] [--port 0]

Starts `policy serve` on 127.0.0.1 (a free port unless --port is given), waits for /healthz,
then for each concurrency level opens that many keep-alive connections and sends a fixed number
of `POST /v1/evaluate` requests for a 3-person household (the manual's Jones family), counting
only 200 answers. Prints evaluations per second and the median and 99th-percentile latency per
level, then the in-process figure for the same case (engine.evaluate plus the JSON the endpoint
writes), and stops the server with SIGTERM. Traffic never leaves 127.0.0.1, and every loop is
bounded by the request count and a time limit.

The client runs in this process on the same machine as the server, so on a 2-core machine it
takes CPU from the server: the figures are a floor for what a separate client would see. The
server's CPU time per evaluation (all its processes, from /proc) is printed beside the rates:
on a machine shared with other work it says what an evaluation costs whatever else ran.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

HOST = "127.0.0.1"
CASE = json.dumps(yaml.safe_load((ROOT / "examples" / "jones.yaml").read_text()), default=str)
#: The results the contract requires (as `policy batch --only` would ask for them).
CONTRACT = ("magi.household_size", "magi.household_income", "magi.fpl_percent",
            "eligibility.level_of_care", "chip.family_premium", "msp.level", "twha.premium")
#: Longest a level may run, whatever the request count.
LEVEL_SECONDS = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


async def client(port: int, path: str, body: bytes, quota: list, latencies: list, failures: list,
                 deadline: float) -> None:
    """One keep-alive connection sending requests until the shared quota is used up."""
    reader, writer = await asyncio.open_connection(HOST, port)
    head = (f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("ascii")
    try:
        while quota[0] > 0 and time.monotonic() < deadline:
            quota[0] -= 1
            started = time.perf_counter()
            writer.write(head + body)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            elapsed = time.perf_counter() - started
            if status_line.split()[1:2] == [b"200"]:
                latencies.append(elapsed)
            else:
                failures.append(status_line.decode("latin-1").strip())
    finally:
        writer.close()


async def level(port: int, path: str, concurrency: int, requests: int) -> dict:
    quota, latencies, failures = [requests], [], []
    deadline = time.monotonic() + LEVEL_SECONDS
    started = time.perf_counter()
    await asyncio.gather(*(client(port, path, CASE.encode(), quota, latencies, failures, deadline)
                           for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"concurrency": concurrency, "ok": len(latencies), "failed": len(failures),
            "per_second": len(latencies) / elapsed,
            "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
            if latencies else None,
            "failures": sorted(set(failures))[:3]}


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by a process and all its descendants (Linux /proc).

    On a machine shared with other work, wall-clock rates say how much CPU we were given; CPU
    time per evaluation says what an evaluation costs, whatever else was running."""
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = int(fields[11]) + int(fields[12])
    total = 0
    for pid, ticks in times.items():
        walk = pid
        while walk and walk != root:
            walk = parents.get(walk, 0)
        if walk == root:
            total += ticks
    return total / os.sysconf("SC_CLK_TCK")


def in_process(only, count: int) -> tuple[float, float]:
    """Evaluations per second in this process: what one request costs without HTTP."""
    from engine import Engine
    from engine.cli.eval_cmd import eval_document
    try:
        from engine.service.encoding import dumps      # the encoder the endpoint uses
    except ImportError:                                # a tree from before it existed
        def dumps(document):
            return json.dumps(document, ensure_ascii=False).encode("utf-8")
    engine = Engine.load(ROOT / "policy")
    data = json.loads(CASE)
    for _ in range(20):
        engine.evaluate(data, names=only)
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        dumps(eval_document(engine.evaluate(data, names=only)))
    return count / (time.perf_counter() - started), 1000 * (time.process_time() - cpu) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="Requests per concurrency level.")
    parser.add_argument("--concurrency", default="1,8,32", help="Comma-separated client counts.")
    parser.add_argument("--workers", type=int, default=2, help="Server worker processes.")
    parser.add_argument("--only-contract", action="store_true",
                        help="Ask only for the contract's results (?only=...).")
    parser.add_argument("--port", type=int, default=0, help="Port (default: a free one).")
    parser.add_argument("--max-in-flight", type=int, default=1,
                        help="Evaluation threads per worker (policy serve --max-in-flight).")
    parser.add_argument("--no-evaluation-thread", action="store_true",
                        help="Evaluate on the event loop (policy serve --no-evaluation-thread).")
    args = parser.parse_args()
    port = args.port or free_port()
    only = CONTRACT if args.only_contract else None
    path = "/v1/evaluate" + ("?" + "&".join(f"only={n}" for n in only) if only else "")
    server = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--host", HOST,
                               "--port", str(port), "--workers", str(args.workers),
                               "--log-level", "warning", "--no-check",
                               "--max-queue", "1024", "--max-in-flight",
                               str(args.max_in_flight)]
                              + (["--no-evaluation-thread"] if args.no_evaluation_thread else []),
                              cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("policy serve did not start.")
                time.sleep(0.2)
        asyncio.run(level(port, path, 4, 100))                      # warm every worker
        threads = "on the event loop" if args.no_evaluation_thread \
            else f"x {args.max_in_flight} thread(s)"
        print(f"policy serve, {args.workers} worker(s) {threads}, "
              f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}; "
              f"{'contract results only' if only else 'every result'}; "
              f"{args.requests} requests per level")
        print("| clients | evaluations/s | p50 ms | p99 ms | server CPU ms/evaluation | failed |")
        print("|---|---|---|---|---|---|")
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            cpu = tree_cpu_seconds(server.pid)
            r = asyncio.run(level(port, path, concurrency, args.requests))
            cpu_ms = 1000 * (tree_cpu_seconds(server.pid) - cpu) / max(r["ok"], 1)
            print(f"| {r['concurrency']} | {r['per_second']:.0f} | {r['p50_ms']:.1f} | "
                  f"{r['p99_ms']:.1f} | {cpu_ms:.1f} | {r['failed']} {' '.join(r['failures'])} |",
                  flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    rate, cpu_ms = in_process(only, min(args.requests, 1000))
    print(f"in-process, one thread: {rate:.0f} evaluations/s, {cpu_ms:.1f} CPU ms/evaluation "
          "(evaluate + the JSON the endpoint writes)")


if __name__ == "__main__":
    main()
