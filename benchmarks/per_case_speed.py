"""The per-case evaluator's speed, several source trees side by side, in one run.

    python benchmarks/per_case_speed.py TREE [TREE ...] [--rounds 3] [--households 300]

Each TREE is a checkout of this repository (a `git worktree add /tmp/a1ad5b8 a1ad5b8` of an
earlier commit, say). Every round measures every tree in turn, each in a fresh process with the
same interpreter, so that the trees share the machine's load as evenly as a shared machine allows;
then the median of the rounds is printed per tree. CPU time (`time.process_time`), not the wall
clock: on a shared machine the wall clock mostly measures the others.

Measured per tree (each with that tree's own rulebooks and engine):

* Jones, contract results: `engine.evaluate(jones, names=...)` of the seven results the contract
  requires, with every result's citations read (the case read once beforehand; best of 5 x 300);
* Jones, every result: the same with every output;
* households: synthetic households (`throughput.household`, seed 1, as of 2025-06-01) read,
  validated and evaluated from mappings, every result's citations read, per household;
* evaluation only: the same households already read, no citation read;
* citations only: reading every result's citations of a household just evaluated.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time

CONTRACT = ["magi.household_size", "magi.household_income", "magi.fpl_percent",
            "eligibility.level_of_care", "chip.family_premium", "msp.level", "twha.premium"]
MEASURES = ["jones_contract_ms", "jones_all_ms", "household_ms", "evaluation_only_ms",
            "citations_only_ms"]


def measure(root: str, households: int) -> dict:
    """Every measure for the tree at ``root``, in this process (which imports that tree)."""
    sys.path.insert(0, root)
    sys.path.insert(0, os.path.join(root, "benchmarks"))
    os.environ.setdefault("POLICY_NO_CACHE", "1")
    from engine import Engine                     # the tree's own engine
    from throughput import household              # the same generator in every tree

    engine = Engine.load(os.path.join(root, "policy"))
    jones = engine.read_case(os.path.join(root, "examples", "jones.yaml"))

    def jones_run(names):
        for result in engine.evaluate(jones, names=names).results:
            result.citations

    def best(fn, repeat: int) -> float:
        times = []
        for _ in range(5):
            start = time.process_time()
            for _ in range(repeat):
                fn()
            times.append((time.process_time() - start) / repeat)
        return min(times) * 1000

    for _ in range(50):                           # warm the per-date caches and memos
        jones_run(CONTRACT)
        jones_run(None)
    out = {"jones_contract_ms": best(lambda: jones_run(CONTRACT), 300),
           "jones_all_ms": best(lambda: jones_run(None), 100)}

    rng = random.Random(1)
    cases = [household(rng, i) for i in range(households)]
    engine.evaluate(cases[0], as_of="2025-06-01")
    start = time.process_time()
    for case in cases:
        for result in engine.evaluate(case, as_of="2025-06-01").results:
            result.citations
    out["household_ms"] = (time.process_time() - start) / len(cases) * 1000

    prepared = [engine.read_case(case) for case in cases]
    start = time.process_time()
    for case in prepared:
        engine.evaluate(case, as_of="2025-06-01")
    out["evaluation_only_ms"] = (time.process_time() - start) / len(prepared) * 1000

    total = 0.0
    for case in prepared:
        evaluation = engine.evaluate(case, as_of="2025-06-01")
        start = time.process_time()
        for result in evaluation.results:
            result.citations
        total += time.process_time() - start
    out["citations_only_ms"] = total / len(prepared) * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", help="checkouts of this repository to compare")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--households", type=int, default=300)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.trees[0], args.households)))
        return
    runs: dict[str, list[dict]] = {tree: [] for tree in args.trees}
    for round_ in range(1, args.rounds + 1):
        for tree in args.trees:
            done = subprocess.run([sys.executable, __file__, "--one", tree,
                                   "--households", str(args.households)],
                                  capture_output=True, text=True, check=True)
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            runs[tree].append(figures)
            shown = "  ".join(f"{k[:-3]} {v:.3f}" for k, v in figures.items())
            print(f"round {round_} {tree}: {shown}", flush=True)
    print("\nmedian of the rounds, ms (CPU):")
    print("tree".ljust(30) + "".join(m[:-3].rjust(18) for m in MEASURES))
    for tree, figures in runs.items():
        print(tree.ljust(30) + "".join(
            f"{statistics.median(f[m] for f in figures):18.3f}" for m in MEASURES))


if __name__ == "__main__":
    main()
