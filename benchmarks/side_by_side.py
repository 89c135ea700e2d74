"""Side by side with PolicyEngine-US on the same households, in one run (issue 12's targets).

    python benchmarks/side_by_side.py BENCH_DIR --pe-python /path/to/pe-venv/bin/python

``BENCH_DIR`` holds ``h.cases.jsonl`` and ``h.pe.json`` from ``../shared/bench/gen_households.py``.
PolicyEngine-US runs as an external program in its own virtual environment (never imported
here). Measured, in this order on the same machine:

1. PolicyEngine's frame calculation (``engine.calc_seconds``: its ~50 s import excluded);
2. our whole ``policy batch --workers 2`` process (contract outputs, default citation ids), wall
   and CPU time, peak RSS and bytes written per household (all files), ``--rounds`` times (the
   median is compared with PolicyEngine's; every round is listed, since the first process after
   PolicyEngine's, which frees a few GB, often runs slower);
3. our in-process throughput on one core: read, validate, evaluate and encode each line with
   citation ids, as a worker does, with the worker's handling of the cyclic collector (frozen
   after the warm-up, off, and a full collection every ``COLLECT_AFTER`` cases, counted in the
   time).

Wall times on a shared machine vary with the other load; the CPU times are the steadier figure.
"""

from __future__ import annotations

import argparse
import gc
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
    parser.add_argument("--evaluator", default="columnar", choices=["columnar", "per-case"],
                        help="the evaluator of the policy batch run")
    parser.add_argument("--in-process-evaluators", default="columnar,per-case",
                        help="evaluators measured in-process on one core (comma-separated)")
    parser.add_argument("--skip-batch", action="store_true", help="only the in-process figures")
    parser.add_argument("--rounds", type=int, default=3, help="runs of our policy batch (median kept)")
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
    if args.skip_batch:
        in_process(args, cases, report)
        print(json.dumps(report, indent=2))
        return
    command = [sys.executable, "-m", "engine", "batch", str(cases), "--as-of", args.as_of,
               "--out", str(out), "--workers", str(args.workers), "--policy", str(ROOT / "policy"),
               "--evaluator", args.evaluator]
    report["evaluator"] = args.evaluator
    rounds = []
    for _ in range(max(1, args.rounds)):
        for old in args.bench.glob("ours.jsonl*"):
            old.unlink()
        wall, cpu = run(["/usr/bin/time", "-f", "%M", "-o", str(args.bench / "rss.txt"), *command],
                        stderr=subprocess.DEVNULL)
        rss = int((args.bench / "rss.txt").read_text().split()[-1]) / 1024
        rounds.append((wall, cpu, rss))
    wall, cpu, rss = sorted(rounds)[len(rounds) // 2]
    written = sum(p.stat().st_size for p in args.bench.glob("ours.jsonl*"))
    report.update(ours_seconds=round(wall, 2), ours_cpu_seconds=round(cpu, 2),
                  ours_rounds_seconds=[round(r[0], 2) for r in rounds],
                  ours_peak_rss_mb=round(max(r[2] for r in rounds), 1),
                  bytes_per_household=round(written / households))
    if report.get("pe_calc_seconds"):
        report["speed_vs_pe_calc"] = round(report["pe_calc_seconds"] / wall, 2)

    in_process(args, cases, report)
    print(json.dumps(report, indent=2))


def in_process(args, cases: Path, report: dict) -> None:
    """Households per second on one core: read, validate, evaluate and encode each line with
    citation ids, as a worker does, by each evaluator (chunks of cases for the columnar one).

    The cyclic collector is handled as a ``policy batch`` worker handles it
    (``engine.tools.batch._init_worker`` and ``_work_chunk``): what is alive after the warm-up
    is frozen, the collector is off, and a full collection runs before a chunk once
    ``COLLECT_AFTER`` cases have been evaluated since the last one (its time counted). With
    the collector left on, each chunk's garbage would instead be collected when the chunk
    ends (``paused_collector``), about the same work at other moments."""
    sys.path.insert(0, str(ROOT))
    from engine import Engine
    from engine.tools.batch import COLLECT_AFTER, Task, chunks, encode_chunk
    from engine.tools.batch_output import RecordEncoder
    from engine.tools.columnar_batch import COLUMNAR_CHUNK
    engine = Engine.load(ROOT / "policy")
    lines = open(cases, encoding="utf-8").read().splitlines()[:args.in_process]
    tasks = [Task(f"h:{i}", "json", line) for i, line in enumerate(lines)]
    report["in_process_households"] = len(tasks)
    for evaluator in args.in_process_evaluators.split(","):
        encoder = RecordEncoder("deciding")
        size = COLUMNAR_CHUNK if evaluator == "columnar" else 1
        encode_chunk(engine, tasks[:size], args.as_of, None, encoder, evaluator)  # warm the caches
        enabled = gc.isenabled()
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            started, cpu_started = time.perf_counter(), time.process_time()
            written = uncollected = 0
            for chunk in chunks(tasks, size):
                if uncollected >= COLLECT_AFTER:
                    gc.collect()
                    uncollected = 0
                uncollected += len(chunk)
                for line, _ in encode_chunk(engine, chunk, args.as_of, None, encoder, evaluator):
                    written += len(line)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        finally:
            gc.unfreeze()
            if enabled:
                gc.enable()
        report[f"in_process_{evaluator}_households_per_second"] = round(len(tasks) / wall)
        report[f"in_process_{evaluator}_households_per_cpu_second"] = round(len(tasks) / cpu)


if __name__ == "__main__":
    main()
