"""How ``policy batch`` hands chunks of cases to its workers: in order, every case once, the last
chunks cut to end together, and the collector's state as it was after a run."""

from __future__ import annotations

import gc
import tempfile

import pytest

from engine import Engine
from engine.tools.batch import Task, balanced_chunks, read_jsonl, run_batch

from .conftest import FIXTURES, POLICY


@pytest.mark.parametrize("count, size, parts, expected", [
    (10_000, 2048, 2, [2048, 2048, 1476, 1476, 1476, 1476]),
    (10_000, 1024, 2, [1024] * 7 + [708] * 4),
    (3000, 1024, 2, [750] * 4),
    (300, 1024, 2, [150, 150]),
    (300, 1024, 4, [150, 150]),
    (200, 1024, 2, [200]),
    (10, 2048, 2, [10]),
    (1, 1024, 2, [1]),
    (0, 1024, 2, []),
])
def test_the_last_chunks_are_cut_into_equal_parts(count, size, parts, expected):
    made = list(balanced_chunks(iter(range(count)), size, parts))
    assert [len(chunk) for chunk in made] == expected
    assert [item for chunk in made for item in chunk] == list(range(count))


@pytest.mark.parametrize("count, size, parts, expected", [
    (5, 2, 2, [2, 1, 1, 1]),
    (7, 3, 1, [3, 2, 2]),
    (13, 2, 3, [2, 2, 2, 2, 1, 1, 1, 1, 1]),
])
def test_small_parts_when_the_smallest_allows(count, size, parts, expected, monkeypatch):
    monkeypatch.setattr("engine.tools.batch.SMALLEST_PART", 1)
    made = list(balanced_chunks(iter(range(count)), size, parts))
    assert [len(chunk) for chunk in made] == expected
    assert [item for chunk in made for item in chunk] == list(range(count))


def test_reads_only_a_bounded_number_ahead():
    pulled = []

    def source():
        for index in range(100):
            pulled.append(index)
            yield index

    first = next(balanced_chunks(source(), 4, 2))
    assert first == [0, 1, 2, 3] and len(pulled) == 4 * 3


def test_workers_write_every_case_in_order_and_the_collector_is_left_as_it_was(tmp_path):
    engine = Engine.load(POLICY)
    lines = (FIXTURES / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    tasks = [Task(f"in:{index + 1}", "json", lines[index % len(lines)]) for index in range(9)]
    one, two = [], []
    frozen = gc.get_freeze_count()
    run_batch(iter(tasks), one.append, policy=[str(POLICY)], engine=engine,
              evaluator="columnar", citations="none")
    summary = run_batch(iter(tasks), two.append, policy=[str(POLICY)], engine=engine,
                        workers=2, evaluator="columnar", citations="none")
    assert summary.cases == 9 and summary.errors == 0
    assert b"".join(two) == b"".join(one)
    assert gc.isenabled() and gc.get_freeze_count() == frozen



def nine_tasks() -> list[Task]:
    lines = (FIXTURES / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    return [Task(f"in:{index + 1}", "json", lines[index % len(lines)]) for index in range(9)]


@pytest.mark.parametrize("evaluator", ["columnar", "per-case"])
def test_the_spooled_lines_are_written_in_order_and_their_files_removed(evaluator, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    engine = Engine.load(POLICY)
    one, two = [], []
    run_batch(iter(nine_tasks()), one.append, policy=[str(POLICY)], engine=engine,
              evaluator=evaluator)
    run_batch(iter(nine_tasks()), two.append, policy=[str(POLICY)], engine=engine, workers=3,
              evaluator=evaluator)
    assert b"".join(two) == b"".join(one) and b"".join(one).count(b"\n") == 9
    assert list(tmp_path.iterdir()) == []


def test_without_room_to_spool_the_lines_come_through_the_pipe(tmp_path, monkeypatch):
    """A spool directory a worker cannot write to (here: one that is not there) costs nothing
    but the saving."""
    monkeypatch.setattr(tempfile, "mkdtemp", lambda prefix="": str(tmp_path / "gone"))
    engine = Engine.load(POLICY)
    one, two = [], []
    run_batch(iter(nine_tasks()), one.append, policy=[str(POLICY)], engine=engine,
              evaluator="columnar")
    summary = run_batch(iter(nine_tasks()), two.append, policy=[str(POLICY)], engine=engine,
                        workers=2, evaluator="columnar")
    assert summary.cases == 9 and b"".join(two) == b"".join(one)


def test_progress_is_reported_per_chunk_with_the_bytes_read(tmp_path):
    """The progress bar's figures with workers: cases done and the offset of the last case of
    each chunk written, rising to the whole input."""
    engine = Engine.load(POLICY)
    lines = (FIXTURES / "cases.jsonl").read_bytes().splitlines(keepends=True)
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(lines[index % len(lines)] for index in range(300)))
    seen = []
    with open(source, "rb") as stream:
        summary = run_batch(read_jsonl(stream, str(source)), lambda block: None,
                            policy=[str(POLICY)], engine=engine, workers=2,
                            evaluator="columnar", citations="none",
                            progress=lambda done, task: seen.append((done.cases, task.offset)))
    assert summary.cases == 300
    assert seen == [(150, seen[0][1]), (300, source.stat().st_size)]
    assert 0 < seen[0][1] < source.stat().st_size
