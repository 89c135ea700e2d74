"""How long reading one case takes, per household, step by step: parse, normalise, validate, build.

    python benchmarks/read_cases.py [CASES.jsonl] [--households 3000] [--rounds 5] [--profile]

Every path that evaluates a case (``policy eval``, ``policy batch`` with either evaluator, the
HTTP service) reads it the same way: the JSON text is parsed (decimals exactly, as
``engine.tools.tasks.case_data`` does), the data normalised (``engine.api``), validated against
``schemas/case.schema.json`` (``engine.io.schemas.validate``) and turned into the entity tree
(``engine.model.entities.build_case``). This measures each step and the whole
``Engine.read_case`` of the parsed data, in CPU time (``time.process_time``: on a shared machine
the wall clock mostly measures the others), best of ``--rounds`` passes over the households.

Without CASES the households are generated (``throughput.household``, seed 1). ``--profile``
prints a cProfile of ``read_case`` over the households instead of the timings. The last line
reads each line as ``policy batch`` does (``engine.tools.tasks.case_data``, which parses with
``engine.io.case_data.loads_exact`` where the tree has it, then ``Engine.read_case``).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import sys
import time
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))


def lines_of(path: str | None, households: int) -> list[str]:
    if path:
        with open(path, encoding="utf-8") as handle:
            return [line for _, line in zip(range(households), handle) if line.strip()]
    from throughput import household
    import random
    rng = random.Random(1)
    return [json.dumps(household(rng, i)) for i in range(households)]


def best(step, items, rounds: int, paused: bool = False) -> float:
    """Best CPU seconds per item of ``step`` over ``items``; ``paused``: with the cyclic
    collector paused during each pass, as ``policy batch`` pauses it around a chunk (what it
    would have collected is collected after the pass, outside the time)."""
    times = []
    for _ in range(rounds):
        gc.collect()
        if paused:
            gc.disable()
        start = time.process_time()
        for item in items:
            step(item)
        times.append((time.process_time() - start) / len(items))
        gc.enable()
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="?")
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("POLICY_NO_CACHE", "1")

    from engine import Engine
    from engine.io.schemas import validate
    from engine.model.entities import build_case
    import inspect
    if "validated" in inspect.signature(build_case).parameters:
        def build(data, root, file):         # as read_case builds a validated case
            return build_case(data, root, file, validated=True)
    else:
        build = build_case
    try:
        from engine.io.case_data import normalise_case
    except ImportError:                      # a tree from before engine.io.case_data
        from engine.api import _normalise

        def normalise_case(data):
            return _normalise(data), False

        def check(data, plain):
            return validate("case", data, None)
    else:
        def check(data, plain):
            return validate("case", data, None, plain=plain)

    engine = Engine.load(os.path.join(ROOT, "policy"))
    root = engine.program.root_kind
    lines = lines_of(args.cases, args.households)
    parsed = [json.loads(line, parse_float=Decimal) for line in lines]
    normalised = [normalise_case(data) for data in parsed]
    for data in parsed:                      # warm every lazy import and compiled validator
        engine.read_case(data)

    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for data in parsed:
            engine.read_case(data)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        return

    try:                                     # the batch's parser of a line (orjson where exact)
        from engine.io.case_data import loads_exact
    except ImportError:                      # a tree from before it
        def loads_exact(line):
            return json.loads(line, parse_float=Decimal)
    from engine.tools.tasks import Task, case_data
    tasks = [Task(f"cases.jsonl:{i + 1}", "json", line) for i, line in enumerate(lines)]

    def batch_read(task):                    # as policy batch reads a task: case_data, read_case
        return engine.read_case(case_data(task))

    steps = {
        "parse (json.loads, exact decimals)": (lambda line: json.loads(line, parse_float=Decimal), lines),
        "parse as a batch does (loads_exact)": (loads_exact, lines),
        "normalise": (normalise_case, parsed),
        "validate": (lambda pair: check(*pair), normalised),
        "build the entity tree": (lambda pair: build(pair[0], root, None), normalised),
        "read_case (normalise + validate + build)": (engine.read_case, parsed),
        "whole read (parse + read_case)":
            (lambda line: engine.read_case(json.loads(line, parse_float=Decimal)), lines),
    }
    print(f"{len(lines)} households, CPU time per household, best of {args.rounds}:")
    for label, (step, items) in steps.items():
        print(f"  {label:44s} {best(step, items, args.rounds) * 1e6:8.1f} us")
    label, (step, items) = "whole read, collector paused", steps["whole read (parse + read_case)"]
    print(f"  {label:44s} {best(step, items, args.rounds, paused=True) * 1e6:8.1f} us")
    label = "batch read (case_data + read_case), paused"
    print(f"  {label:44s} {best(batch_read, tasks, args.rounds, paused=True) * 1e6:8.1f} us")


if __name__ == "__main__":
    main()
