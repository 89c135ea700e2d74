"""Throughput and latency of the engine on synthetic households, and cold start of `policy eval`.

    python benchmarks/throughput.py [--households 5000] [--seed 1] [--as-of 2025-06-01]

Targets (first cut, one core, citations and traces on): at least 2,000 households a second, and
under 0.5 s for `policy eval` on one case from a cold start. Every result's citations are
collected for every household (the cost a caller pays to print them), so the figure is honest.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import Engine  # noqa: E402

FREQUENCIES = [("hourly", 40), ("weekly", None), ("biweekly", None), ("semimonthly", None),
               ("monthly", None), ("annual", None)]


def household(rng: random.Random, index: int) -> dict:
    """A synthetic household: one or two parents and zero to five children, with wages."""
    people = []
    adults = rng.choice([1, 2])
    for a in range(adults):
        frequency, hours = rng.choice(FREQUENCIES)
        scale = {"hourly": 20, "weekly": 700, "biweekly": 1400, "semimonthly": 1500,
                 "monthly": 3000, "annual": 36000}[frequency]
        income = {"type": "wages", "amount": f"{rng.uniform(0.2, 2.0) * scale:.2f}", "frequency": frequency}
        if hours:
            income["hours_per_week"] = rng.choice([20, 30, 40])
        people.append({"id": f"p{a}", "age": rng.randint(19, 60), "sex": rng.choice(["female", "male"]),
                       "tax_filer": a == 0, "spouse": ("p1" if a == 0 else "p0") if adults == 2 else None,
                       "incomes": [income] if rng.random() < 0.85 else []})
    for c in range(rng.randint(0, 5)):
        people.append({"id": f"c{c}", "age": rng.randint(0, 18), "claimed_by": "p0",
                       "parents": [f"p{a}" for a in range(adults)], "insured": rng.random() < 0.1})
    return {"case_id": f"hh{index}", "people": people}


def in_process(engine: Engine, cases: list[dict], as_of: str,
               citations: bool = True) -> tuple[float, float, float]:
    """Households per second (wall clock), the median latency, and the CPU time per household
    (the figure to compare on a shared machine, where the wall clock includes waiting)."""
    latencies = []
    start, cpu = time.perf_counter(), time.process_time()
    for case in cases:
        t0 = time.perf_counter()
        evaluation = engine.evaluate(case, as_of=as_of)
        if citations:
            for result in evaluation.results:
                result.citations   # every result's citations, as a caller printing them would
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    cpu = (time.process_time() - cpu) / len(cases)
    return len(cases) / elapsed, statistics.median(latencies), cpu


def cold_start(runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "engine", "eval", str(ROOT / "examples" / "jones.yaml"),
                        "--format", "json"], check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default="2025-06-01")
    parser.add_argument("--skip-cold-start", action="store_true")
    parser.add_argument("--no-citations", action="store_true",
                        help="evaluate only: do not read the results' citations")
    args = parser.parse_args()

    t0 = time.perf_counter()
    engine = Engine.load(ROOT / "policy")
    load_time = time.perf_counter() - t0
    rng = random.Random(args.seed)
    cases = [household(rng, i) for i in range(args.households)]
    engine.evaluate(cases[0], as_of=args.as_of)      # warm the per-date caches once
    rate, median, cpu = in_process(engine, cases, args.as_of, not args.no_citations)
    people = sum(len(c["people"]) for c in cases)
    collected = "not collected" if args.no_citations else "collected"
    print(f"rulebooks loaded and compiled in {load_time * 1000:.0f} ms")
    print(f"{args.households} households ({people} people) as of {args.as_of}")
    print(f"throughput: {rate:,.0f} households/s on one core (citations {collected})")
    print(f"median latency: {median * 1000:.3f} ms per household")
    print(f"CPU time: {cpu * 1000:.3f} ms per household ({1 / cpu:,.0f} households per CPU second)")
    if not args.skip_cold_start:
        print(f"cold start, `policy eval examples/jones.yaml` (median of 5): {cold_start():.3f} s")


if __name__ == "__main__":
    main()
