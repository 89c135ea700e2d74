"""The Spark runner against the local runner, on the same generated households.

    python benchmarks/spark_runner.py BENCH_DIR [--households N] [--runs local1,local2,spark1,spark2]

Generates ``N`` households with ``../shared/bench/gen_households.py`` into BENCH_DIR (unless
``h.cases.jsonl`` is there already), then runs ``policy batch`` on them as of 2025-08-01 with
every output and citation ids:

* ``local1`` / ``local2``: the local runner, ``--workers 1`` / ``--workers 2``;
* ``spark1`` / ``spark2``: ``--runner spark --spark-master local[1]`` / ``local[2]``.

For each: the whole command's wall time, the evaluation's own rate as the command reports it
(for Spark this leaves out starting the JVM and the session), and whether the output and its
citation table are byte for byte those of the first run.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT.parent / "shared" / "bench" / "gen_households.py"

RUNS = {
    "local1": ["--workers", "1"],
    "local2": ["--workers", "2"],
    "spark1": ["--runner", "spark", "--spark-master", "local[1]"],
    "spark2": ["--runner", "spark", "--spark-master", "local[2]"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench_dir", type=Path)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--runs", default="local1,local2,spark1,spark2")
    args = parser.parse_args()
    args.bench_dir.mkdir(parents=True, exist_ok=True)
    cases = args.bench_dir / "h.cases.jsonl"
    if not cases.exists():
        subprocess.run([sys.executable, str(GENERATOR), str(args.households),
                        str(args.bench_dir / "h"), "5"], check=True)
    count = sum(1 for _ in open(cases, "rb"))
    print(f"{count} households in {cases}")
    first = None
    for name in args.runs.split(","):
        out = args.bench_dir / f"{name}.jsonl"
        command = ["policy", "batch", str(cases), "--as-of", "2025-08-01", "--out", str(out),
                   *RUNS[name]]
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        wall = time.monotonic() - started
        rate = re.search(r"(\d+) cases/s", done.stderr)
        same = "-"
        if first is None:
            first = out
        else:
            same = str(filecmp.cmp(first, out, shallow=False) and filecmp.cmp(
                f"{first}.citations.json", f"{out}.citations.json", shallow=False))
        print(f"{name:7} exit {done.returncode}  wall {wall:7.1f} s  "
              f"{count / wall:7.0f} households/s overall  "
              f"{rate.group(1) if rate else '?':>6} cases/s evaluating  same as {first.name}: {same}",
              flush=True)


if __name__ == "__main__":
    main()
