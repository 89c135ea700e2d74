"""Batches and mass changes on Apache Spark: the same evaluation as ``policy batch``, on a cluster.

Caseloads that live in a warehouse are evaluated where they are, by Spark, without a scheduler
of our own. Everything runs through one function per partition (``DataFrame.mapInArrow``): the
partition's cases arrive as Arrow batches, the engine evaluates them, and the results leave as
Arrow batches. Nothing is pickled per row, and the engine is never pickled at all:

* **the rulebooks travel as the compiled bundle** (:mod:`engine.rulebook.bundle`): the driver
  reads (or builds) it once and broadcasts its bytes; each Python worker on each executor loads
  it once, on its first task, and keeps the engine for the tasks after (Spark reuses workers).
* **trust**: a bundle is a pickle, and an executor has neither this user's signing key nor the
  same home directory, so it cannot check the bundle's HMAC. The driver checks it instead (or
  builds the bundle itself, or is told the SHA-256 to expect) and puts the bundle's SHA-256 into
  the task's own code; the executor unpickles the broadcast bytes only if they have that digest
  (:func:`~engine.rulebook.bundle.loads_pinned`), and only if its engine is the same version as
  the driver's (the bundle's fingerprint). The signing key never leaves the driver.
* **citation ids** are the driver's (:class:`~engine.tools.batch_output.CitationIds` keys go with
  the task), so every executor writes the ids the local runner would.

Three entry points:

* :func:`evaluate` (the Python API): a DataFrame of cases (or a Parquet path, or a table name)
  in, a DataFrame with one row per result out (:func:`~engine.tools.arrow_batch.results_schema`),
  plus the citation table as a DataFrame.
* :func:`run_batch` (``policy batch --runner spark``) and :func:`run_caseload` (``policy change
  --cases ... --runner spark``): the cases the local runner reads, evaluated on Spark, written by
  the driver as exactly the lines the local runner writes, in input order. Each executor encodes
  lines with the local runner's own encoder; the output is cached on the executors and then
  streamed to the driver partition by partition, so the driver never holds all of it.
"""

from __future__ import annotations

import json
import os
import pickle
import secrets
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from ..api import Engine, read_rulebooks, rulebook_files
from ..errors import InputError, codes
from ..io.paths import default_policy_dir
from ..rulebook import bundle as bundle_lib
from ..rulebook.compiler import compile_files
from .arrow_batch import citation_table, evaluate_record_batch, results_schema
from .batch import BatchSummary, Task, encode_task
from .batch_output import CITATION_MODES, CitationIds, RecordEncoder
from .caseload_change import CaseloadSummary, CitationTable, Options, classify_task, dumps

#: The master used when none is given: every core of this machine.
DEFAULT_MASTER = "local[*]"
#: Cases per partition of a ``policy batch``/``policy change`` run (a task of a few seconds).
CASES_PER_PARTITION = 2000

#: The error code of everything that stops the Spark runner before or while it runs.


# ----------------------------------------------------------------------------------------------
# The session
# ----------------------------------------------------------------------------------------------

def session(master: str | None = None, app_name: str = "mo-policy-engine") -> SparkSession:
    """The active SparkSession, or a new one on ``master`` (default ``local[*]``).

    A local master binds to the loopback interface only, without the web UI, and runs its Python
    workers with this interpreter (so they see the same installed engine). On a cluster, the
    cluster's own configuration decides all that.
    """
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    master = master or DEFAULT_MASTER
    builder = SparkSession.builder.master(master).appName(app_name) \
        .config("spark.ui.showConsoleProgress", "false")
    if master.startswith("local"):
        if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
            raise InputError("Spark needs a Java runtime (17 or newer) and none was found: install "
                             "one (on Debian: apt-get install default-jre-headless) or set "
                             "JAVA_HOME.", code=codes.SPARK_UNAVAILABLE, field="--runner")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.config("spark.driver.host", "127.0.0.1") \
            .config("spark.driver.bindAddress", "127.0.0.1") \
            .config("spark.ui.enabled", "false")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def owned_session(master: str | None = None) -> Iterator[SparkSession]:
    """:func:`session`, stopped at the end if this call started it (a command's own Spark)."""
    started = SparkSession.getActiveSession() is None
    spark = session(master)
    try:
        yield spark
    finally:
        if started:
            spark.stop()


# ----------------------------------------------------------------------------------------------
# Shipping the rulebooks
# ----------------------------------------------------------------------------------------------

def bundle_bytes(policy: Iterable[str | Path] | None = None, bundle: str | Path | None = None,
                 bundle_sha256: str | None = None) -> bytes:
    """The bundle the executors will load, checked here on the driver.

    * ``bundle`` (a file made by ``policy build --out FILE``): its signature must verify with this
      user's key, or, when it was built elsewhere (on a laptop, in CI), its SHA-256 must be
      ``bundle_sha256`` (printed by ``policy build``).
    * otherwise the rulebooks under ``policy`` (default ``policy/``) are compiled (or taken from
      the cache) into a bundle signed with a throwaway key: the executors check its digest, not
      its signature.
    """
    if bundle is not None:
        path = Path(bundle)
        blob = bundle_lib.bundle_bytes(path)
        if bundle_sha256 is None:
            bundle_lib.read_bundle(path, blob)      # E113 unless this user built it here
            return blob
        try:
            bundle_lib.loads_pinned(blob, bundle_sha256)
        except (bundle_lib.BundleRefused, pickle.UnpicklingError, EOFError, ValueError) as exc:
            raise InputError(f"The bundle {path} cannot be used: {exc}.", code=codes.BUNDLE_REFUSED,
                             file=str(path)) from None
        return blob
    paths = [str(p) for p in (policy or [default_policy_dir()])]
    rulebooks_hash = bundle_lib.content_hash(paths)
    books = bundle_lib.load_cached(rulebooks_hash) or read_rulebooks(rulebook_files(paths))
    return bundle_lib.dumps(books, rulebooks_hash, secrets.token_bytes(32))


@dataclass(frozen=True)
class Shipped:
    """What every task carries: the broadcast bundle, the digest that pins it, the citation ids."""

    blob: object                    # a pyspark Broadcast of the bundle's bytes
    sha256: str
    citation_keys: tuple

    def ids(self) -> CitationIds:
        return CitationIds(self.citation_keys)


def ship(spark: SparkSession, blob: bytes, ids: CitationIds | None = None) -> Shipped:
    """Broadcast the bundle once; the returned handle is small enough to go with every task."""
    ids = ids or CitationIds.of_process()
    return Shipped(spark.sparkContext.broadcast(blob), bundle_lib.sha256(blob), tuple(ids.keys))


#: Engines loaded in this Python worker, by the SHA-256 of their bundle.
_ENGINES: dict[str, Engine] = {}


def executor_engine(shipped: Shipped) -> Engine:
    """The engine of a shipped bundle, loaded once per Python worker process."""
    engine = _ENGINES.get(shipped.sha256)
    if engine is None:
        try:
            books = bundle_lib.loads_pinned(shipped.blob.value, shipped.sha256)
        except bundle_lib.BundleRefused as exc:
            raise RuntimeError(f"This Spark executor cannot load the rulebook bundle: {exc}. "
                               "Install the same version of the engine (the same wheel) on the "
                               "driver and on every executor.") from None
        engine = _ENGINES[shipped.sha256] = Engine(compile_files(books))
    return engine


# ----------------------------------------------------------------------------------------------
# The Python API: a DataFrame of cases in, a DataFrame of results out
# ----------------------------------------------------------------------------------------------

class SparkResults(NamedTuple):
    """The results (one row per result of each case) and the citations their ids stand for."""

    results: DataFrame
    citations: DataFrame


def cases_frame(spark: SparkSession, cases) -> DataFrame:
    """A DataFrame of cases from a DataFrame, a Parquet file or directory, or a table name."""
    if isinstance(cases, DataFrame):
        return cases
    if isinstance(cases, (str, Path)):
        text = str(cases)
        if text.endswith(".parquet") or Path(text).exists() or "://" in text:
            return spark.read.parquet(text)
        return spark.table(text)
    raise TypeError("cases must be a Spark DataFrame, a Parquet path or a table name, not "
                    f"{type(cases).__name__}")


def _results_partition(batches: Iterator[pa.RecordBatch], shipped: Shipped, as_of, names,
                       citations: str, because: bool) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function: each batch of cases into its batch of results."""
    engine = executor_engine(shipped)
    ids = shipped.ids() if citations == "deciding" else None
    for batch in batches:
        yield evaluate_record_batch(engine, batch, as_of=as_of, names=names,
                                    citations=citations, because=because, ids=ids)


def evaluate(cases, as_of=None, names=None, citations: str = "deciding", because: bool = False, *,
             spark: SparkSession | None = None, policy: Iterable[str | Path] | None = None,
             bundle: str | Path | None = None, bundle_sha256: str | None = None) -> SparkResults:
    """Evaluate a DataFrame of cases on Spark (lazily: nothing runs until the results are used).

    ``cases`` is a DataFrame with a string column ``case`` (each case as JSON text) or columns
    that mirror the case file (``case_id``, ``as_of``, ``people``), or a Parquet path, or a table
    name (read with ``spark``, default the active session). ``as_of``, ``names``, ``citations``
    (``deciding``: ids into the citation table; ``full``; ``none``) and ``because`` are those of
    :func:`~engine.tools.arrow_batch.evaluate_record_batch`. The rulebooks are ``bundle`` (see
    :func:`bundle_bytes`) or those under ``policy``.
    """
    if citations not in CITATION_MODES:
        raise ValueError(f"citations must be one of {', '.join(CITATION_MODES)}, not {citations!r}")
    if spark is None:
        spark = cases.sparkSession if isinstance(cases, DataFrame) else session()
    frame = cases_frame(spark, cases)
    blob = bundle_bytes(policy, bundle, bundle_sha256)
    ids = CitationIds.of_process()            # the bundle's citations are interned by now
    shipped = ship(spark, blob, ids)
    as_of = as_of.isoformat() if hasattr(as_of, "isoformat") else as_of
    schema = results_schema(citations, because)
    function = partial(_results_partition, shipped=shipped, as_of=as_of,
                       names=list(names) if names else None, citations=citations, because=because)
    results = frame.mapInArrow(function, from_arrow_schema(schema))
    table = citation_table(ids)
    cited = spark.createDataFrame(table.to_pylist(), schema=from_arrow_schema(table.schema))
    return SparkResults(results, cited)


# ----------------------------------------------------------------------------------------------
# policy batch / policy change on Spark: the local runner's lines, in input order
# ----------------------------------------------------------------------------------------------

#: The tasks as the executors get them: a case as JSON text, a pickled mapping (CSV rows, case
#: files), or a line the driver already wrote (input it could not read); for ``policy change``,
#: the case after the change likewise.
_TASKS = pa.schema([("seq", pa.int64()), ("label", pa.string()), ("kind", pa.string()),
                    ("payload", pa.binary()), ("as_of", pa.string()),
                    ("after_label", pa.string()), ("after_kind", pa.string()),
                    ("after_payload", pa.binary())])
#: What comes back: each case's line, whether it was evaluated, and (on one last row of each
#: partition, ``seq`` -1) the citation ids the partition's lines used.
_LINES = pa.schema([("seq", pa.int64()), ("line", pa.binary()), ("ok", pa.bool_()),
                    ("used", pa.list_(pa.string()))])

_SHIPPED_KINDS = ("json", "data")


def _row(seq: int, task: Task, after: Task | None = None) -> tuple:
    def packed(item: Task | None):
        if item is None:
            return None, None, None
        if item.kind == "json":
            return item.label, "json", item.payload.encode("utf-8")
        return item.label, "data", pickle.dumps(item.payload, protocol=pickle.HIGHEST_PROTOCOL)
    label, kind, payload = packed(task)
    return (seq, label, kind, payload, task.as_of) + packed(after)


def _done_row(seq: int, line: bytes, ok: bool) -> tuple:
    return (seq, None, "line" if ok else "failed", line, None, None, None, None)


def _task(label, kind, payload, as_of=None) -> Task:
    if kind == "json":
        return Task(label, "json", payload.decode("utf-8"), as_of)
    return Task(label, "data", pickle.loads(payload), as_of)


def _frame(spark: SparkSession, rows: list[tuple], per_partition: int) -> DataFrame:
    """The rows as a DataFrame whose partitions keep their order (``parallelize`` slices)."""
    slices = max(1, min(len(rows), -(-len(rows) // per_partition)))
    slices = max(slices, min(len(rows), spark.sparkContext.defaultParallelism)) if rows else 1
    rdd = spark.sparkContext.parallelize(rows, slices)
    return spark.createDataFrame(rdd, schema=from_arrow_schema(_TASKS))


def _lines_batch(seqs, lines, oks) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array(seqs, pa.int64()), pa.array(lines, pa.binary()), pa.array(oks, pa.bool_()),
         pa.array([None] * len(seqs), pa.list_(pa.string()))], schema=_LINES)


def _used_batch(used: Iterable[str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array([-1], pa.int64()), pa.array([None], pa.binary()), pa.array([None], pa.bool_()),
         pa.array([sorted(used)], pa.list_(pa.string()))], schema=_LINES)


def _batch_partition(batches: Iterator[pa.RecordBatch], shipped: Shipped, as_of, names,
                     citations: str, because: bool,
                     nulls: bool | None = None) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function for ``policy batch``: each case's line, as the local runner's."""
    engine = None
    encoder = RecordEncoder(citations, because, shipped.ids() if citations == "deciding" else None,
                            nulls)
    for batch in batches:
        columns = batch.to_pydict()
        seqs, lines, oks = columns["seq"], [], []
        for label, kind, payload, task_as_of in zip(columns["label"], columns["kind"],
                                                    columns["payload"], columns["as_of"]):
            if kind in ("line", "failed"):
                lines.append(payload)
                oks.append(kind == "line")
                continue
            engine = engine or executor_engine(shipped)
            line, ok = encode_task(engine, _task(label, kind, payload, task_as_of), as_of, names,
                                   encoder)
            lines.append(line)
            oks.append(ok)
        yield _lines_batch(seqs, lines, oks)
    yield _used_batch(encoder.used)


def _caseload_partition(batches: Iterator[pa.RecordBatch], shipped: Shipped,
                        options: Options) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function for ``policy change --cases``: each case's record as JSON text."""
    engine = None
    for batch in batches:
        columns = batch.to_pydict()
        seqs, lines, oks = columns["seq"], [], []
        for index, kind in enumerate(columns["kind"]):
            if kind in ("line", "failed"):
                lines.append(columns["payload"][index])
                oks.append(kind == "line")
                continue
            engine = engine or executor_engine(shipped)
            task = _task(columns["label"][index], kind, columns["payload"][index],
                         columns["as_of"][index])
            later = None
            if columns["after_kind"][index] is not None:
                later = _task(columns["after_label"][index], columns["after_kind"][index],
                              columns["after_payload"][index])
            lines.append(dumps(classify_task(engine, task, later, options)).encode("utf-8"))
            oks.append(True)
        yield _lines_batch(seqs, lines, oks)


def _stream(spark: SparkSession, rows: list[tuple], function, per_partition: int) -> Iterator:
    """Run ``function`` on every partition, all at once, then hand the driver its output rows
    partition by partition, in input order (the output waits, cached, on the executors)."""
    if not rows:
        return
    out = _frame(spark, rows, per_partition).mapInArrow(function, from_arrow_schema(_LINES))
    out = out.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        out.count()                                 # every partition at once, in parallel
        expected = 0
        for row in out.toLocalIterator(prefetchPartitions=True):
            if row.seq >= 0:
                if row.seq != expected:
                    raise RuntimeError(f"Spark returned case {row.seq + 1} where case "
                                       f"{expected + 1} was expected; the output would be out of "
                                       "order.")
                expected += 1
            yield row
        if expected != len(rows):
            raise RuntimeError(f"Spark returned {expected} of {len(rows)} cases.")
    finally:
        out.unpersist()


def run_batch(tasks: Iterable[Task], write: Callable[[bytes], None], *, engine: Engine,
              blob: bytes, spark: SparkSession, as_of: str | None = None,
              names: list[str] | None = None, citations: str = "deciding", because: bool = False,
              ids: CitationIds | None = None,
              per_partition: int = CASES_PER_PARTITION, nulls: bool | None = None) -> BatchSummary:
    """``policy batch --runner spark``: what :func:`engine.tools.batch.run_batch` writes, the same
    bytes in the same order, evaluated on Spark. ``engine`` (the driver's, loaded from the same
    rulebooks as ``blob``) writes the lines of input that cannot be sent (unreadable rows)."""
    summary = BatchSummary()
    started = time.monotonic()
    if citations == "deciding" and ids is None:
        ids = CitationIds.of_process()
    local = RecordEncoder(citations, because, ids, nulls)
    rows = []
    for seq, task in enumerate(tasks):
        if task.kind in _SHIPPED_KINDS:
            rows.append(_row(seq, task))
        else:
            line, ok = encode_task(engine, task, as_of, names, local)
            rows.append(_done_row(seq, line, ok))
    shipped = ship(spark, blob, ids or CitationIds.of_process())
    function = partial(_batch_partition, shipped=shipped, as_of=as_of,
                       names=list(names) if names else None, citations=citations, because=because,
                       nulls=nulls)
    used = set(local.used)
    for row in _stream(spark, rows, function, per_partition):
        if row.seq < 0:
            used.update(row.used or ())
            continue
        write(bytes(row.line) + b"\n")
        summary.cases += 1
        summary.errors += 0 if row.ok else 1
    summary.used = used
    summary.seconds = time.monotonic() - started
    return summary


def run_caseload(pairs: Iterable[tuple], write: Callable[[str], None], options: Options, *,
                 engine: Engine, blob: bytes, spark: SparkSession,
                 citations: CitationTable | None = None,
                 per_partition: int = CASES_PER_PARTITION // 2) -> CaseloadSummary:
    """``policy change --cases ... --runner spark``: what
    :func:`engine.tools.caseload_change.run_caseload` writes, compared on Spark."""
    summary = CaseloadSummary()
    table = citations if citations is not None else CitationTable()
    started = time.monotonic()
    rows = []
    for seq, (task, later) in enumerate(pairs):
        if task.kind in _SHIPPED_KINDS and (later is None or later.kind in _SHIPPED_KINDS):
            rows.append(_row(seq, task, later))
        else:
            record = dumps(classify_task(engine, task, later, options)).encode("utf-8")
            rows.append(_done_row(seq, record, True))
    shipped = ship(spark, blob)
    function = partial(_caseload_partition, shipped=shipped, options=options)
    for row in _stream(spark, rows, function, per_partition):
        if row.seq < 0:
            continue
        record = json.loads(bytes(row.line))
        for item in record.get("results", ()):
            item["citations"] = [table.id_of(c) for c in item["citations"]]
        write(dumps(record))
        summary.add(record)
    summary.seconds = time.monotonic() - started
    return summary
