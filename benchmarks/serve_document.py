"""What one `POST /v1/evaluate` costs in process, step by step: evaluate, build the document,
encode it.

    python benchmarks/serve_document.py [--only-contract] [--rounds 7] [--count 100]

For the Jones household (examples/jones.yaml), each round evaluates the case ``--count`` times,
then builds ``policy eval --format json``'s document for each evaluation
(``engine.tools.documents.eval_document``), then encodes each as the endpoint does
(``engine.service.encoding.dumps``; ``json.dumps`` in a tree from before it existed). Prints the
best round's CPU milliseconds per case for each step and the body's size. CPU time
(``time.process_time``) so that a machine shared with other work still gives comparable figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from serve_load import CONTRACT  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only-contract", action="store_true", help="Only the contract's results.")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    from engine import Engine
    from engine.tools.documents import eval_document
    try:
        from engine.service.encoding import dumps
    except ImportError:
        def dumps(document):
            return json.dumps(document, ensure_ascii=False).encode("utf-8")
    engine = Engine.load(ROOT / "policy")
    data = json.loads(json.dumps(yaml.safe_load((ROOT / "examples" / "jones.yaml").read_text()),
                                 default=str))
    only = CONTRACT if args.only_contract else None
    for _ in range(20):
        dumps(eval_document(engine.evaluate(data, names=only)))
    best = [float("inf")] * 3
    for _ in range(args.rounds):
        started = time.process_time()
        evaluations = [engine.evaluate(data, names=only) for _ in range(args.count)]
        evaluated = time.process_time()
        documents = [eval_document(e) for e in evaluations]
        built = time.process_time()
        bodies = [dumps(d) for d in documents]
        encoded = time.process_time()
        for i, spent in enumerate((evaluated - started, built - evaluated, encoded - built)):
            best[i] = min(best[i], 1000 * spent / args.count)
    print(f"{'contract results' if only else 'every result'}: evaluate {best[0]:.2f} ms, "
          f"document {best[1]:.2f} ms, encode {best[2]:.2f} ms (CPU per case, best of "
          f"{args.rounds} x {args.count}); body {len(bodies[0]):,} bytes")


if __name__ == "__main__":
    main()
