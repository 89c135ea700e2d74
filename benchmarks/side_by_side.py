"""Side by side with PolicyEngine-US on the same households, in one run (issue 12's targets).

    python benchmarks/side_by_side.py BENCH_DIR --pe-python /path/to/pe-venv/bin/python

``BENCH_DIR`` holds ``h.cases.jsonl`` and ``h.pe.json`` from ``../shared/bench/gen_households.py``.
PolicyEngine-US runs as an external program in its own virtual environment (never imported
here). Measured, in this order on the same machine:

1. PolicyEngine's frame calculation (``engine.calc_seconds``: its ~50 s import excluded);
2. our whole ``policy batch --workers 2`` process (contract outputs, default citation ids), wall
   and CPU time, peak RSS and bytes written per household (all files);
3. our in-process throughput on one core: read, validate, evaluate and encode each line with
   citation ids, as a worker does.

Wall times on a shared machine vary with the other load; the CPU times are the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PE_ORACLE = Path(os.environ.get("PE_ORACLE", ROOT.parent / "shared" / "bench" / "pe_oracle.py"))


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], **kwargs) -> tuple[float, float]:
    cpu, started = child_cpu(), time.perf_counter()
    subprocess.run(command, check=True, **kwargs)
    return time.perf_counter() - started, child_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", type=Path)
    parser.add_argument("--pe-python", default=None, help="python of PolicyEngine's venv (skip PE without it)")
    parser.add_argument("--as-of", default="2025-08-01")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--in-process", type=int, default=3000, help="households for the one-core figure")
    args = parser.parse_args()
    cases = args.bench / "h.cases.jsonl"
    households = sum(1 for _ in open(cases, "rb"))
    report = {"households": households}

    if args.pe_python:
        out = args.bench / "pe.json"
        wall, _ = run([args.pe_python, str(PE_ORACLE), str(args.bench / "h.pe.json"), "--mode", "frame",
                       "-o", str(out)], stdout=subprocess.DEVNULL)
        engine_info = json.loads(out.read_text()).get("engine", {})
        report["pe_calc_seconds"] = engine_info.get("calc_seconds")
        report["pe_process_seconds"] = round(wall, 2)

    out = args.bench / "ours.jsonl"
    for old in args.bench.glob("ours.jsonl*"):
        old.unlink()
    command = [sys.executable, "-m", "engine", "batch", str(cases), "--as-of", args.as_of,
               "--out", str(out), "--workers", str(args.workers), "--policy", str(ROOT / "policy")]
    wall, cpu = run(["/usr/bin/time", "-f", "%M", "-o", str(args.bench / "rss.txt"), *command],
                    stderr=subprocess.DEVNULL)
    written = sum(p.stat().st_size for p in args.bench.glob("ours.jsonl*"))
    report.update(ours_seconds=round(wall, 2), ours_cpu_seconds=round(cpu, 2),
                  ours_peak_rss_mb=round(int((args.bench / "rss.txt").read_text().split()[-1]) / 1024, 1),
                  bytes_per_household=round(written / households))
    if report.get("pe_calc_seconds"):
        report["speed_vs_pe_calc"] = round(report["pe_calc_seconds"] / wall, 2)

    sys.path.insert(0, str(ROOT))
    from engine import Engine
    from engine.tools.batch import Task, encode_task
    from engine.tools.batch_output import RecordEncoder
    engine = Engine.load(ROOT / "policy")
    encoder = RecordEncoder("deciding")
    lines = open(cases, encoding="utf-8").read().splitlines()[:args.in_process]
    tasks = [Task(f"h:{i}", "json", line) for i, line in enumerate(lines)]
    encode_task(engine, tasks[0], args.as_of, None, encoder)       # warm the caches
    started, cpu_started = time.perf_counter(), time.process_time()
    for task in tasks:
        encode_task(engine, task, args.as_of, None, encoder)
    report["in_process_households_per_second"] = round(len(tasks) / (time.perf_counter() - started))
    report["in_process_households_per_cpu_second"] = round(len(tasks) / (time.process_time() - cpu_started))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
