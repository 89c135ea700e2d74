"""Batches as Arrow tables: cases in, one row per result out, citations as ids.

This is the interchange for anything that evaluates cases by the chunk outside ``policy batch``'s
JSONL: a notebook (``evaluate_batch``), ``policy batch --format parquet``, and a Spark
runner, which calls :func:`evaluate_record_batch` once per Arrow batch in each executor:

    from engine import Engine
    from engine.tools.arrow_batch import evaluate_record_batch
    engine = Engine.load()                                  # once per executor
    results = evaluate_record_batch(engine, record_batch, as_of="2025-08-01")

The results schema (:func:`results_schema`), one row per result of each case:

==============  ===========================  =================================================
column          type                         meaning
==============  ===========================  =================================================
``case_id``     string                       the case's id
``as_of``       string                       the date applied (YYYY-MM-DD)
``person``      string, null for the case    the member the result is for
``name``        string                       the result's name (``eligibility.level_of_care``)
``entity``      string, usually null         for an entity without an id (an income): its label
``value``       string                       the value as JSON text: ``"CHIP_75"``, ``"5199.60"``,
                                             ``3``, ``[]`` (exact: decimals stay strings)
``citations``   list<string>                 ids into the citation table (``deciding``), or
                                             list<struct> of the citations (``full``), or absent
``because``     string                       the reason, only when asked for
``error``       string                       a case that could not be evaluated: one row with
                                             its problem as JSON text and no name
==============  ===========================  =================================================

The citation table (:func:`citation_table`) has ``id``, ``source``, ``section``, ``memo``,
``url``, ``note`` and ``formerly`` (a struct of the same fields: the archived citation a successor
carries, null for the others). Ids are those of :class:`~engine.tools.batch_output.CitationIds`: the same in
every process that loaded the same rulebooks.

Cases come as a list of mappings (as ``policy eval`` reads them), or as an Arrow batch or table
with either a string column ``case`` holding each case as JSON text, or columns that mirror the
case file (``case_id``, ``as_of``, ``people`` as a list of structs); nulls there mean "not given".
"""

from __future__ import annotations

from typing import Iterable, Iterator

import orjson
import pyarrow as pa

from .columnar_batch import evaluate_chunk, evaluator_for
from .tasks import Task, case_data
from .batch_output import CITATION_MODES, CitationIds, located
from ..model.archives import dated
from ..model.citations import FIELDS
from ..errors import PolicyError
from ..runtime.results import json_value

#: Cases evaluated per Arrow batch by :func:`evaluate_batches`.
CHUNK_ROWS = 1024

#: The archived citation a successor carries (``formerly``); null for every other citation.
_FORMERLY_STRUCT = pa.struct([(field, pa.string()) for field in FIELDS])
_CITATION_STRUCT = pa.struct([(field, pa.string()) for field in FIELDS] +
                             [("formerly", _FORMERLY_STRUCT)])


def _citation_row(citation) -> dict:
    """One citation as a ``_CITATION_STRUCT`` value."""
    row = {f: getattr(citation, f) for f in FIELDS}
    formerly = getattr(citation, "formerly", None)
    row["formerly"] = None if formerly is None else {f: getattr(formerly, f) for f in FIELDS}
    return row


def results_schema(citations: str = "deciding", because: bool = False) -> pa.Schema:
    """The schema of the results table for a citation mode (see the module docstring)."""
    fields = [("case_id", pa.string()), ("as_of", pa.string()), ("person", pa.string()),
              ("name", pa.string()), ("entity", pa.string()), ("value", pa.string())]
    if citations == "deciding":
        fields.append(("citations", pa.list_(pa.string())))
    elif citations == "full":
        fields.append(("citations", pa.list_(_CITATION_STRUCT)))
    if because:
        fields.append(("because", pa.string()))
    fields.append(("error", pa.string()))
    return pa.schema(fields)


def _drop_nulls(value):
    """Arrow rows give every missing field as null; a case file leaves it out."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def tasks_of(cases, source: str = "<batch>") -> Iterator[Task]:
    """Tasks for a list of case mappings, or an Arrow batch or table of cases."""
    if isinstance(cases, (pa.RecordBatch, pa.Table)):
        if "case" in cases.column_names and pa.types.is_string(cases.schema.field("case").type):
            for index, text in enumerate(cases.column("case").to_pylist()):
                yield Task(f"{source}:{index + 1}", "json", text if text is not None else "null")
            return
        for index, row in enumerate(cases.to_pylist()):
            yield Task(f"{source}:{index + 1}", "data", _drop_nulls(row))
        return
    for index, case in enumerate(cases):
        yield Task(f"{source}:{index + 1}", "data", case)


class _Columns:
    """Rows of the results table, gathered column by column."""

    def __init__(self, schema: pa.Schema):
        self.schema = schema
        self.columns = {name: [] for name in schema.names}

    def add(self, **values):
        for name, column in self.columns.items():
            column.append(values.get(name))

    def batch(self) -> pa.RecordBatch:
        return pa.RecordBatch.from_arrays(
            [pa.array(self.columns[f.name], type=f.type) for f in self.schema], schema=self.schema)


def evaluate_tasks(engine, tasks: Iterable[Task], as_of=None, names=None,
                   citations: str = "deciding", because: bool = False,
                   ids: CitationIds | None = None, evaluator: str = "columnar") -> pa.RecordBatch:
    """One results batch for the tasks (see :func:`evaluate_record_batch`)."""
    if citations not in CITATION_MODES:
        raise ValueError(f"citations must be one of {', '.join(CITATION_MODES)}, not {citations!r}")
    if citations == "deciding" and ids is None:
        ids = CitationIds.of_process()
    as_of = as_of.isoformat() if hasattr(as_of, "isoformat") else as_of
    out = _Columns(results_schema(citations, because))
    tasks = list(tasks)
    if evaluator_for(evaluator, because, citations) == "columnar":
        # A results table holds deciding citations at most: no read-set is computed.
        evaluated = evaluate_chunk(engine, tasks, as_of, names, citations=citations != "none",
                                   provenance=False)
    else:
        evaluated = [_per_case(engine, task, as_of, names) for task in tasks]
    for task, (evaluation, exc, case_id) in zip(tasks, evaluated):
        if exc is not None:
            problem = located(exc.problem, task.label)
            out.add(case_id=None if case_id is None else str(case_id),
                    error=orjson.dumps(problem).decode())
            continue
        on = evaluation.as_of.isoformat()
        ident = None if evaluation.case_id is None else str(evaluation.case_id)
        for result in evaluation.results:
            entity = result.entity
            row = {"case_id": ident, "as_of": on, "person": result.person, "name": result.name,
                   "value": orjson.dumps(result.json_value()).decode()}
            if entity is not None and entity.kind.id_fact is None and entity.parent is not None:
                row["entity"] = entity.label()
            if citations == "deciding":
                row["citations"] = [ids.id_of(c) or orjson.dumps(c.as_dict()).decode()
                                    for c in dated(result.citations, result.as_of)]
            elif citations == "full":
                row["citations"] = [_citation_row(c) for c in dated(result.citations, result.as_of)]
            if because:
                row["because"] = result.because
            out.add(**row)
    return out.batch()


def _per_case(engine, task: Task, as_of, names) -> tuple:
    """``(evaluation, None, case_id)`` or ``(None, error, case_id)`` by the per-case evaluator."""
    case_id = None
    try:
        data = case_data(task)
        if isinstance(data, dict):
            case_id = data.get("case_id")
        return engine.evaluate(data, as_of=as_of or task.as_of, names=names), None, case_id
    except PolicyError as exc:
        return None, exc, case_id


def evaluate_record_batch(engine, cases, as_of=None, names=None, citations: str = "deciding",
                          because: bool = False, ids: CitationIds | None = None,
                          evaluator: str = "columnar") -> pa.RecordBatch:
    """Evaluate one batch of cases (an Arrow RecordBatch or Table, or a list of case mappings)
    into one Arrow RecordBatch of results, one row per result (module docstring).

    ``engine`` is a loaded :class:`~engine.api.Engine`; ``as_of`` overrides each case's own date;
    ``names`` limits the results to those rules; ``citations`` is ``deciding`` (ids),
    ``full`` or ``none``. A case that cannot be evaluated gives one row with ``error``; the
    others are evaluated as usual. Pure: the same cases give the same rows in any process.
    ``evaluator`` is ``columnar`` (the batch at once, :mod:`engine.runtime.columnar`) or
    ``per-case`` (the reference; used whenever ``because`` is asked for).
    """
    return evaluate_tasks(engine, tasks_of(cases), as_of, names, citations, because, ids,
                          evaluator)


def evaluate_batch(engine, cases, as_of=None, names=None, citations: str = "deciding",
                   because: bool = False, chunk_rows: int = 1024,
                   evaluator: str = "columnar") -> pa.Table:
    """Evaluate many cases into one ``pyarrow.Table`` of results, one row per result (the schema
    of :func:`results_schema`). ``cases`` is a list (or any iterable) of case mappings, or an Arrow
    table or batch of cases; it is evaluated ``chunk_rows`` cases at a time. A case that cannot be
    evaluated gives one row with ``error``. For results that do not fit in memory, iterate
    :func:`evaluate_batches` instead."""
    batches = list(evaluate_batches(engine, cases, as_of, names, citations, because, chunk_rows,
                                    evaluator))
    return pa.Table.from_batches(batches, schema=results_schema(citations, because))


def evaluate_batches(engine, cases, as_of=None, names=None, citations: str = "deciding",
                     because: bool = False, chunk_rows: int = CHUNK_ROWS,
                     evaluator: str = "columnar") -> Iterator[pa.RecordBatch]:
    """Results of any number of cases, streamed as one RecordBatch per ``chunk_rows`` cases."""
    ids = CitationIds.of_process() if citations == "deciding" else None
    chunk: list[Task] = []
    for task in tasks_of(cases):
        chunk.append(task)
        if len(chunk) >= chunk_rows:
            yield evaluate_tasks(engine, chunk, as_of, names, citations, because, ids, evaluator)
            chunk = []
    if chunk:
        yield evaluate_tasks(engine, chunk, as_of, names, citations, because, ids, evaluator)


def citation_table(ids: CitationIds | None = None, used: Iterable[str] | None = None) -> pa.Table:
    """The citations behind the ids (``used``, default all) as an Arrow table."""
    ids = ids or CitationIds.of_process()
    table = ids.table(used)
    columns = {"id": list(table)}
    for field in FIELDS:
        columns[field] = [entry.get(field) for entry in table.values()]
    columns["formerly"] = [entry.get("formerly") for entry in table.values()]
    return pa.table(columns, schema=pa.schema([("id", pa.string())] +
                                               [(f, pa.string()) for f in FIELDS] +
                                               [("formerly", _FORMERLY_STRUCT)]))


def used_ids(batch: pa.RecordBatch) -> set[str]:
    """The citation ids a results batch names (``deciding`` mode)."""
    if "citations" not in batch.schema.names or not pa.types.is_string(
            batch.schema.field("citations").type.value_type):
        return set()
    import pyarrow.compute as pc
    flat = pc.list_flatten(batch.column("citations"))
    return {value for value in pc.unique(flat).to_pylist() if value is not None}
