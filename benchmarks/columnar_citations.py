"""In-process households per CPU-second with deciding citations: columnar plan vs per case.

    python benchmarks/columnar_citations.py [--households 10000] [--seed 5]

Generates households with ``tests/tools/households.py`` (every program reachable), then for each
evaluator reads, validates, evaluates and encodes every household as a ``policy batch`` worker
does, with deciding citations as ids (``RecordEncoder("deciding")``), one core, and prints the
CPU time (``time.process_time``: the machine is shared, so the wall clock is not the figure) and
whether both evaluators wrote the same bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--as-of", default="2025-08-01")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from engine import Engine
    from engine.runtime.columnar import ColumnarStats
    from engine.tools.batch import Task, chunks, encode_chunk
    from engine.tools.batch_output import RecordEncoder
    from engine.tools.columnar_batch import COLUMNAR_CHUNK
    from tests.tools.households import households

    engine = Engine.load(ROOT / "policy")
    lines = [json.dumps(h) for h in households(args.households, seed=args.seed)]
    tasks = [Task(f"h:{i}", "json", line) for i, line in enumerate(lines)]
    written = {}
    for evaluator in ("columnar", "per-case"):
        encoder = RecordEncoder("deciding")
        size = COLUMNAR_CHUNK if evaluator == "columnar" else 1
        encode_chunk(engine, tasks[:size], args.as_of, None, encoder, evaluator)  # warm caches
        stats = ColumnarStats()
        out = []
        cpu_started = time.process_time()
        for chunk in chunks(tasks, size):
            out.extend(line for line, _ in encode_chunk(engine, chunk, args.as_of, None, encoder,
                                                        evaluator, stats))
        cpu = time.process_time() - cpu_started
        written[evaluator] = out
        print(f"{evaluator}: {len(tasks)} households in {cpu:.1f} CPU s, "
              f"{len(tasks) / cpu:,.0f} per CPU-second"
              + (f" (fallbacks {stats.fallback_cases}, for citations "
                 f"{stats.citation_fallbacks})" if evaluator == "columnar" else ""))
    same = written["columnar"] == written["per-case"]
    print(f"same lines: {same}; bytes per household {sum(map(len, written['columnar'])) / len(tasks):,.0f}")


if __name__ == "__main__":
    main()
