"""What reading a batch's cases costs per household, step by step, as ``policy batch`` reads a chunk.

    python benchmarks/batch_read.py [CASES.jsonl] [--households 4096]

Chunks of 1,024 tasks (``COLUMNAR_CHUNK``), the cyclic collector paused as
``evaluate_chunk`` pauses it: ``case_data`` of each task (the JSON line parsed), then
``Engine.read_case`` of each (normalise, validate, build the entity tree), then the columnar
plan's tables for the chunk (``engine.runtime.columnar._Batch``, as ``evaluate_cases`` makes
them before it evaluates any rule; a measuring tool may look inside, the engine does not). CPU
time (``time.process_time``) per household, best of 3 passes. It imports the ``engine`` of the
tree it sits in: run it from two trees, alternating, to compare them (the machine is shared).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CHUNK = 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="?", default="/work/h12-bench/h.cases.jsonl")
    parser.add_argument("--households", type=int, default=4096)
    parser.add_argument("--as-of", default="2025-08-01")
    args = parser.parse_args()
    os.environ.setdefault("POLICY_NO_CACHE", "1")

    from engine import Engine
    from engine.runtime import columnar
    from engine.runtime.collector import paused_collector
    from engine.runtime.state import decimal_context
    from engine.tools.tasks import Task, case_data

    engine = Engine.load(os.path.join(ROOT, "policy"))
    with open(args.cases, encoding="utf-8") as handle:
        lines = [line for _, line in zip(range(args.households), handle) if line.strip()]
    tasks = [Task(f"cases.jsonl:{i + 1}", "json", line) for i, line in enumerate(lines)]
    on = dt.date.fromisoformat(args.as_of)

    def chunk(part, totals):
        with paused_collector():
            start = time.process_time()
            datas = [case_data(task) for task in part]
            parsed = time.process_time()
            cases = [engine.read_case(data) for data in datas]
            read = time.process_time()
            with decimal_context():
                columnar._Batch(engine, cases, on, True)
            tables = time.process_time()
        totals[0] += parsed - start
        totals[1] += read - parsed
        totals[2] += tables - read

    chunk(tasks[:CHUNK], [0.0, 0.0, 0.0])          # warm every lazy import and table
    best = None
    for _ in range(3):
        totals = [0.0, 0.0, 0.0]
        for at in range(0, len(tasks), CHUNK):
            chunk(tasks[at:at + CHUNK], totals)
        if best is None or sum(totals) < sum(best):
            best = totals
    n = len(tasks)
    steps = ("parse (case_data)", "read (Engine.read_case)", "tables (_Batch)")
    print(f"{n} households, chunks of {CHUNK}, CPU time per household, best of 3:")
    for label, seconds in zip(steps, best):
        print(f"  {label:28s} {seconds / n * 1e6:6.1f} us")
    print(f"  {'all three':28s} {sum(best) / n * 1e6:6.1f} us")


if __name__ == "__main__":
    main()
