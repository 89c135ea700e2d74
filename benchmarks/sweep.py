"""Measure `policy sweep`: evaluations and time per sweep, and the time to draw its picture.

    python benchmarks/sweep.py

Counts every evaluation through engine.sweep.points.evaluate_points (grid points, bisection and
the two cents either side of each change), best of three runs each, on the example cases.
"""

from __future__ import annotations

import time
from pathlib import Path

import engine.tools.sweep.core as core
from engine import Engine
from engine.tools.plotting import png_of
from engine.tools.sweep import money, sweep
from engine.tools.sweep.picture import draw, svg

ROOT = Path(__file__).resolve().parent.parent
RUNS = [("jones.yaml", "dad", "6000", "100"), ("jones.yaml", "dad", "6000", "6000"),
        ("mother-of-two-2025.yaml", "mom", "7500", "100"),
        ("mother-of-two-2025.yaml", "mom", "7500", "10")]


def main() -> None:
    engine = Engine.load(ROOT / "policy")
    followed, amounts = core.default_names(engine.program)
    count = [0]
    original = core.evaluate_points

    def counting(engine_, cases, *args, **kwargs):
        count[0] += len(cases)
        return original(engine_, cases, *args, **kwargs)

    core.evaluate_points = counting
    print("case | step | points | changes | evaluations | best time | per evaluation")
    result = None
    for case, person, stop, step in RUNS:
        best = None
        for _ in range(3):
            count[0] = 0
            start = time.perf_counter()
            result = sweep(engine, ROOT / "examples" / case, person, 0, money(stop, ""),
                           money(step, ""), names=followed, amounts=amounts)
            took = time.perf_counter() - start
            best = took if best is None else min(best, took)
        print(f"{case} | ${step} | {len(result.incomes)} | {len(result.changes)} | {count[0]} | "
              f"{best:.2f} s | {best / count[0] * 1000:.1f} ms")
    core.evaluate_points = original
    for name, draw_it in (("svg", lambda: svg(result, tooltips=True)),
                          ("png", lambda: png_of(draw(result)[0]))):
        best = min(_timed(draw_it) for _ in range(3))
        print(f"picture {name}: {best:.2f} s")


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
