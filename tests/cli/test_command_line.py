"""engine/cli/command_line.py: the one reader of the usual command-line forms behind
``policy eval`` and ``policy batch`` without Typer, with what differs between them."""

from __future__ import annotations

from engine.cli import batch_run, eval_run


def test_a_dash_is_a_value_for_batch_only():
    # policy batch writes to standard output with `--out -`; policy eval takes no value `-`
    # and leaves the form to Typer, as it did before the reader was shared.
    assert batch_run.arguments(["c.jsonl", "--out", "-"])["out"] == "-"
    assert batch_run.arguments(["c.jsonl", "--as-of", "-"])["as_of"] == "-"
    assert eval_run.arguments(["c.yaml", "--as-of", "-"]) is None
    assert eval_run.arguments(["c.yaml", "--as-of=-"])["as_of"] == "-"


def test_each_command_refuses_its_own_values():
    assert batch_run.arguments(["c.jsonl", "--workers", "65"]) is None
    assert batch_run.arguments(["c.jsonl", "--workers=0x2"]) is None
    assert batch_run.arguments(["c.jsonl", "--format", "csv"]) is None
    assert batch_run.arguments(["c.jsonl", "--workers", "3"])["workers"] == 3
    assert eval_run.arguments(["c.yaml", "--format", "jsonl"]) is None
    assert eval_run.arguments(["c.yaml", "--workers", "3"]) is None
    assert eval_run.arguments(["c.yaml", "--only", "a", "--only=b"])["only"] == ["a", "b"]
    assert eval_run.arguments(["c.yaml", "--explain", "--provenance"])["provenance"] is True
    assert batch_run.arguments(["c.jsonl", "--nulls", "--no-nulls"])["nulls"] is False
