"""``policy batch --format parquet``: the results table and the citation table as Parquet files.

``FILE`` gets one row per result (the schema of :mod:`engine.tools.arrow_batch`) and
``FILE.citations.parquet`` the citations the rows name. Cases are evaluated in chunks; with
several workers each chunk's results come back as an Arrow IPC buffer (bytes, not Python
objects), in input order, and are appended to the Parquet file as a row group.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import deque
from typing import Callable, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from . import batch as batch_lib
from .arrow_batch import citation_table, evaluate_tasks, results_schema, used_ids
from .batch import BatchOptions, BatchSummary, Task
from .batch_output import CitationIds

#: Cases per chunk (one Arrow batch; several make a row group).
CHUNK = 256

_STATE: dict = {}


def _init(options: BatchOptions) -> None:
    from ..api import Engine
    if _STATE.get("engine") is None:          # a forked worker already has the parent's engine
        _STATE["engine"] = Engine.load(*options.policy)
    _STATE["options"] = options
    _STATE["ids"] = CitationIds(options.citation_keys) if options.citation_keys is not None else None


def _ipc(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _work(tasks: list[Task]) -> bytes:
    options = _STATE["options"]
    return _ipc(evaluate_tasks(_STATE["engine"], tasks, options.as_of, options.names,
                               options.citations, options.because, _STATE["ids"]))


def write_parquet(tasks: Iterable[Task], out: str, *, engine, policy: list[str], as_of=None,
                  names=None, citations: str = "deciding", because: bool = False,
                  workers: int = 1, progress: Callable | None = None) -> BatchSummary:
    summary = BatchSummary()
    started = time.monotonic()
    ids = CitationIds.of_process() if citations == "deciding" else None
    schema = results_schema(citations, because)
    writer = pq.ParquetWriter(out, schema, compression="zstd")

    def done(batch: pa.RecordBatch, chunk: list[Task]):
        writer.write_batch(batch)
        summary.cases += len(chunk)
        errors = batch.column("error").drop_null()
        summary.errors += len(errors)
        summary.used |= used_ids(batch)
        if progress is not None:
            progress(summary, chunk[-1])

    try:
        if workers <= 1:
            for chunk in batch_lib.chunks(tasks, CHUNK):
                done(evaluate_tasks(engine, chunk, as_of, names, citations, because, ids), chunk)
        else:
            options = BatchOptions(list(policy), as_of, list(names) if names else None, citations,
                                   because, ids.keys if ids is not None else None)
            window = threading.BoundedSemaphore(workers * 2)
            pending: deque = deque()
            lock = threading.Lock()

            def feed():
                for chunk in batch_lib.chunks(tasks, CHUNK):
                    window.acquire()
                    with lock:
                        pending.append(chunk)
                    yield chunk

            forking = "fork" in multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if forking else "spawn")
            _STATE["engine"] = engine if forking else None
            try:
                with context.Pool(workers, initializer=_init, initargs=(options,)) as pool:
                    for blob in pool.imap(_work, feed(), chunksize=1):
                        with lock:
                            chunk = pending.popleft()
                        window.release()
                        done(pa.ipc.open_stream(blob).read_next_batch(), chunk)
            finally:
                _STATE.clear()
    finally:
        writer.close()
    if ids is not None:
        pq.write_table(citation_table(ids, summary.used), out + ".citations.parquet")
    summary.seconds = time.monotonic() - started
    return summary
