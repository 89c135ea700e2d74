"""Chunks of batch tasks evaluated by the columnar plan, with the per-case evaluator behind it.

``policy batch``, :func:`engine.tools.arrow_batch.evaluate_record_batch` and
``evaluate_batch`` read their cases as tasks; this module turns a chunk of tasks into one
evaluation (or one error) per task, in order:

1. each task's case is read and validated as ``policy eval`` reads it (an unreadable case is its
   error, as before), the chunk's valid cases together, straight into the plan's per-kind rows
   (:meth:`engine.api.Engine.read_cases`, :mod:`engine.model.case_rows`): no entity tree is
   built for a case unless something asks for it;
2. the cases are grouped by the date they are evaluated on and each group goes through
   :func:`engine.runtime.columnar.evaluate_cases` (every rule once per group);
3. a case the plan could not finish (a missing fact, a failing rule: anything the per-case
   evaluator would report) is evaluated again by ``Engine.evaluate``, which gives the same error
   ``policy eval`` gives, or its values. So is, in a run that writes citations, a case with a
   result whose deciding citations the plan cannot tell (a decision-table cell that reads a
   cited value; ``ColumnarStats.citation_fallbacks``).

Every result of the plan carries the deciding citations ``policy eval`` gives it
(``docs/language.md`` section 2). ``because`` reasons are rendered from the per-case trace, so
a run that asks for them uses the per-case evaluator throughout (:func:`evaluator_for`).
"""

from __future__ import annotations

import datetime as dt
from itertools import chain

from ..errors import PolicyError
from ..language.dates import as_of_date
from ..model.case_rows import RowCases
from ..model.entities import release
from ..runtime.collector import paused_collector
from ..runtime.columnar import ColumnarStats, evaluate_cases, evaluate_columns
from .tasks import Task, case_data

#: The evaluators ``policy batch --evaluator`` accepts, the default first.
EVALUATORS = ("columnar", "per-case")

#: Cases per chunk handed to the columnar plan: large enough that the work per rule dominates
#: the fixed cost of each array operation (measured: 512 -> 1,024 saves about 15% per case,
#: larger chunks little more), small enough that two workers share 10,000 cases evenly.
COLUMNAR_CHUNK = 1024


def evaluator_for(requested: str, because: bool, citations: str = "none") -> str:
    """The evaluator a run uses. Reasons (``--because``) need the per-case trace, so a run that
    writes them is evaluated per case. Citations do not: the columnar plan gives every result
    the deciding citations the per-case evaluator gives it (``docs/language.md`` section 2;
    ``deciding`` and ``full`` write the same list, as ids or inline), so any ``--citations``
    runs on the plan."""
    if requested not in EVALUATORS:
        raise ValueError(f"evaluator must be one of {', '.join(EVALUATORS)}, not {requested!r}")
    return "per-case" if because else requested


def evaluate_chunk(engine, tasks: list[Task], as_of=None, names=None,
                   stats: ColumnarStats | None = None, citations: bool = True,
                   encoder=None, provenance: bool = True) -> list[tuple]:
    """``(evaluation, None, case_id)`` or ``(None, error, case_id)`` for each task, in order.
    Every evaluation's results carry their deciding citations unless ``citations`` is False
    (a run that writes none). With ``encoder`` (a :class:`engine.tools.batch_output.
    RecordEncoder`), each evaluated case's line (bytes) stands in place of its evaluation:
    the plan's cases are written from their result columns (:meth:`RecordEncoder.lines`),
    without a result object each. The cycle collector is paused while the chunk's cases are
    read and evaluated (:func:`engine.runtime.collector.paused_collector`).

    The plan's results carry their read-set (``provenance``) unless ``provenance`` is False;
    lines never show it (a line writes deciding citations at most), so with ``encoder`` it is
    not computed whatever ``provenance`` says."""
    with paused_collector():
        return _evaluate_chunk(engine, tasks, as_of, names, stats, citations, encoder,
                               provenance and encoder is None)


def _evaluate_chunk(engine, tasks, as_of, names, stats, citations, encoder,
                    provenance) -> list[tuple]:
    out: list = [None] * len(tasks)
    groups: dict[dt.date, list[int]] = {}
    cases: dict[int, object] = {}
    ids: dict[int, object] = {}
    dates: dict[int, dt.date] = {}
    unknown = names is not None and bool(set(names) - set(engine.program.rules))
    foreign = False                        # whether a task gave a Case the caller made
    given: list[int] = []                  # the tasks whose case data could be parsed
    datas: list = []
    for position, task in enumerate(tasks):
        case_id = None
        try:
            data = case_data(task)
        except PolicyError as exc:
            out[position] = (None, _untraced(exc), case_id)
            continue
        if isinstance(data, dict):
            case_id = data.get("case_id")
        ids[position] = case_id
        given.append(position)
        datas.append(data)
    # Read together: the valid cases' entities straight into the plan's rows
    # (engine.model.case_rows), each unreadable case's error as read_case words it.
    read, rows, in_rows = engine.read_cases(datas) if datas else ([], None, [])
    for position, data, case in zip(given, datas, read):
        if isinstance(case, PolicyError):
            out[position] = (None, _untraced(case), ids[position])
            continue
        foreign = foreign or case is data   # a Case the caller made (and may read again)
        try:
            on = as_of_date(as_of or tasks[position].as_of) or case.as_of or dt.date.today()
        except PolicyError as exc:
            out[position] = (None, _untraced(exc), ids[position])
            continue
        cases[position] = case
        dates[position] = on
        groups.setdefault(on, []).append(position)
    if unknown:      # Engine.evaluate words the error for each case
        for positions in groups.values():
            for position in positions:
                out[position] = _per_case(engine, cases[position], dates[position], names,
                                          ids[position], encoder)
        return out
    read_positions = [given[number] for number in in_rows]
    for on, positions in groups.items():
        group = [cases[p] for p in positions]
        if rows is not None and positions == read_positions:
            group = RowCases(group, rows)     # the plan's tables, as read
        if encoder is None:
            evaluated = evaluate_cases(engine, group, on, names, stats, citations, provenance)
        else:
            outputs = evaluate_columns(engine, group, on, names, stats, citations, provenance)
            evaluated = encoder.lines(outputs)
        for position, evaluation in zip(positions, evaluated):
            if evaluation is None:
                out[position] = _per_case(engine, cases[position], on, names, ids[position],
                                          encoder)
            else:
                out[position] = (evaluation, None, ids[position])
        if encoder is not None and not foreign:   # every line written: the entities are done
            release(chain.from_iterable(kind.entities for kind in outputs.kinds))
    return out


def _per_case(engine, case, on, names, case_id, encoder=None) -> tuple:
    try:
        evaluation = engine.evaluate(case, as_of=on, names=names)
    except PolicyError as exc:
        return (None, _untraced(exc), case_id)
    return (evaluation if encoder is None else encoder.evaluation(evaluation), None, case_id)


def _untraced(exc: BaseException) -> BaseException:
    """The error without the tracebacks of it and of what it was raised from (``__cause__``,
    ``__context__``): their frames lead up the stack to the chunk's list of errors, which
    holds the error, a cycle that kept the whole chunk alive until the next collection. A line
    is written from the error's problem, never from where it was raised."""
    pending, seen = [exc], set()
    while pending:
        error = pending.pop()
        if error is not None and id(error) not in seen:
            seen.add(id(error))
            error.__traceback__ = None
            pending += (error.__cause__, error.__context__)
    return exc
