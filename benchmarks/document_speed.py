"""The result document's cost (``policy eval --format json``, ``POST /v1/evaluate``), several
source trees side by side, in one run.

    python benchmarks/document_speed.py TREE [TREE ...] [--rounds 3] [--households 100]

Each TREE is a checkout of this repository. Every round measures every tree in turn, each in a
fresh process with the same interpreter (so that the trees share the machine's load as evenly as
a shared machine allows); then the median of the rounds is printed per tree. CPU time
(``time.process_time``), milliseconds per case:

* ``jones_eval``: evaluating examples/jones.yaml (read once beforehand), every output;
* ``jones_document``: building ``eval_document`` (values, deciding citations, reasons) of a
  fresh evaluation of it, without the evaluation;
* ``jones_json``: writing that document as ``policy eval --format json`` does (``json.dumps``
  with an indent of 2);
* ``household_eval`` and ``household_document``: the same for synthetic households
  (``throughput.household``, seed 1, as of 2025-06-01), already read.

Best of 5 repetitions for Jones; the households once each, in order.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time

from tree_rounds import compare_trees

MEASURES = ["jones_eval_ms", "jones_document_ms", "jones_json_ms", "household_eval_ms",
            "household_document_ms"]


def measure(root: str, households: int) -> dict:
    """Every measure for the tree at ``root``, in this process (which imports that tree)."""
    sys.path.insert(0, root)
    sys.path.insert(0, os.path.join(root, "benchmarks"))
    os.environ.setdefault("POLICY_NO_CACHE", "1")
    from engine import Engine                     # the tree's own engine
    from engine.tools.documents import eval_document
    from throughput import household              # the same generator in every tree

    engine = Engine.load(os.path.join(root, "policy"))
    jones = engine.read_case(os.path.join(root, "examples", "jones.yaml"))
    for _ in range(50):                           # warm the per-date caches and memos
        json.dumps(eval_document(engine.evaluate(jones)), indent=2, ensure_ascii=False)

    def best(repeat: int) -> tuple[float, float, float]:
        rounds = []
        for _ in range(5):
            evaluations = []
            start = time.process_time()
            for _ in range(repeat):
                evaluations.append(engine.evaluate(jones))
            evaluated = time.process_time()
            documents = [eval_document(e) for e in evaluations]
            built = time.process_time()
            for document in documents:
                json.dumps(document, indent=2, ensure_ascii=False)
            written = time.process_time()
            rounds.append(((evaluated - start) / repeat, (built - evaluated) / repeat,
                           (written - built) / repeat))
        return tuple(min(r[i] for r in rounds) * 1000 for i in range(3))

    out = dict(zip(MEASURES[:3], best(200)))
    rng = random.Random(1)
    cases = [engine.read_case(household(rng, i)) for i in range(households)]
    eval_document(engine.evaluate(cases[0], as_of="2025-06-01"))
    start = time.process_time()
    evaluations = [engine.evaluate(case, as_of="2025-06-01") for case in cases]
    evaluated = time.process_time()
    for evaluation in evaluations:
        eval_document(evaluation)
    built = time.process_time()
    out["household_eval_ms"] = (evaluated - start) / len(cases) * 1000
    out["household_document_ms"] = (built - evaluated) / len(cases) * 1000
    return out


def main() -> None:
    compare_trees(__file__, __doc__.splitlines()[0], measure, MEASURES, households=100)


if __name__ == "__main__":
    main()
