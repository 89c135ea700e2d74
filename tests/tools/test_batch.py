"""``policy batch``: streaming evaluation, in input order, errors reported and skipped."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from typer.testing import CliRunner

from engine import Engine
from engine.tools.batch import Task, read_cases, read_csv, read_jsonl, run_batch

from .conftest import FIXTURES, POLICY

runner = CliRunner()


def batch(*args):
    from engine.cli.app import app
    return runner.invoke(app, ["batch", *map(str, args), "--policy", str(POLICY)])


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def value(record, name, person):
    return next(r["value"] for r in record["results"] if r["name"] == name and r["person"] == person)


def bad_jsonl(tmp_path) -> Path:
    good = (FIXTURES / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([good[0], "{not json", '{"case_id": "no-people"}', "", good[1]]) + "\n",
                    encoding="utf-8")
    return path


def test_jsonl_in_jsonl_out_in_order_with_bad_cases_reported_and_counted(tmp_path):
    out = tmp_path / "out.jsonl"
    result = batch(bad_jsonl(tmp_path), "--out", out)
    assert result.exit_code == 1            # some cases could not be evaluated
    assert "4 case(s) evaluated, 2 error(s)" in result.stderr
    records = lines(out)
    assert [r.get("case_id") for r in records] == ["jones-2025", None, "no-people", "low-income"]
    assert [r["input"].rsplit(":", 1)[1] for r in records if "error" in r] == ["2", "3"]
    assert all("input" not in r for r in records if "error" not in r)
    # Jones 2025: 5,199.60 x 12 / 26,650 = 234.13% of poverty -> CHIP 75
    assert value(records[0], "eligibility.level_of_care", "kid1") == "CHIP_75"
    assert records[1]["error"]["code"] == "E100" and records[1]["error"]["line"] == 2
    assert records[2]["error"]["code"] == "E201" and "people" in records[2]["error"]["message"]
    assert records[2]["error"]["file"].endswith("in.jsonl") and records[2]["error"]["line"] == 3


def test_only_computes_the_results_asked_for(tmp_path):
    out = tmp_path / "out.jsonl"
    result = batch(FIXTURES / "cases.jsonl", "--out", out, "--workers", 2,
                   "--only", "eligibility.level_of_care", "--only", "chip.family_premium")
    assert result.exit_code == 0, result.stderr
    records = lines(out)
    assert {r["name"] for rec in records for r in rec["results"]} == {
        "eligibility.level_of_care", "chip.family_premium"}
    # Jones 2025: 5,199.60 x 12 / 26,650 = 234.13% of poverty -> CHIP 75, as without --only
    assert value(records[0], "eligibility.level_of_care", "kid1") == "CHIP_75"


def test_only_with_an_unknown_name_cannot_run(tmp_path):
    result = batch(FIXTURES / "cases.jsonl", "--out", tmp_path / "out.jsonl", "--only", "magi.nope")
    assert result.exit_code == 2
    assert "magi.nope" in result.stderr and "Traceback" not in result.stderr


def test_as_of_overrides_the_cases_own_date(tmp_path):
    out = tmp_path / "out.jsonl"
    batch(FIXTURES / "cases.jsonl", "--as-of", "2018-06-01", "--out", out)
    jones = lines(out)[0]
    assert jones["as_of"] == "2018-06-01"
    # 2018 guideline for 3 is 20,780: 5,199.60 x 12 / 20,780 = 300.27%, within 305%: still CHIP 75
    assert value(jones, "magi.fpl_percent", "kid1") == "300.27"


def test_workers_give_the_same_output_in_the_same_order(tmp_path):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    source = bad_jsonl(tmp_path)
    assert batch(source, "--out", one).exit_code == 1
    assert batch(source, "--out", two, "--workers", "2").exit_code == 1
    assert one.read_text() == two.read_text()


def test_csv_rows_make_cases_by_case_id(tmp_path):
    out = tmp_path / "out.jsonl"
    result = batch(FIXTURES / "jones.csv", "--out", out)
    assert result.exit_code == 1
    jones, two, bad = lines(out)
    # $30.00 x 40 x 4.333 = $5,199.60 a month (MAGI manual 1805.030.20.20.05, Example 1)
    assert value(jones, "magi.household_income", "kid2") == "5199.60"
    assert value(jones, "eligibility.level_of_care", "kid1") == "CHIP_75"
    assert value(two, "magi.household_income", "ann") == "1025.50"      # 1,000 wages + 25.50 interest
    assert bad["error"]["code"] == "E110" and "whole number" in bad["error"]["message"]
    assert bad["error"]["line"] == 7


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    result = batch(FIXTURES / "cases.jsonl", "--out", tmp_path / "o.jsonl")
    assert result.exit_code == 0
    assert "\r" not in result.stderr and "[#" not in result.stderr


def test_streaming_reads_ahead_only_a_bounded_window():
    """The reader is pulled lazily: when the first result is written, only a bounded number of
    cases has been read, whatever the size of the input (constant memory)."""
    engine = Engine.load(POLICY)
    case = (FIXTURES / "cases.jsonl").read_text(encoding="utf-8").splitlines()[1]
    total = 300
    pulled = {"n": 0, "at_first_write": None}

    def source():
        for i in range(total):
            pulled["n"] += 1
            yield Task(f"gen:{i + 1}", "json", case)

    written = []

    def write(block: bytes):
        if pulled["at_first_write"] is None:
            pulled["at_first_write"] = pulled["n"]
        written.extend(block.decode().splitlines())

    summary = run_batch(source(), write, policy=[str(POLICY)], engine=engine)
    assert summary.cases == total and summary.errors == 0 and len(written) == total
    assert pulled["at_first_write"] == 1
    pulled.update(n=0, at_first_write=None)
    written.clear()
    summary = run_batch(source(), write, policy=[str(POLICY)], workers=2)
    assert summary.cases == total and len(written) == total
    assert [json.loads(w)["case_id"] for w in written] == [json.loads(case)["case_id"]] * total
    assert pulled["at_first_write"] <= 2 * 64 + 32 < total


def test_readers_are_lazy_generators():
    stream = io.BytesIO(b'{"a": 1}\n{"b": 2}\n')
    tasks = read_jsonl(stream, "s")
    first = next(tasks)
    assert first.label == "s:1" and stream.tell() <= len(b'{"a": 1}\n{"b": 2}\n')
    engine = Engine.load(POLICY)
    csv_tasks = read_csv(io.BytesIO(b"case_id,people.id,people.age\nc1,a,3\nc1,b,4\nc2,z,9\n"), "c",
                         engine.program)
    c1 = next(csv_tasks)
    assert c1.payload == {"case_id": "c1", "people": [{"id": "a", "age": 3}, {"id": "b", "age": 4}]}


def test_a_spooled_chunk_goes_to_the_output_file_by_the_kernel(tmp_path):
    """With the output file given, the parent does not read a spooled chunk's lines (it copied
    every chunk twice more through its own memory); without a descriptor they are written."""
    from engine.tools.batch import ChunkResult

    def spooled(name: str) -> ChunkResult:
        path = tmp_path / name
        path.write_bytes(b'{"case_id": "a"}\n{"case_id": "b"}\n')
        return ChunkResult(b"", 2, 0, set(), spooled=str(path))

    written: list[bytes] = []
    with open(tmp_path / "out.jsonl", "wb") as out:
        out.write(b"first\n")                       # still in the writer's buffer: kept before
        spooled("one").write_to(written.append, out)
        out.write(b"last\n")
    assert written == []
    assert (tmp_path / "out.jsonl").read_bytes() == (
        b'first\n{"case_id": "a"}\n{"case_id": "b"}\nlast\n')
    assert not (tmp_path / "one").exists()
    buffer = io.BytesIO()                           # no descriptor: through write
    spooled("two").write_to(written.append, buffer)
    assert written == [b'{"case_id": "a"}\n{"case_id": "b"}\n'] and buffer.getvalue() == b""
    assert not (tmp_path / "two").exists()


def _run_two_workers(tasks) -> tuple[bytes, int, int]:
    """The lines, cases and errors of a two-worker columnar run of ``tasks`` (full citations)."""
    lines: list[bytes] = []
    summary = run_batch(tasks, lines.append, policy=[str(POLICY)], workers=2,
                        evaluator="columnar", citations="full")
    return b"".join(lines), summary.cases, summary.errors


def test_workers_read_the_lines_of_a_jsonl_file_themselves(tmp_path):
    """Given a JsonlFile, the parent sends each worker a range of lines (LineRange) instead of
    their text; the tasks the workers read are the reader's, labels, offsets, blank lines,
    a byte order mark and a last line without a newline included, and so are the lines out."""
    from engine.tools.batch import LineRange, _line_ranges, jsonl_file, read_lines

    good = (FIXTURES / "cases.jsonl").read_bytes().splitlines()
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(
        [good[0], b"", b"{not json", b"  ", *good[1:], b'{"case_id": "no-people"}', good[0]]))
    file = jsonl_file(path)
    assert file is not None and jsonl_file(tmp_path / "x.csv") is None and jsonl_file("-") is None
    expected = list(read_cases(path))
    for size in (1, 2, 3, 100):
        ranges = list(_line_ranges(file, size, 2))
        assert all(isinstance(sent, LineRange) for _, sent in ranges)
        read = [task for _, sent in ranges for task in read_lines(
            sent.path, sent.name, sent.start, sent.end, sent.number)]
        assert read == expected
        assert ranges[-1][0].offset == path.stat().st_size
    outputs = [_run_two_workers(tasks) for tasks in (read_cases(path), file)]
    assert outputs[0] == outputs[1] and outputs[1][1:] == (len(expected), 2)


def test_line_ranges_read_crlf_empty_and_blank_files_as_the_reader_does(tmp_path):
    """Lines ended by CRLF (the CR stays in the line, which JSON reads as space), an empty file
    and a file of blank lines only: the ranges the workers read give the reader's tasks, and a
    run given the file writes what a run given the reader's tasks writes."""
    from engine.tools.batch import _line_ranges, jsonl_file, read_lines

    good = (FIXTURES / "cases.jsonl").read_bytes().splitlines()
    files = {"crlf.jsonl": b"\xef\xbb\xbf" + b"\r\n".join([*good, b"{not json", b"\r"]) + b"\r\n",
             "empty.jsonl": b"", "blank.jsonl": b"\n  \r\n\n"}
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        file = jsonl_file(path)
        expected = list(read_cases(path))
        for size in (1, 2, 100):
            read = [task for _, sent in _line_ranges(file, size, 2) for task in read_lines(
                sent.path, sent.name, sent.start, sent.end, sent.number)]
            assert read == expected, (name, size)
        outputs = [_run_two_workers(tasks) for tasks in (read_cases(path), file)]
        assert outputs[0] == outputs[1], name
        assert outputs[0][1] == len(expected)


def test_a_spooled_chunk_is_written_whole_without_sendfile(tmp_path, monkeypatch):
    """A system without ``os.sendfile``: the chunk's lines go through ``write``, after what the
    output holds, and its spooled file is deleted."""
    import os

    from engine.tools.batch import ChunkResult

    monkeypatch.delattr(os, "sendfile", raising=False)
    path = tmp_path / "one"
    path.write_bytes(b'{"case_id": "a"}\n')
    out_path = tmp_path / "out.jsonl"
    with open(out_path, "wb") as out:
        out.write(b"first\n")
        ChunkResult(b"", 1, 0, set(), spooled=str(path)).write_to(out.write, out)
    assert out_path.read_bytes() == b'first\n{"case_id": "a"}\n'
    assert not path.exists()


def test_line_ends_with_lines_longer_than_a_block(tmp_path):
    """The offset after each line, whatever the block read: lines longer than a block, a
    newline at a block's edge, blank lines, and a last line without a newline."""
    from engine.tools.batch import JsonlFile

    for content in (b"", b"\n", b"abc", b"abc\n", b"\n\nx\r\n" + b"y" * 37 + b"\n\n" + b"z" * 9,
                    b"a" * 64 + b"\n" + b"b" * 3):
        path = tmp_path / "in.jsonl"
        path.write_bytes(content)
        expected = []
        at = 0
        for line in content.splitlines(keepends=True):
            at += len(line)
            expected.append(at)
        for block in (1, 2, 3, 4, 8, 1 << 20):
            assert list(JsonlFile(path).line_ends(block)) == expected, (content, block)


def test_a_jsonl_file_replaced_or_cut_short_during_a_run_is_refused(tmp_path):
    """Workers open the input by its path for each range. Before, the parent's one open file
    kept reading the file it opened; now a path that names another file (replaced by a rename)
    or a file cut shorter than a range's end is refused in a sentence (E110), instead of lines
    read at offsets that no longer hold them, under the labels of the old file."""
    from engine.errors import InputError
    from engine.tools.batch import _line_ranges, jsonl_file, read_lines

    good = (FIXTURES / "cases.jsonl").read_bytes()
    path = tmp_path / "in.jsonl"
    path.write_bytes(good)
    file = jsonl_file(path)
    ranges = [sent for _, sent in _line_ranges(file, 1, 2)]
    assert read_lines(ranges[-1].path, ranges[-1].name, ranges[-1].start, ranges[-1].end,
                      ranges[-1].number, ranges[-1].identity)
    with open(path, "r+b") as stream:        # cut short: the last range is past its end
        stream.truncate(ranges[-1].start + 1)
    with pytest.raises(InputError, match="changed while the batch was reading it") as cut:
        read_lines(ranges[-1].path, ranges[-1].name, ranges[-1].start, ranges[-1].end,
                   ranges[-1].number, ranges[-1].identity)
    assert cut.value.problem.code == "E110"
    other = tmp_path / "other.jsonl"
    other.write_bytes(good)
    other.replace(path)                      # the same bytes, but another file
    with pytest.raises(InputError, match="changed while the batch was reading it"):
        read_lines(ranges[0].path, ranges[0].name, ranges[0].start, ranges[0].end,
                   ranges[0].number, ranges[0].identity)
    with pytest.raises(InputError, match="changed while the batch was reading it"):
        list(file.line_ends())


@pytest.mark.parametrize("limit", [None, 5, 0])
def test_a_spooled_chunk_is_written_whole_whatever_writev_does(tmp_path, monkeypatch, limit):
    """A worker writes a chunk's lines to its spool file from the lines themselves
    (``os.writev``, IOV_MAX of them a call), not joined first: every byte in order, also when
    the lines outnumber what one call takes, when ``writev`` writes less than it was given
    (``limit`` bytes a call), and on a system without it (``limit`` 0)."""
    import os

    from engine.tools import batch

    pieces = [piece for index in range(41) for piece in (b'{"case_id": "%d"}' % index, b"\n")]
    writev = os.writev
    if limit == 0:
        monkeypatch.delattr(os, "writev")
    elif limit is not None:
        monkeypatch.setattr(os, "writev",
                            lambda fd, buffers: os.write(fd, b"".join(buffers)[:limit]))
    else:
        calls = []
        monkeypatch.setattr(os, "writev",
                            lambda fd, buffers: calls.append(len(buffers)) or writev(fd, buffers))
    monkeypatch.setattr(batch, "_IOV_MAX", 16)
    path = tmp_path / "spooled"
    batch._spool(str(path), pieces)
    assert path.read_bytes() == b"".join(pieces)
    if limit is None:
        assert calls == [16] * 5 + [2]
