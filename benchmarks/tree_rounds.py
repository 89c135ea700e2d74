"""Several source trees measured side by side in one run: the driver the per-tree benchmarks share.

Every round measures every tree in turn, each in a fresh process started from the calling script
with ``--one TREE`` (so each process imports that tree's own engine, and the trees share the
machine's load as evenly as a shared machine allows); then the median of the rounds is printed
per tree.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from typing import Callable


def compare_trees(script: str, description: str, measure: Callable[[str, int], dict],
                  measures: list[str], households: int) -> None:
    """Parse the command line of ``script`` and run its rounds, or (with ``--one``) measure one
    tree in this process and print its figures as a JSON line for the parent."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("trees", nargs="+", help="checkouts of this repository to compare")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--households", type=int, default=households)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.trees[0], args.households)))
        return
    runs: dict[str, list[dict]] = {tree: [] for tree in args.trees}
    for round_ in range(1, args.rounds + 1):
        for tree in args.trees:
            done = subprocess.run([sys.executable, script, "--one", tree,
                                   "--households", str(args.households)],
                                  capture_output=True, text=True, check=True)
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            runs[tree].append(figures)
            shown = "  ".join(f"{k[:-3]} {v:.3f}" for k, v in figures.items())
            print(f"round {round_} {tree}: {shown}", flush=True)
    width = max(18, max(len(m) for m in measures))
    print("\nmedian of the rounds, ms (CPU):")
    print("tree".ljust(30) + "".join(m[:-3].rjust(width) for m in measures))
    for tree, figures in runs.items():
        print(tree.ljust(30) + "".join(
            f"{statistics.median(f[m] for f in figures):{width}.3f}" for m in measures))
