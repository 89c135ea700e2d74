"""Load test of `policy serve` on the loopback interface: evaluations per second and latency.

    python benchmarks/serve_load.py [--requests 2000] [--concurrency 1,8,32] [--workers 2]
                                    [--only-contract] [--port 0] [--serve-option=--OPTION=VALUE]

Starts `policy serve` on 127.0.0.1 (a free port unless --port is given), waits for /healthz,
then for each concurrency level opens that many keep-alive connections and sends a fixed number
of `POST /v1/evaluate` requests for a 3-person household (the manual's Jones family), counting
only 200 answers. Prints evaluations per second, the median and 99th-percentile latency, the
server's CPU time per evaluation (all its processes, from /proc) and this client's own CPU time
per request, then the in-process figures for the same case (the engine alone: evaluate, the
document and the JSON the endpoint writes; and through the service's ASGI application without
a socket), and stops the server with SIGTERM. Traffic never leaves 127.0.0.1, and every loop is
bounded by the request count and a time limit.

On a 2-core machine the client shares the cores with the server, so it is made cheap: one
thread, raw HTTP/1.1 over non-blocking sockets and epoll, the request bytes made once, and of
each answer only the status and Content-Length read (about 0.1-0.15 ms of CPU per request,
printed). On a machine shared with other work, wall-clock rates say how much CPU the server was
given; its CPU time per evaluation says what an evaluation costs, whatever else ran.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
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


def content_length(head: bytes) -> int:
    """The Content-Length of a response head (0 without one)."""
    head = head.lower()
    at = head.find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    end = head.find(b"\r\n", at + 2)
    return int(head[at + 17:end if end > 0 else None])


def run_level(port, request, concurrency, count, seconds=LEVEL_SECONDS):
    """Send ``count`` copies of ``request`` over ``concurrency`` keep-alive connections.

    One thread, non-blocking sockets and epoll: per request one ``send`` and a few ``recv``
    calls, the status and Content-Length read from the head with one search each. Returns the
    latencies of the 200 answers (seconds), the status lines of the others, and the wall time.
    """
    poller = select.epoll()
    conns = {}
    latencies, failures = [], []
    issued = 0
    deadline = time.monotonic() + seconds

    def open_connection():
        sock = socket.create_connection((HOST, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        state = [sock, bytearray(), -1, 0, 0.0]     # socket, buffer, head end, length, sent at
        conns[sock.fileno()] = state
        poller.register(sock.fileno(), select.EPOLLIN)
        return state

    def send(state):
        nonlocal issued
        issued += 1
        state[1].clear()
        state[2] = -1
        state[4] = time.perf_counter()
        state[0].sendall(request)           # a few KB: fits the socket buffer at once

    def close(state):
        poller.unregister(state[0].fileno())
        del conns[state[0].fileno()]
        state[0].close()

    started = time.perf_counter()
    for _ in range(min(concurrency, count)):
        send(open_connection())
    while conns and time.monotonic() < deadline:
        for fd, _ in poller.poll(1.0):
            state = conns[fd]
            sock, buffer = state[0], state[1]
            try:
                chunk = sock.recv(1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:                   # the server closed the connection
                failures.append("connection closed by the server")
                close(state)
                if issued < count:
                    send(open_connection())
                continue
            buffer += chunk
            if state[2] < 0:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    continue
                state[2], state[3] = end + 4, content_length(bytes(buffer[:end]))
            if len(buffer) < state[2] + state[3]:
                continue
            elapsed = time.perf_counter() - state[4]
            if buffer[9:12] == b"200":
                latencies.append(elapsed)
            else:
                failures.append(bytes(buffer[:buffer.find(b"\r\n")]).decode("latin-1"))
            if b"\r\nconnection: close" in bytes(buffer[:state[2]]).lower():
                close(state)
                if issued < count:
                    send(open_connection())
            elif issued < count:
                send(state)
            else:
                close(state)
    elapsed = time.perf_counter() - started
    for state in list(conns.values()):
        close(state)
    poller.close()
    return latencies, failures, elapsed


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


def in_process(only, count: int) -> tuple[float, float, float]:
    """What one evaluation costs without the network, in this process: evaluations per second
    and CPU ms of the engine alone (evaluate, the document, the JSON the endpoint writes), and
    CPU ms through the service's ASGI application with a fake transport (the request parsed,
    routed, evaluated and answered as over HTTP, without uvicorn and the socket)."""
    from engine import Engine
    from engine.tools.documents import eval_document
    from engine.service import ServiceConfig, create_app
    from engine.service.rulebooks import load
    try:
        from engine.service.encoding import dumps      # the encoder the endpoint uses
    except ImportError:                                # a tree from before it existed
        def dumps(document):
            return json.dumps(document, ensure_ascii=False).encode("utf-8")
    engine = Engine.load(ROOT / "policy")
    data = json.loads(CASE)
    app = create_app(ServiceConfig(policy=(str(ROOT / "policy"),)),
                     load([str(ROOT / "policy")], run_check=False))
    query = "&".join(f"only={n}" for n in only).encode() if only else b""
    body = CASE.encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/v1/evaluate", "raw_path": b"/v1/evaluate",
             "query_string": query, "root_path": "", "client": (HOST, 1), "server": (HOST, 2),
             "headers": [(b"host", HOST.encode()), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]}

    async def through_app(times: int) -> None:
        for _ in range(times):
            messages = [{"type": "http.request", "body": body, "more_body": False}]
            sent = []

            async def receive():
                return messages.pop() if messages else {"type": "http.disconnect"}

            async def send(message):
                sent.append(message)
            await app(dict(scope), receive, send)
            assert sent[0]["status"] == 200, sent

    def engine_alone(times: int) -> None:
        for _ in range(times):
            dumps(eval_document(engine.evaluate(data, names=only)))

    engine_alone(20)
    asyncio.run(through_app(20))
    engine_cpu = app_cpu = wall = 0.0
    for _ in range(5):                  # alternated, so that both see the same machine
        started, cpu = time.perf_counter(), time.process_time()
        engine_alone(count // 5)
        wall += time.perf_counter() - started
        engine_cpu += time.process_time() - cpu
        cpu = time.process_time()
        asyncio.run(through_app(count // 5))
        app_cpu += time.process_time() - cpu
    done = 5 * (count // 5)
    return done / wall, 1000 * engine_cpu / done, 1000 * app_cpu / done


def level(port: int, request: bytes, concurrency: int, count: int) -> dict:
    """One concurrency level: rates, latency percentiles and this client's own CPU."""
    cpu = time.process_time()
    latencies, failures, elapsed = run_level(port, request, concurrency, count)
    client_ms = 1000 * (time.process_time() - cpu) / max(len(latencies) + len(failures), 1)
    latencies.sort()
    return {"concurrency": concurrency, "ok": len(latencies), "failed": len(failures),
            "per_second": len(latencies) / elapsed,
            "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
            if latencies else float("nan"),
            "client_ms": client_ms, "failures": sorted(set(failures))[:3]}


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
    parser.add_argument("--serve-option", action="append", default=[], metavar="OPTION",
                        help="Another option for policy serve (repeatable), e.g. --serve-option=--max-steps=5000.")
    args = parser.parse_args()
    port = args.port or free_port()
    only = CONTRACT if args.only_contract else None
    path = "/v1/evaluate" + ("?" + "&".join(f"only={n}" for n in only) if only else "")
    body = CASE.encode()
    request = (f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode("ascii") + body
    server = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--host", HOST,
                               "--port", str(port), "--workers", str(args.workers),
                               "--log-level", "warning", "--no-check",
                               "--max-queue", "1024", "--max-in-flight",
                               str(args.max_in_flight)]
                              + (["--no-evaluation-thread"] if args.no_evaluation_thread else [])
                              + args.serve_option,
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
        level(port, request, 4, 200)                                    # warm every worker
        threads = "on the event loop" if args.no_evaluation_thread \
            else f"x {args.max_in_flight} thread(s)"
        print(f"policy serve, {args.workers} worker(s) {threads} {' '.join(args.serve_option)}, "
              f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}; "
              f"{'contract results only' if only else 'every result'}; "
              f"{args.requests} requests per level")
        print("| clients | evaluations/s | p50 ms | p99 ms | server CPU ms/evaluation "
              "| client CPU ms/request | failed |")
        print("|---|---|---|---|---|---|---|")
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            cpu = tree_cpu_seconds(server.pid)
            r = level(port, request, concurrency, args.requests)
            cpu_ms = 1000 * (tree_cpu_seconds(server.pid) - cpu) / max(r["ok"], 1)
            print(f"| {r['concurrency']} | {r['per_second']:.0f} | {r['p50_ms']:.1f} | "
                  f"{r['p99_ms']:.1f} | {cpu_ms:.2f} | {r['client_ms']:.2f} | "
                  f"{r['failed']} {' '.join(r['failures'])} |", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    rate, cpu_ms, app_ms = in_process(only, min(args.requests, 1000))
    print(f"in-process, one thread: {rate:.0f} evaluations/s, {cpu_ms:.2f} CPU ms/evaluation "
          f"(evaluate + the JSON the endpoint writes); {app_ms:.2f} CPU ms through the ASGI "
          "application without a socket")


if __name__ == "__main__":
    main()
