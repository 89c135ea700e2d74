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

import os
import random
import sys
import time

from tree_rounds import compare_trees

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
    compare_trees(__file__, __doc__.splitlines()[0], measure, MEASURES, households=300)


if __name__ == "__main__":
    main()
