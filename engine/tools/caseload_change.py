"""A mass change over a whole caseload: every case compared on two dates, streaming.

``policy change --cases FILE --before DATE --after DATE --out FILE`` reads cases the way
``policy batch`` does (``batch.read_cases``: JSONL, CSV, a case file or a directory), runs every
change comparison of the rulebooks on each (``mass_change.compare_all``: two evaluations a case),
and writes one JSON line per case, in input order, as soon as it is classified. Only the counts
are kept, so memory does not grow with the caseload. With ``workers > 1`` a pool of processes
classifies the cases, each loading the rulebooks once, with a bounded number in flight.

A COLA changes incomes as well as dates: ``after`` tasks (another file of the same cases, in the
same order, as they stand after the change) are paired with the cases one by one.

Citations are written once, in a table beside the output (``OUT.citations.json``, id ->
citation), and each row lists the ids of its comparison's own citations, as ``policy batch``
does for results.

The summary counts rows by compared result and outcome, and the April premium refunds: a row
with a ``refund_amount`` column (the case-level CHIP premium comparison) whose ``premium_refund``
is true counts once, with its amount.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable, Iterator

from ..api import Engine
from .batch import Task, case_data
from ..actions.mass_change import compare_all
from ..errors import InputError, PolicyError, Problem, codes
from ..runtime.results import json_value

#: Cases in flight per worker (read but not yet written): bounds memory with many workers.
WINDOW_PER_WORKER = 32
#: Cases sent to a worker at a time.
CHUNK = 4


@dataclass
class Options:
    """What every case of a run is compared with."""

    before: str
    after: str
    notice_date: str | None = None
    names: list | None = None


@dataclass
class CaseloadSummary:
    """Counts of a caseload run (constant size, whatever the number of cases)."""

    cases: int = 0
    errors: int = 0
    partial: int = 0            # cases with a comparison that could not be classified
    rows: int = 0
    outcomes: Counter = field(default_factory=Counter)      # (compared result, outcome) -> rows
    refunds: int = 0
    refund_total: Decimal = Decimal(0)
    seconds: float = 0.0

    def add(self, record: dict) -> None:
        self.cases += 1
        if "error" in record:
            self.errors += 1
            return
        for row in record["results"]:
            self.rows += 1
            self.outcomes[(row["name"], str(row.get("outcome", "(no outcome)")))] += 1
            if "refund_amount" in row and row.get("premium_refund") is True:
                self.refunds += 1
                self.refund_total += Decimal(str(row["refund_amount"]))
        failed = record.get("comparison_errors") or ()
        for item in failed:
            self.outcomes[(item["name"], "error")] += 1
        self.partial += 1 if failed else 0

    def by_program(self) -> dict:
        out: dict = {}
        for (name, outcome), count in sorted(self.outcomes.items()):
            out.setdefault(name, {})[outcome] = count
        return out

    def as_dict(self) -> dict:
        return {"cases": self.cases, "errors": self.errors, "partial": self.partial,
                "compared": self.rows,
                "outcomes": self.by_program(),
                "premium_refunds": {"count": self.refunds,
                                    "total": json_value(self.refund_total)}}

    def render(self) -> str:
        lines = [f"{self.cases} case(s) compared, {self.errors} could not be; {self.rows} "
                 "result(s) compared."]
        if self.partial:
            lines.append(f"{self.partial} case(s) had a comparison that could not be classified "
                         "(counted as \"error\"; see \"comparison_errors\" in their lines).")
        for name, counts in self.by_program().items():
            total = sum(counts.values())
            detail = ", ".join(f"{outcome} {count}" for outcome, count in counts.items())
            lines.append(f"  {name}: {total} ({detail})")
        lines.append(f"April premium refunds: {self.refunds} case(s), "
                     f"${json_value(self.refund_total)} in all.")
        return "\n".join(lines)


class CitationTable:
    """Citation -> id, assigned in the order first seen (written beside the output)."""

    def __init__(self):
        self.ids: dict[str, int] = {}
        self.items: list[dict] = []

    def id_of(self, citation: dict) -> int:
        key = json.dumps(citation, sort_keys=True, ensure_ascii=False)
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.items)
            self.items.append(citation)
        return found

    def as_dict(self) -> dict:
        return {str(i): c for i, c in enumerate(self.items)}


def pair(cases: Iterable[Task], after: Iterable[Task] | None) -> Iterator[tuple]:
    """(case, its after-change version or None); a file that runs out early is an error."""
    if after is None:
        for task in cases:
            yield task, None
        return
    after_iter = iter(after)
    for task in cases:
        later = next(after_iter, None)
        if later is None:
            yield task, Task(task.label, "error", Problem(
                codes.UNREADABLE_CASES, "The file of cases after the change has fewer cases than the case file; "
                "there is none for this one.", task.label.rsplit(":", 1)[0], None, "--after-cases"))
            continue
        yield task, later
    extra = next(after_iter, None)
    if extra is not None:
        yield Task(extra.label, "error", Problem(
            codes.UNREADABLE_CASES, "The file of cases after the change has more cases than the case file; this "
            "one and any after it have no case to be compared with.",
            extra.label.rsplit(":", 1)[0], None, "--after-cases")), None


def classify_task(engine: Engine, task: Task, later: Task | None, options: Options) -> dict:
    """One output record: every comparison of one case, or the error that stopped it. Each row's
    ``citations`` are the comparison's own, as dicts (ids are given by the writer)."""
    record: dict = {"input": task.label}
    try:
        data = case_data(task)
        if isinstance(data, dict) and data.get("case_id") is not None:
            record["case_id"] = data.get("case_id")
        after_data = None
        if later is not None:
            after_data = case_data(later)
            if isinstance(data, dict) and isinstance(after_data, dict) and \
                    after_data.get("case_id") != data.get("case_id"):
                raise InputError(f"The case after the change ({later.label}) is "
                                 f"{after_data.get('case_id')!r}, not {data.get('case_id')!r}: "
                                 "the two files must list the same cases in the same order.",
                                 code=codes.UNREADABLE_CASES, field="case_id")
        result = compare_all(engine, data, options.before, options.after, options.names,
                             after_case=after_data, notice_date=options.notice_date)
    except PolicyError as exc:
        problem = exc.problem.as_dict()
        if problem.get("file") is None:
            file, _, line = task.label.rpartition(":")
            problem["file"], problem["line"] = (file, int(line)) if line.isdigit() else (task.label, None)
        record["error"] = problem
        return record
    out = result.as_dict()
    rows = []
    for change, row in result.rows():
        item = row.named_dict(change)
        item.pop("entity", None)
        item["citations"] = [c.as_dict() for c in row.column_citations]
        found = result.recipients.get(row.entity)     # ids only: a caseload line stays small
        item["recipients"] = [r.id for r in found.receiving] if found is not None else None
        rows.append(item)
    record.update(case_id=out["case_id"], before_date=out["before_date"],
                  after_date=out["after_date"], notice_date=out["notice_date"], results=rows)
    failed = [{"name": r.change.compare, "change": r.change.name,
               "error": r.failure.problem.as_dict()} for r in result.comparisons if r.failure]
    if failed:
        record["comparison_errors"] = failed
    return record


def dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=json_value)


_ENGINE: Engine | None = None
_OPTIONS: Options | None = None


def _init_worker(policy: list[str], options: Options) -> None:
    """Each worker process loads the rulebooks once."""
    global _ENGINE, _OPTIONS
    _ENGINE = Engine.load(*policy)
    _OPTIONS = options


def _work(item: tuple) -> dict:
    task, later = item
    # As plain JSON values (decimals as strings), exactly what the one-process path writes.
    return json.loads(dumps(classify_task(_ENGINE, task, later, _OPTIONS)))


def run_caseload(pairs: Iterable[tuple], write: Callable[[str], None], options: Options, *,
                 policy: list[str], engine: Engine | None = None, workers: int = 1,
                 citations: CitationTable | None = None) -> CaseloadSummary:
    """Classify every (case, after) pair and write one JSON line per case, in input order."""
    summary = CaseloadSummary()
    table = citations if citations is not None else CitationTable()
    started = time.monotonic()

    def done(record: dict):
        for row in record.get("results", ()):
            row["citations"] = [table.id_of(c) for c in row["citations"]]
        write(dumps(record))
        summary.add(record)

    if workers <= 1:
        engine = engine or Engine.load(*policy)
        for task, later in pairs:
            done(json.loads(dumps(classify_task(engine, task, later, options))))
    else:
        window = threading.BoundedSemaphore(workers * WINDOW_PER_WORKER)

        def feed():
            for item in pairs:
                window.acquire()
                yield item

        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                              else "spawn")
        with context.Pool(workers, initializer=_init_worker, initargs=(list(policy), options)) as pool:
            for record in pool.imap(_work, feed(), chunksize=CHUNK):
                window.release()
                done(record)
    summary.seconds = time.monotonic() - started
    return summary
