"""Facts that cannot be true on the evaluation date: the columnar plan gives such a case to the
per-case evaluator, which refuses it (E419) as ``policy eval`` does. Before, the plan evaluated
it as though the facts agreed (a person aged 40 born in 2020, or born after the as-of date),
so ``policy batch`` wrote values where ``policy eval`` wrote an error."""

from __future__ import annotations

import json

import pytest

from engine.api import Engine
from engine.tools.batch import Task, encode_chunk
from engine.tools.batch_output import CitationIds, RecordEncoder

from .conftest import POLICY
from .households import households

AS_OF = "2025-08-01"


@pytest.fixture(scope="module")
def engine():
    return Engine.load(POLICY)


def _tasks() -> list[Task]:
    cases = households(30, seed=3)
    cases[4]["people"][0]["date_of_birth"] = "2020-01-15"          # age given disagrees
    cases[7]["people"][0]["date_of_birth"] = "2026-01-01"          # born after the as-of date
    cases[7]["people"][0].pop("age", None)
    cases[11]["people"][-1]["date_of_birth"] = "1985-08-02"        # one day short of 40
    cases[11]["people"][-1]["age"] = 40
    cases[13]["people"][0]["date_of_birth"] = "1985-08-01"         # exactly 40: agrees
    cases[13]["people"][0]["age"] = 40
    return [Task(f"t:{i + 1}", "json", json.dumps(case)) for i, case in enumerate(cases)]


@pytest.mark.parametrize("citations", ["deciding", "none"])
def test_impossible_facts_are_refused_as_per_case(engine, citations):
    tasks = _tasks()
    ids = CitationIds.of_process()
    columnar = encode_chunk(engine, tasks, AS_OF, None, RecordEncoder(citations, ids=ids),
                            "columnar")
    per_case = encode_chunk(engine, tasks, AS_OF, None, RecordEncoder(citations, ids=ids),
                            "per-case")
    assert columnar == per_case
    refused = [i for i, (line, ok) in enumerate(columnar) if not ok]
    assert refused == [4, 7, 11]
    for i in refused:
        assert json.loads(columnar[i][0])["error"]["code"] == "E419"
    assert columnar[13][1]
