"""The columnar plan against the per-case evaluator on many households: mismatches and fallbacks.

    python benchmarks/columnar_differential.py [--households 10000] [--seed 5]
    python benchmarks/columnar_differential.py --cases ../shared/bench/h.cases.jsonl

The comparison of ``tests/tools/test_columnar.py`` at benchmark scale: every household
(``tests/tools/households.py``, every program reachable, or the cases of a JSONL file) is
evaluated by the plan in chunks as ``policy batch`` hands them over, and by ``Engine.evaluate``;
each result must agree on its name, person, printed value, deciding citations in order, read-set,
own citations and mask. Prints the counts (0 mismatches expected) and the CPU time of each side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--cases", help="a JSONL file of cases instead of generated households")
    parser.add_argument("--as-of", default="2025-08-01")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from engine import Engine
    from engine.runtime.columnar import ColumnarStats, evaluate_cases
    from engine.runtime.results import json_value
    from engine.runtime.trace import citation_mask, collect_citations
    from engine.tools.columnar_batch import COLUMNAR_CHUNK
    from tests.tools.households import households

    engine = Engine.load(ROOT / "policy")
    on = dt.date.fromisoformat(args.as_of)
    if args.cases:
        with open(args.cases, encoding="utf-8") as lines:
            data = [json.loads(line) for line in lines if line.strip()]
    else:
        data = households(args.households, seed=args.seed)
    stats = ColumnarStats()
    mismatches, compared = [], 0
    plan_cpu = per_case_cpu = 0.0
    for start in range(0, len(data), COLUMNAR_CHUNK):
        chunk = data[start:start + COLUMNAR_CHUNK]
        cases = [engine.read_case(h) for h in chunk]
        started = time.process_time()
        got = evaluate_cases(engine, cases, on, stats=stats)
        plan_cpu += time.process_time() - started
        for h, evaluation in zip(chunk, got):
            started = time.process_time()
            expected = engine.evaluate(h, as_of=on).results
            per_case_cpu += time.process_time() - started
            if evaluation is None:       # given to the per-case evaluator: counted in stats
                continue
            want = [(r.name, r.person, json_value(r.shown_value), r.citations,
                     collect_citations(r.node), r.node.own_citations, citation_mask(r.node))
                    for r in expected]
            have = [(r.name, r.person, json_value(r.shown_value), r.citations, r.provenance,
                     r.own, r.mask) for r in evaluation.results]
            compared += len(want)
            if want != have:
                mismatches.append(h.get("case_id"))
    print(f"{len(data)} households, {compared} results compared: {len(mismatches)} mismatches "
          f"{mismatches[:10]}, {stats.fallback_cases} fallbacks "
          f"({stats.citation_fallbacks} for citations); evaluation CPU: plan {plan_cpu:.1f} s, "
          f"per case {per_case_cpu:.1f} s")


if __name__ == "__main__":
    main()
