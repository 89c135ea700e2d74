"""The columnar plan on the deciding-citation fixture (``tests/engine/fixtures/deciding``): each
construct that selects what decided (``or``, ``max``, ``any``, first-match branches, decision
tables, an ``or`` in an aggregate's filter) gives the per-case deciding citations, in order; the
table whose cells read cited values, which the plan does not follow, sends its cases to the
per-case evaluator when citations are wanted, and the output is the same."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from engine import Engine
from engine.runtime.columnar import ColumnarStats
from engine.tools.columnar_batch import evaluate_chunk
from engine.tools.tasks import Task

FIXTURE = Path(__file__).resolve().parent.parent / "engine" / "fixtures" / "deciding"
ON = dt.date(2025, 1, 1)


def _cases(count: int) -> list[dict]:
    rng = random.Random(17)
    out = []
    for index in range(count):
        people = [{"id": f"p{k}", "age": rng.choice([10, 30, 70]),
                   "transfer_value": rng.choice([0, 50, 100, 150, 200, 250, 500]),
                   "pregnant": rng.random() < 0.3} for k in range(rng.randint(1, 3))]
        out.append({"case_id": f"c{index}", "people": people})
    return out


def _rows(evaluation):
    return [(r.name, r.person, r.value, r.citations) for r in evaluation.results]


def test_every_fixture_result_is_cited_as_per_case():
    engine = Engine.load(FIXTURE)
    data = _cases(200)
    names_without_cited_cells = sorted(
        name for name in engine.program.rules if name != "d.table_cells")
    for names, cited_cells in ((names_without_cited_cells, False), (None, True)):
        stats = ColumnarStats()
        tasks = [Task(f"t:{i}", "data", c) for i, c in enumerate(data)]
        out = evaluate_chunk(engine, tasks, ON.isoformat(), names, stats)
        for case, (evaluation, error, _) in zip(data, out):
            assert error is None
            assert _rows(evaluation) == _rows(engine.evaluate(case, as_of=ON, names=names))
        if cited_cells:      # every case has a person, and so a d.table_cells result
            assert stats.citation_fallbacks == stats.fallback_cases == len(data)
        else:
            assert stats.fallback_cases == 0 and stats.columnar_cases == len(data)
