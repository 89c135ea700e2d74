"""``policy batch``: evaluate many cases, streaming, in constant memory, on several processes.

Input is read one case at a time and results are written as they come, in input order, so a
file of millions of households needs no more memory than a few thousand of them:

* **JSONL**: one case (a JSON object, as ``policy eval`` reads) per line;
* **CSV**: one row per person, or per income of a person; consecutive rows with the same
  ``case_id`` make one case. Columns name case fields (``case_id``, ``as_of``) and, with dots,
  fields of the entities in the case's collections, as the rulebooks declare them: ``people.id``,
  ``people.age``, ``people.incomes.amount``. A row adds the member whose id it names (or fills in
  the one already seen), and adds a member without an id (an income) when any of its cells is
  given. Cells are converted by the declared fact types: whole numbers, ``true``/``false``
  (also ``yes``/``no``, ``1``/``0``), lists separated by ``;``; decimals stay exact strings.
* a **directory** (for ``policy diff --cases``): every case file in it (YAML or JSON), every
  JSONL file, and every test file (``tests:``), whose inline cases come with their dates.

Output is JSONL: per case, ``{"case_id", "as_of", "results"}``, each result with ``name``,
``person``, ``value`` and ``citations`` (ids into a table written once, or the citations in full,
or none: see :mod:`engine.tools.batch_output`; results whose value is null are left out unless
asked for, or with full citations); a case that cannot be evaluated gives
``{"input", "case_id", "error": {code, message, file, line, field}}`` and the run goes on.

With ``workers > 1`` the cases are evaluated by a pool of processes in chunks; each worker has
the rulebooks loaded once (a forked worker inherits the parent's) and writes the encoded lines
of a chunk as one block of bytes to a spool file, which the parent copies to the output in
input order (by the kernel, ``os.sendfile``) and deletes. A JSONL file's chunks are sent as
ranges of its lines, which the workers read themselves (:class:`JsonlFile`); other inputs are
read by the parent and their cases sent. At most a bounded number of cases is in flight.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

from ..api import Engine
from .batch_output import CitationIds, RecordEncoder, located
from .columnar_batch import COLUMNAR_CHUNK, evaluate_chunk, evaluator_for
from .tasks import Task, case_data
from ..model.entities import release
from ..runtime.collector import paused_collector
from ..runtime.columnar import ColumnarStats
from ..errors import InputError, PolicyError, Problem, codes
from ..runtime.results import json_value
from ..io.yaml_loader import line_of, load_file
from ..io.schemas import compiled_validator

#: What :func:`balanced_chunks` cuts: tasks, or the line ends of a JSONL file.
Item = TypeVar("Item")

#: Cases in flight per worker (read but not yet written): bounds memory with many workers.
WINDOW_PER_WORKER = 64
#: Chunks in flight per worker, at least (the columnar plan's chunks are larger than the window):
#: one being evaluated and the next already sent, so that a worker never waits for the parent
#: to read, send and write between two chunks.
CHUNKS_PER_WORKER = 2
#: Cases sent to a worker at a time; it sends back their lines as one block of bytes.
CHUNK = 32
#: Cases sent to a worker at a time by the columnar evaluator: eight times the plan's chunk. A
#: chunk costs the plan a fixed ~27-35 ms (every rule's array operations) besides its cases,
#: and fewer chunks mean fewer of them: measured on 10,000 households with two workers, 2,048
#: instead of 1,024 saved about 10% of the CPU; on 100,000 (``policy batch --workers 2``),
#: 4,096 saved 0.5-1.0 s of the workers' 18.8-19.6 s against 2,048 (a48c1b9, loaded machine),
#: and 8,192 another 0.15-0.5 s of their 11.0-11.5 s against 4,096 (a07c8ce, quiet machine,
#: 3 pairs). A worker then holds about 260-270 MB at most (155-165 MB with 4,096), far under
#: the 1 GB a million-household run may take. The last chunks of a run are cut smaller to end
#: together (:func:`balanced_chunks`).
POOL_CHUNK = 8 * COLUMNAR_CHUNK
#: Cases a worker evaluates between two collections of its garbage. A chunk leaves no garbage
#: cycles now (its batch closed, its entities released once their lines are written:
#: tests/tools/test_batch_cycles.py); before, each household left about 11 KB and 30 objects
#: in cycles, which a collection freed at about 30 us a household. A worker's collector is off
#: (see _init_worker) and it still collects before a chunk once it has evaluated this many
#: cases since the last time, for whatever else may be left in a cycle: a run of up to this
#: many cases per worker never collects (the worker's memory goes back whole when the pool ends
#: it), where collecting before every chunk cost 10,000 households 0.26 s of CPU.
COLLECT_AFTER = 4096
#: The smallest chunk :func:`balanced_chunks` cuts the end of the input into: about what the
#: plan's fixed cost per chunk (~35 ms) would evaluate of cases.
SMALLEST_PART = 128

CASE_SUFFIXES = (".yaml", ".yml", ".json")


# ----------------------------------------------------------------------------------------------
# Reading cases
# ----------------------------------------------------------------------------------------------

class _CountingLines:
    """Lines of a binary stream, decoded, counting the bytes read (for progress); a stream that
    holds a part of a file starts at that part's ``offset`` and after its line ``number``."""

    def __init__(self, stream, offset: int = 0, number: int = 0):
        self.stream = stream
        self.offset = offset
        self.number = number

    def __iter__(self):
        for raw in self.stream:
            self.offset += len(raw)
            self.number += 1
            yield raw.decode("utf-8-sig" if self.number == 1 else "utf-8", errors="replace")


def read_jsonl(stream, name: str, offset: int = 0, number: int = 0) -> Iterator[Task]:
    """A task per line that is not blank; ``offset`` and ``number``: where in the file named
    ``name`` the stream starts (bytes, and lines before it), for a part of a file."""
    lines = _CountingLines(stream, offset, number)
    for text in lines:
        if text.strip():
            yield Task(f"{name}:{lines.number}", "json", text, None, lines.offset)


def read_csv(stream, name: str, program) -> Iterator[Task]:
    """Cases from CSV rows, grouped by consecutive ``case_id`` (see the module docstring)."""
    lines = _CountingLines(stream)
    reader = csv.DictReader(lines)
    builder = None
    for row in reader:
        line = lines.number
        case_id = (row.get("case_id") or "").strip()
        if "case_id" not in (reader.fieldnames or ()):
            yield Task(f"{name}:{line}", "error", Problem(
                codes.UNREADABLE_CASES,
                "The CSV file has no `case_id` column; each row must say which case it "
                "belongs to.", name, 1, "case_id"), None, lines.offset)
            return
        if builder is not None and case_id != builder.case_id:
            yield builder.task(lines.offset)
            builder = None
        if builder is None:
            builder = _CsvCase(case_id, f"{name}:{line}", program)
        builder.add(row, line)
    if builder is not None:
        yield builder.task(lines.offset)


class _CsvCase:
    """The rows of one case, assembled into the nested mapping a case file would hold."""

    def __init__(self, case_id: str, label: str, program):
        self.case_id = case_id
        self.label = label
        self.program = program
        self.data: dict = {}
        self.error: Problem | None = None

    def task(self, offset: int) -> Task:
        if self.error is not None:
            return Task(self.label, "error", self.error, None, offset)
        return Task(self.label, "data", self.data, None, offset)

    def add(self, row: dict, line: int):
        if self.error is not None:
            return
        try:
            self._add(row)
        except ValueError as exc:
            self.error = Problem(codes.UNREADABLE_CASES,
                                 f"Row {line} of the CSV file: {exc}", self.label.rsplit(":", 1)[0],
                                 line)

    def _add(self, row: dict):
        root = self.program.root_kind
        nested: dict[tuple, dict] = {}
        for column, cell in row.items():
            if column is None or cell is None or cell.strip() == "":
                continue
            parts = column.strip().split(".")
            nested.setdefault(tuple(parts[:-1]), {})[parts[-1]] = cell.strip()
        top = nested.pop((), {})
        for key, cell in top.items():
            value = _convert(root, key, cell)
            if key in self.data and self.data[key] != value:
                raise ValueError(f"`{key}` is {cell!r}, but an earlier row of case "
                                 f"{self.case_id!r} says {self.data[key]!r}.")
            self.data[key] = value
        for path in sorted(nested, key=len):
            self._member(root, self.data, list(path), nested[path], nested)

    def _member(self, kind, container: dict, path: list, cells: dict, nested: dict):
        """Find or create the member named by ``path`` below ``container`` and fill it in."""
        collection = path[0]
        child = kind.children.get(collection) if kind is not None else None
        members = container.setdefault(collection, [])
        if len(path) > 1:
            # a deeper collection: the member at this level is the one the row names (or the last)
            parent_cells = nested.get(tuple(path[:1]), {}) if container is self.data else {}
            target = self._find(child, members, parent_cells) or (members[-1] if members else None)
            if target is None:
                raise ValueError(f"the row gives {'.'.join(path)} but no {collection} member.")
            self._member(child, target, path[1:], cells, {})
            return
        typed = {k: _convert(child, k, v) for k, v in cells.items()}
        existing = self._find(child, members, typed)
        if existing is None:
            members.append(typed)
        else:
            existing.update(typed)

    @staticmethod
    def _find(kind, members: list, cells: dict):
        id_fact = kind.id_fact if kind is not None else None
        if id_fact is None or id_fact not in cells:
            return None
        for member in members:
            if member.get(id_fact) == cells[id_fact]:
                return member
        return None


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def _convert(kind, field: str, cell: str):
    spec = kind.facts.get(field) if kind is not None else None
    kind_name = spec.type if spec is not None else None
    if kind_name == "integer":
        try:
            return int(cell)
        except ValueError:
            raise ValueError(f"`{field}` must be a whole number, not {cell!r}.") from None
    if kind_name == "boolean":
        lowered = cell.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"`{field}` must be true or false, not {cell!r}.")
    if kind_name == "list":
        return [item.strip() for item in cell.split(";") if item.strip()]
    return cell


def read_directory(path: Path) -> Iterator[Task]:
    """Every case under a directory: case files, JSONL files and test files' inline cases."""
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        if file.suffix == ".jsonl":
            with open(file, "rb") as stream:
                yield from read_jsonl(stream, str(file))
            continue
        if file.suffix not in CASE_SUFFIXES:
            continue
        try:
            data = load_file(file)
        except PolicyError as exc:
            yield Task(str(file), "error", exc.problem)
            continue
        if isinstance(data, dict) and isinstance(data.get("tests"), list):
            for index, test in enumerate(data["tests"]):
                if not isinstance(test, dict):
                    continue
                label = f"{file}:{line_of(data['tests'], index)}"
                as_of = test.get("as_of")
                if isinstance(test.get("case"), dict):
                    yield Task(label, "data", test["case"], as_of)
                elif isinstance(test.get("case_file"), str):
                    yield Task(label, "path", str(file.parent / test["case_file"]), as_of)
            continue
        yield Task(str(file), "data", data)


class JsonlFile:
    """A JSONL file of cases, as :func:`read_cases` reads it (iterating gives its tasks), which
    :func:`run_batch`'s workers can also read themselves, a range of its lines each
    (:meth:`line_ends`, :func:`read_lines`).

    Read by the parent, a case cost it about 6 us of CPU besides its evaluation (decoding the
    line, a task, pickling it to a worker), which on a machine with as many cores as workers is
    taken from them: for a million households, seconds. Given ranges, the parent only finds
    where lines end (under 1 us a line), and each worker reads and decodes its own lines, in
    the same tasks with the same labels and offsets."""

    def __init__(self, path: Path):
        self.path = path
        self.name = str(path)
        with open(path, "rb") as stream:    # an unreadable file is refused now, as read_cases would
            self.identity = file_identity(stream)

    def __iter__(self) -> Iterator[Task]:
        return read_cases(self.path)

    def line_ends(self, block: int = 1 << 20) -> Iterator[int]:
        """The offset just after each line of the file (its newline, or the end of the file
        for a last line without one), blank lines included."""
        with open(self.path, "rb") as stream:
            if file_identity(stream) != self.identity:
                raise _changed(self.name)
            # Only offsets are kept, never the bytes of a line not ended yet: a line longer
            # than a block is not copied again with every block read (quadratic in its length).
            base = ended = 0            # the offset of the block read; just after the last line
            while True:
                data = stream.read(block)
                if not data:
                    if ended < base:
                        yield base
                    return
                find = data.find
                start = 0
                while (end := find(b"\n", start)) >= 0:
                    start = end + 1
                    ended = base + start
                    yield ended
                base += len(data)


def jsonl_file(source: str | Path) -> JsonlFile | None:
    """The :class:`JsonlFile` of a source :func:`read_cases` reads as a JSONL file (not standard
    input, a directory, a CSV or a case file), or None."""
    if str(source) == "-":
        return None
    path = Path(source)
    if path.is_file() and path.suffix != ".csv" and path.suffix not in CASE_SUFFIXES:
        return JsonlFile(path)
    return None


@dataclass
class LineRange:
    """What a worker is sent for a chunk of a :class:`JsonlFile`: where its lines are."""

    path: str
    name: str
    start: int          # the offset of its first line
    end: int            # the offset just after its last line
    number: int         # lines of the file before it
    identity: tuple | None = None   # the file's device and inode when the parent opened it


def file_identity(stream) -> tuple:
    """Which file an open stream reads (device and inode): a path that names another file
    later (the input replaced by a rename while the batch runs) gives another identity."""
    status = os.fstat(stream.fileno())
    return (status.st_dev, status.st_ino)


def _changed(name: str) -> InputError:
    return InputError(f"The case file {name} changed while the batch was reading it (it was "
                      f"replaced or cut short); run the batch again on a file that stays as it "
                      f"is until the run ends.", code=codes.UNREADABLE_CASES, file=name)


def read_lines(path: str, name: str, start: int, end: int, number: int,
               identity: tuple | None = None) -> list[Task]:
    """The tasks of the bytes ``start`` to ``end`` of a JSONL file (whole lines, after its
    line ``number``), as :func:`read_jsonl` reads them from the whole file. With ``identity``
    (:func:`file_identity` of the file the parent read), a file the path no longer names, or
    one cut shorter than ``end``, is refused (:class:`InputError`) instead of read at offsets
    that no longer hold those lines."""
    with open(path, "rb") as stream:
        if identity is not None and file_identity(stream) != identity:
            raise _changed(name)
        stream.seek(start)
        data = stream.read(end - start)
    if len(data) != end - start:
        raise _changed(name)
    return list(read_jsonl(io.BytesIO(data), name, start, number))


def read_cases(source: str | Path, program=None, stdin=None) -> Iterator[Task]:
    """Tasks from a JSONL or CSV file (``-`` for standard input), a case file or a directory."""
    if str(source) == "-":
        yield from read_jsonl(stdin if stdin is not None else sys.stdin.buffer, "<stdin>")
        return
    path = Path(source)
    if path.is_dir():
        yield from read_directory(path)
        return
    if not path.is_file():
        raise InputError(f"There is no case file or directory at {path}.",
                         code=codes.UNREADABLE_FILE, file=str(path))
    if path.suffix == ".csv":
        if program is None:
            raise InputError("Reading CSV cases needs the rulebooks' entity declarations.",
                             code=codes.UNREADABLE_CASES)
        with open(path, "rb") as stream:
            yield from read_csv(stream, str(path), program)
    elif path.suffix in CASE_SUFFIXES:
        yield Task(str(path), "path", str(path))
    else:
        with open(path, "rb") as stream:
            yield from read_jsonl(stream, str(path))


# ----------------------------------------------------------------------------------------------
# Evaluating
# ----------------------------------------------------------------------------------------------

def evaluate_task(engine: Engine, task: Task, as_of: str | None, names=None) -> dict:
    """One output record as plain data, citations and reasons in full (``policy diff`` and other
    tools that compare records; ``policy batch`` writes :func:`encode_task`'s compact lines)."""
    record: dict = {"input": task.label}
    try:
        data = case_data(task)
        if isinstance(data, dict) and data.get("case_id") is not None:
            record["case_id"] = data.get("case_id")
        evaluation = engine.evaluate(data, as_of=as_of or task.as_of, names=names)
    except PolicyError as exc:
        record["error"] = located(exc.problem, task.label)
        if len(exc.problems) > 1:
            record["error"]["more"] = [p.as_dict() for p in exc.problems[1:]]
        return record
    out = evaluation.as_dict()
    record.update(case_id=out["case_id"], as_of=out["as_of"], results=out["results"])
    return record


def encode_task(engine: Engine, task: Task, as_of: str | None, names, encoder: RecordEncoder) -> tuple[bytes, bool]:
    """The output line of one task (without its newline), and whether the case was evaluated."""
    case_id = None
    try:
        data = case_data(task)
        if isinstance(data, dict):
            case_id = data.get("case_id")
        case = engine.read_case(data)
        try:
            evaluation = engine.evaluate(case, as_of=as_of or task.as_of, names=names)
            return encoder.evaluation(evaluation), True
        finally:
            if case is not data:      # read here: its line is written, its entities done with
                release(case.root.members)
    except PolicyError as exc:
        return encoder.error(exc, task.label, case_id), False


def encode_chunk(engine: Engine, tasks: list[Task], as_of: str | None, names,
                 encoder: RecordEncoder, evaluator: str = "per-case",
                 stats=None) -> list[tuple[bytes, bool]]:
    """The lines of a chunk of tasks, in order (see :func:`encode_task`); with the ``columnar``
    evaluator the chunk is evaluated by the columnar plan (:mod:`engine.tools.columnar_batch`),
    counting in ``stats`` (a ``ColumnarStats``) the cases it gave to the per-case evaluator."""
    if evaluator != "columnar":
        return [encode_task(engine, task, as_of, names, encoder) for task in tasks]
    out = []
    # Paused: a collection during the chunk would walk its arrays and entities, all still alive.
    # The chunk leaves no cycles (its batch closed, its entities released once written:
    # tests/tools/test_batch_cycles.py), so all of it is freed by reference counting.
    with paused_collector():
        evaluated = evaluate_chunk(engine, tasks, as_of, names, stats, encoder.mode != "none",
                                   encoder)          # lines written from the result columns
        for task, (line, error, case_id) in zip(tasks, evaluated):
            if error is not None:
                out.append((encoder.error(error, task.label, case_id), False))
            else:
                out.append((line, True))
        evaluated = None   # freed now: nothing of it left for the collector
    return out


def dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=json_value)


@dataclass
class BatchOptions:
    """What every worker needs to know to write the same lines as the parent would."""

    policy: list[str]
    as_of: str | None = None
    names: list[str] | None = None
    citations: str = "deciding"
    because: bool = False
    citation_keys: list[tuple] | None = None    # the parent's citation table, for the same ids
    evaluator: str = "per-case"                  # or "columnar" (engine.tools.columnar_batch)
    nulls: bool | None = None                    # write results without a value (writes_nulls)
    spool: str | None = None                     # a directory for the lines of chunks (ChunkResult)


@dataclass
class ChunkResult:
    """What a worker sends back for a chunk of cases: their lines as bytes, not objects; or,
    with a spool directory, the name of the file it wrote them to (``spooled``), for the parent
    to copy out and delete. A chunk's lines are megabytes: through the pool's pipe they were
    copied five times and the worker waited for the parent's result thread to take them; a
    file is written once and read once, and the worker goes on to its next chunk at once."""

    lines: bytes
    cases: int
    errors: int
    used: set
    fallbacks: int = 0      # cases the columnar plan gave to the per-case evaluator
    spooled: str | None = None

    def write_to(self, write: Callable[[bytes], object], out=None) -> None:
        """Write the chunk's lines with ``write``, and delete its spooled file. When ``out`` is
        the binary file ``write`` writes to, a spooled file is copied into it by the kernel
        (``os.sendfile``): read into a new bytes object and written out, a chunk's megabytes
        were copied twice more by the parent, about 5 us a household of its CPU, which on two
        cores is taken from the workers. Whatever cannot be sent so (a file object without a
        descriptor, a system without ``sendfile``) is written with ``write``."""
        if self.spooled is None:
            write(self.lines)
            return
        with open(self.spooled, "rb") as file:
            sent = _send(file, out) if out is not None else 0
            if sent:
                file.seek(sent)
            rest = file.read()
            if rest:
                write(rest)
        os.unlink(self.spooled)


def _send(file, out) -> int:
    """How many bytes of ``file`` (from its start) ``os.sendfile`` copied to the end of ``out``,
    0 when it cannot (``out`` flushed first, so that they follow what it holds)."""
    sendfile = getattr(os, "sendfile", None)
    if sendfile is None:
        return 0
    sent = 0
    try:
        out.flush()
        target, source = out.fileno(), file.fileno()
        size = os.fstat(source).st_size
        while sent < size:
            done = sendfile(target, source, sent, size - sent)
            if not done:
                break
            sent += done
    except (OSError, ValueError, AttributeError):     # io.UnsupportedOperation is both
        pass
    return sent


_ENGINE: Engine | None = None
_SPOOLED = 0            # chunks this worker has spooled (for their files' names)
_UNCOLLECTED = 0        # cases this worker has evaluated since its last collection
_ENCODER: RecordEncoder | None = None
_OPTIONS: BatchOptions | None = None


def _init_worker(options: BatchOptions) -> None:
    """Each worker process loads the rulebooks once (a forked worker already has them)."""
    global _ENGINE, _ENCODER, _OPTIONS
    if _ENGINE is None:
        _ENGINE = Engine.load(*options.policy)
    ids = CitationIds(options.citation_keys) if options.citation_keys is not None else None
    _ENCODER = RecordEncoder(options.citations, options.because, ids, options.nulls)
    _OPTIONS = options
    # Every case read is first given to the compiled case schema (engine.io.schemas), which
    # each process makes on first use: importing jsonschema_rs and compiling the schema take
    # 25-35 ms. A forked worker has the parent's (run_batch makes it before forking, once for
    # every worker); a spawned one makes it now, while its parent is still reading the cases
    # of the first chunks (balanced_chunks reads ahead), rather than in its first chunk.
    compiled_validator("case")
    # What the worker has now (the rulebooks, inherited or loaded) lives as long as it does:
    # frozen, no collection walks it (nor, in a forked worker, copies its pages by writing the
    # collector's marks into them). The worker collects itself, every COLLECT_AFTER cases.
    gc.disable()
    gc.freeze()
    # Ctrl-C reaches the whole process group: the parent stops the run and ends its workers
    # (which could otherwise print a line each while unwinding).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _work_chunk(packed: list[tuple] | LineRange) -> ChunkResult:
    """The lines of a chunk of tasks, each sent as a tuple of its fields (:func:`_packed`), or
    read by the worker from a range of a JSONL file's lines."""
    global _UNCOLLECTED
    if isinstance(packed, LineRange):
        tasks = read_lines(packed.path, packed.name, packed.start, packed.end, packed.number,
                           packed.identity)
        if not tasks:                   # blank lines only
            return ChunkResult(b"", 0, 0, set())
    else:
        tasks = [Task(*fields) for fields in packed]
    if _UNCOLLECTED >= COLLECT_AFTER:
        gc.collect()
        _UNCOLLECTED = 0
    _UNCOLLECTED += len(tasks)
    out, errors = [], 0
    known = len(_ENCODER.used)
    stats = ColumnarStats()
    for line, ok in encode_chunk(_ENGINE, tasks, _OPTIONS.as_of, _OPTIONS.names, _ENCODER,
                                 _OPTIONS.evaluator, stats):
        out.append(line)
        out.append(b"\n")
        errors += 0 if ok else 1
    # the ids used so far, sent again only when the chunk added some
    used = set(_ENCODER.used) if len(_ENCODER.used) != known else set()
    result = ChunkResult(b"", len(tasks), errors, used, stats.fallback_cases)
    if _OPTIONS.spool is not None:
        global _SPOOLED
        _SPOOLED += 1
        path = os.path.join(_OPTIONS.spool, f"{os.getpid()}-{_SPOOLED}")
        try:
            _spool(path, out)
        except OSError:             # no room: through the pipe after all
            with suppress(OSError):
                os.unlink(path)
        else:
            result.spooled = path
            return result
    result.lines = b"".join(out)
    return result


def _spool(path: str, pieces: list[bytes]) -> None:
    """Write ``pieces`` (a chunk's lines and their newlines) to a new file at ``path``, each
    straight from where it is (``os.writev``, a thousand at a time) rather than first joined
    into one block: the block of a chunk's megabyte was fresh memory each time, and building
    it cost a worker about 1.4 us a household (100,000 households, 2 workers), twice what the
    writing itself costs. Where there is no ``writev``, or it writes less than it was given
    (it may), the rest is joined and written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        writev = getattr(os, "writev", None)
        done = 0
        if writev is not None:
            while done < len(pieces):
                batch = pieces[done:done + _IOV_MAX]
                written = writev(fd, batch)
                if written != sum(map(len, batch)):
                    break
                done += len(batch)
            else:
                return
            rest = b"".join(pieces[done:])[written:]
        else:
            rest = b"".join(pieces)
        view = memoryview(rest)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _iov_max() -> int:
    """Buffers one ``os.writev`` call takes at most: the system's IOV_MAX (1,024 on Linux), or
    POSIX's least (16) where the system does not say."""
    try:
        most = os.sysconf("SC_IOV_MAX")
    except (AttributeError, ValueError, OSError):
        return 16
    return most if most > 0 else 16


_IOV_MAX = _iov_max()


def _packed(chunk: list[Task]) -> list[tuple]:
    """A chunk of tasks as tuples of their fields (the progress offset left out): pickled and
    unpickled in a fifth of the time of the dataclasses."""
    return [(task.label, task.kind, task.payload, task.as_of) for task in chunk]


@dataclass
class BatchSummary:
    cases: int = 0
    errors: int = 0
    seconds: float = 0.0
    used: set = field(default_factory=set)     # citation ids the lines name
    evaluator: str = "per-case"
    fallbacks: int = 0      # columnar: cases given to the per-case evaluator (errors included)


def _line_ranges(file: JsonlFile, size: int, parts: int) -> Iterator[tuple[Task, LineRange]]:
    """The chunks of a JSONL file as :func:`balanced_chunks` cuts its lines (blank ones
    counted), each as what a worker reads (:class:`LineRange`) and, for the progress, a task
    standing for its last line (its label and the offset after it)."""
    start = number = 0
    for ends in balanced_chunks(file.line_ends(), size, parts):
        end = ends[-1]
        last = Task(f"{file.name}:{number + len(ends)}", "lines", None, None, end)
        yield last, LineRange(str(file.path), file.name, start, end, number, file.identity)
        start, number = end, number + len(ends)


def chunks(tasks: Iterable[Task], size: int) -> Iterator[list[Task]]:
    chunk: list[Task] = []
    for task in tasks:
        chunk.append(task)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def balanced_chunks(tasks: Iterable[Item], size: int, parts: int) -> Iterator[list[Item]]:
    """Chunks of ``size`` tasks, except the last ones: reading ``size * parts`` tasks ahead, the
    cases left when the input ends are cut into a multiple of ``parts`` chunks of about equal
    size (none larger than ``size``), so that ``parts`` workers, each taking the next chunk when
    it is done, finish at about the same time instead of one of them evaluating a last full
    chunk while the others wait. No part is cut smaller than :data:`SMALLEST_PART` (ten cases
    are one chunk: a chunk costs the plan as much as a hundred cases)."""
    buffer: deque[Item] = deque()
    limit = size * (parts + 1)
    for task in tasks:
        buffer.append(task)
        if len(buffer) >= limit:
            yield [buffer.popleft() for _ in range(size)]
    left = len(buffer)
    pieces = min(parts * -(-left // (size * parts)), max(1, left // SMALLEST_PART))
    for index in range(pieces):
        count = left // pieces + (1 if index < left % pieces else 0)
        if count:
            yield [buffer.popleft() for _ in range(count)]


@contextmanager
def _frozen_for_forking() -> Iterator[None]:
    """Everything alive frozen (out of the collector's reach) while the workers are forked, so
    that no collection in a worker walks what it inherited; as it was, after. (``policy batch``
    froze the loaded rulebooks already; a program calling :func:`run_batch` keeps its own
    objects collectable.)"""
    already = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not already:
            gc.unfreeze()


def run_batch(tasks: Iterable[Task], write: Callable[[bytes], object], *, policy: list[str],
              as_of: str | None = None, workers: int = 1, engine: Engine | None = None,
              progress: Callable[[BatchSummary, Task], None] | None = None,
              names: list[str] | None = None, citations: str = "deciding",
              because: bool = False, ids: CitationIds | None = None,
              evaluator: str = "per-case", nulls: bool | None = None,
              out=None) -> BatchSummary:
    """Evaluate every task and write its line (bytes ending in a newline), in input order.

    With ``names``, only those results are computed (and whatever they read). ``citations`` is
    ``deciding`` (ids from ``ids``, by default the process's :class:`CitationIds`), ``full`` or
    ``none``; ``because`` adds each result's reason; ``nulls`` whether results without a value
    are written (default: only with ``full``, see :func:`engine.tools.batch_output.writes_nulls`).
    The ids the lines use are returned in the
    summary's ``used``, for the citation table. ``evaluator`` is ``per-case`` or ``columnar``
    (which evaluates chunks of cases at once, citations included; reasons need ``per-case``,
    chosen by itself). ``out``, when given, is the binary file ``write`` writes to: with
    several workers the lines of a chunk go from the worker's spooled file to it without being
    read by this process (:meth:`ChunkResult.write_to`).
    """
    evaluator = evaluator_for(evaluator, because, citations)
    size = COLUMNAR_CHUNK if evaluator == "columnar" else CHUNK
    summary = BatchSummary(evaluator=evaluator)
    started = time.monotonic()
    engine = engine or Engine.load(*policy)
    if citations == "deciding" and ids is None:
        ids = CitationIds.of_process()

    if workers <= 1:
        encoder = RecordEncoder(citations, because, ids, nulls)
        stats = ColumnarStats()
        for chunk in chunks(tasks, size if evaluator == "columnar" else 1):
            for task, (line, ok) in zip(chunk, encode_chunk(engine, chunk, as_of, names, encoder,
                                                            evaluator, stats)):
                write(line + b"\n")
                summary.cases += 1
                summary.errors += 0 if ok else 1
                if progress is not None:
                    progress(summary, task)
        summary.used = encoder.used
        summary.fallbacks = stats.fallback_cases
    else:
        in_flight = max(CHUNKS_PER_WORKER, WINDOW_PER_WORKER // size)
        window = threading.BoundedSemaphore(workers * in_flight)
        pending: deque[Task] = deque()      # the last task of each chunk sent, in order
        lock = threading.Lock()

        if evaluator == "columnar" and isinstance(tasks, JsonlFile):
            size = POOL_CHUNK                   # the workers read the lines themselves
            scheduled = _line_ranges(tasks, size, workers)
        else:
            if evaluator == "columnar":
                size = POOL_CHUNK
                cut = balanced_chunks(tasks, size, workers)
            else:
                cut = chunks(tasks, size)
            scheduled = ((chunk[-1], _packed(chunk)) for chunk in cut)

        def feed():
            for last, packed in scheduled:
                window.acquire()
                with lock:
                    pending.append(last)
                yield packed

        global _ENGINE
        forking = "fork" in multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if forking else "spawn")
        previous, _ENGINE = _ENGINE, (engine if forking else None)   # forked workers inherit it
        if forking:
            compiled_validator("case")      # made once, inherited (see _init_worker)
        spool = None
        try:
            # Made inside the try, so that whatever stops the run removes it (Ctrl-C included).
            spool = tempfile.mkdtemp(prefix="policy-batch-")
            options = BatchOptions(list(policy), as_of, list(names) if names else None, citations,
                                   because, ids.keys if ids is not None else None, evaluator,
                                   nulls, spool)
            with _frozen_for_forking():
                pool = context.Pool(workers, initializer=_init_worker, initargs=(options,))
            with pool:
                for result in pool.imap(_work_chunk, feed(), chunksize=1):
                    result.write_to(write, out)
                    with lock:
                        last = pending.popleft()
                    window.release()      # written: the reader may take the next chunk
                    summary.cases += result.cases
                    summary.errors += result.errors
                    summary.used |= result.used
                    summary.fallbacks += result.fallbacks
                    if progress is not None:
                        progress(summary, last)
        finally:
            _ENGINE = previous
            if spool is not None:
                shutil.rmtree(spool, ignore_errors=True)
    summary.seconds = time.monotonic() - started
    return summary


def input_size(source: str | Path) -> int | None:
    try:
        path = Path(source)
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None
