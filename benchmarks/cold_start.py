"""Cold start of ``policy eval`` on one household, above a bare Python start.

Runs each command several times in a new process and reports the fastest wall time and the
fastest CPU time (user + system of the child), which is what matters on a shared machine:

* ``python -c pass`` (the floor: the interpreter itself);
* ``policy eval`` through the full application with no rulebook cache (the old start);
* ``policy eval`` as shipped: the one-command entry point and the compiled-rulebook cache.

    python benchmarks/cold_start.py --runs 7
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "examples" / "jones.yaml"


def measure(command: list[str], env: dict, runs: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="policy-cache-")
    env = dict(os.environ, POLICY_CACHE_DIR=cache)
    python = sys.executable
    rows = [
        ("python -c pass", [python, "-c", "pass"], env),
        ("policy eval, full app, no cache (before)",
         [python, "-c", "from engine.cli.app import main; main()", "eval", str(CASE), "--format", "json"],
         dict(env, POLICY_NO_CACHE="1")),
        ("policy eval, as shipped, cache warm",
         [python, "-m", "engine", "eval", str(CASE), "--format", "json"], env),
    ]
    subprocess.run(rows[2][1], env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)  # warm it
    floor = None
    print(f"{'command':45} {'wall':>8} {'cpu':>8} {'cpu above python':>17}")
    for label, command, environment in rows:
        wall, cpu = measure(command, environment, args.runs)
        floor = cpu if floor is None else floor
        print(f"{label:45} {wall:8.3f} {cpu:8.3f} {cpu - floor:17.3f}")


if __name__ == "__main__":
    main()
