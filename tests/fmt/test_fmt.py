"""``policy fmt``: one layout, comments kept, meaning unchanged, idempotent.

Golden fixtures (no generated inputs): ``fixtures/misformatted.yaml`` is a rulebook laid out
carelessly in every way the formatter repairs; ``fixtures/misformatted.formatted.yaml`` is what
the formatter must make of it, byte for byte.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli.app import app
from engine.errors import InputError
from engine.tools.formatter import WIDTH, format_text
from engine.io.yaml_loader import loads

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
POLICY = HERE.parent.parent / "policy"
runner = CliRunner()


def fmt(*args):
    return runner.invoke(app, ["fmt", *map(str, args)])


def comments(text: str) -> Counter:
    """Every comment's text, wherever it stands (whole-line or at the end of a line)."""
    found = Counter()
    for line in text.splitlines():
        match = re.search(r"(?:^|\s)(#.*)$", line)
        if match:
            found[match.group(1).rstrip()] += 1
    return found


# ---------------------------------------------------------------------------- golden fixtures
def test_misformatted_fixture_is_repaired_exactly_as_the_golden_file():
    source = (FIXTURES / "misformatted.yaml").read_text()
    golden = (FIXTURES / "misformatted.formatted.yaml").read_text()
    assert format_text(source).text == golden


def test_repair_loses_no_comment_and_changes_no_value():
    source = (FIXTURES / "misformatted.yaml").read_text()
    result = format_text(source).text
    assert comments(result) == comments(source)
    assert comments(source)["# an end-of-line comment"] == 1
    assert loads(result) == loads(source)


def test_the_golden_file_is_already_formatted():
    golden = (FIXTURES / "misformatted.formatted.yaml").read_text()
    assert not format_text(golden).changed


def test_the_repair_does_what_the_layout_rules_say():
    result = (FIXTURES / "misformatted.formatted.yaml").read_text()
    lines = result.splitlines()
    keys = [line.split(":")[0] for line in lines if re.match(r"^[a-z_]+:", line)]
    assert keys == ["rulebook", "version", "title", "uses", "sources", "parameters", "rules"]
    # The comment directly above `rules:` moved with it; the file's opening comments stayed on top.
    assert lines[0].startswith("# yaml-language-server:")
    assert lines[lines.index("rules:") - 1].startswith("# The rules come first here")
    assert "  # A comment inside the rules section." in lines       # re-indented with its section
    assert "    type: text            # an end-of-line comment" in lines   # quotes dropped
    assert '    citation: {ref: manual, note: "Mr. Jones\' income."}' in lines
    assert "      - when: >-" in lines
    assert all(line == line.rstrip() for line in lines)
    assert "\n\n\n" not in result and result.endswith("\n") and not result.endswith("\n\n")
    assert max(len(line) for line in lines if not line.lstrip().startswith(("citation", "#"))) <= WIDTH


def test_block_scalars_are_kept_byte_for_byte():
    source = (FIXTURES / "literal.yaml").read_text()
    result = format_text(source).text
    assert "  # not a comment: a line of the text\n\n\n  two blank lines above" in result
    assert "kept too:   \n" in result
    assert loads(result) == loads(source)
    assert not format_text(result).changed


# ---------------------------------------------------------------------------- rules one by one
@pytest.mark.parametrize("before, after", [
    ("hit_policy: 'first'\n", "hit_policy: first\n"),
    ('hit_policy: "first"\n', "hit_policy: first\n"),
    ("flag: 'true'\n", 'flag: "true"\n'),                   # bare, it would be a boolean
    ("flag: 'no'\n", 'flag: "no"\n'),                       # YAML 1.1 reads `no` as false
    ("version: '0.2'\n", 'version: "0.2"\n'),               # bare, it would be a number
    ("then: '\"SMHB\"'\n", "then: '\"SMHB\"'\n"),           # holds a double quote: stays single
    ("note: 'Mr. Jones'' income'\n", "note: \"Mr. Jones' income\"\n"),
    ("path: 'a\\b'\n", "path: 'a\\b'\n"),                   # a backslash: stays single
    ("then: null\n", "then: null\n"),                       # no value stays null
    ("then:\n", "then: null\n"),
    ("then: ~\n", "then: null\n"),
    ("row: {a: null, b: ~}\n", "row: {a: null, b: null}\n"),
])
def test_quoting(before, after):
    assert format_text(before).text == after


def test_a_long_expression_is_wrapped_within_the_width_and_keeps_its_text():
    formula = " and ".join(f"magi.household_income_{n} <= limit(\"A B\", {n})" for n in range(6))
    source = f"rules:\n  r:\n    formula: {formula}\n"
    result = format_text(source).text
    lines = result.splitlines()
    assert lines[2] == "    formula: >-"
    assert all(len(line) <= WIDTH for line in lines)
    assert all(line.startswith("      ") for line in lines[3:])
    assert all(line.lstrip().startswith(("and ", "magi.")) for line in lines[3:])
    assert loads(result)["rules"]["r"]["formula"] == formula
    assert not format_text(result).changed


def test_an_expression_that_fits_or_a_text_that_is_not_an_expression_is_not_wrapped():
    prose = "word " * 40
    source = f"rules:\n  r:\n    formula: a and b\n    because: {prose.strip()}\n"
    assert not format_text(source).changed


def test_string_literals_are_never_broken():
    literal = '"' + "x " * 50 + 'y"'
    expression = f"{literal} + a and b and c and d and e"
    source = f"r:\n  then: '{expression}'\n"
    result = format_text(source).text
    assert literal in result.splitlines()[2]
    assert loads(result) == loads(source)


def test_blank_lines_before_sections_that_span_lines():
    source = "rulebook: a\nversion: \"1\"\nsources:\n  s: {source: x, url: y}\nrules: {}\n"
    assert format_text(source).text == \
        'rulebook: a\nversion: "1"\n\nsources:\n  s: {source: x, url: y}\nrules: {}\n'


def test_invalid_yaml_is_refused_with_its_line():
    with pytest.raises(InputError) as caught:
        format_text("rulebook: a\nrules:\n  r: [unclosed\n", "bad.yaml")
    assert caught.value.problem.file == "bad.yaml"
    assert caught.value.problem.line is not None


def test_a_duplicate_key_is_refused_not_silently_dropped():
    with pytest.raises(InputError) as caught:
        format_text("rulebook: a\nrulebook: b\n", "dup.yaml")
    assert caught.value.problem.code == "E101"


# ---------------------------------------------------------------------------- the whole policy
@pytest.mark.parametrize("path", sorted(POLICY.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_rulebook_formats_idempotently_and_keeps_its_meaning_and_comments(path: Path):
    source = path.read_text()
    once = format_text(source, str(path))
    twice = format_text(once.text, str(path))
    assert twice.text == once.text
    assert loads(once.text) == loads(source)
    assert comments(once.text) == comments(source)


# ---------------------------------------------------------------------------- the command
def test_check_lists_a_file_that_would_change_exits_1_and_writes_nothing(tmp_path: Path):
    target = tmp_path / "rulebook.yaml"
    shutil.copy(FIXTURES / "misformatted.yaml", target)
    before = target.read_bytes()
    result = fmt(tmp_path, "--check")
    assert result.exit_code == 1
    assert f"would reformat {target}" in result.stdout
    assert "1 of 1 file(s) would be reformatted" in result.stderr
    assert target.read_bytes() == before


def test_diff_shows_a_unified_diff_and_writes_nothing(tmp_path: Path):
    target = tmp_path / "rulebook.yaml"
    shutil.copy(FIXTURES / "misformatted.yaml", target)
    before = target.read_bytes()
    result = fmt(target, "--diff")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"--- {target} (before)\n+++ {target} (formatted)\n@@")
    assert "-    level:\n" in result.stdout and "+  level:\n" in result.stdout
    assert target.read_bytes() == before


def test_fmt_rewrites_in_place_then_check_passes(tmp_path: Path):
    target = tmp_path / "rulebook.yaml"
    shutil.copy(FIXTURES / "misformatted.yaml", target)
    result = fmt(target)
    assert result.exit_code == 0, result.stderr
    assert target.read_text() == (FIXTURES / "misformatted.formatted.yaml").read_text()
    assert fmt(target, "--check").exit_code == 0


def test_invalid_yaml_exits_2_naming_file_and_line_and_is_left_alone(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rulebook: a\nrules:\n  r: [unclosed\n")
    good = tmp_path / "good.yaml"
    shutil.copy(FIXTURES / "misformatted.yaml", good)
    result = fmt(tmp_path)
    assert result.exit_code == 2
    assert re.search(rf"{re.escape(str(bad))}:\d+: error E100", result.stderr)
    assert "Traceback" not in result.stderr
    assert bad.read_text() == "rulebook: a\nrules:\n  r: [unclosed\n"
    assert good.read_text() == (FIXTURES / "misformatted.formatted.yaml").read_text()


def test_a_missing_path_exits_2(tmp_path: Path):
    result = fmt(tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr


def test_windows_line_endings_and_a_byte_order_mark_are_normalised(tmp_path: Path):
    crlf = tmp_path / "crlf.yaml"
    crlf.write_bytes(b'rulebook: a\r\nversion: "1"   \r\n# a comment\r\ntitle: t\r\n')
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b'\xef\xbb\xbfrulebook: a\nversion: "1"\n')
    assert fmt(tmp_path).exit_code == 0
    assert crlf.read_bytes() == b'rulebook: a\nversion: "1"\n# a comment\ntitle: t\n'
    assert bom.read_bytes() == b'rulebook: a\nversion: "1"\n'
    assert fmt(tmp_path, "--check").exit_code == 0


def test_a_wrapped_expression_keeps_a_single_blank_line_after_it():
    formula = " and ".join(f"condition_number_{n}" for n in range(8))
    source = f"rules:\n  a:\n    formula: {formula}\n\n  b:\n    formula: x\n"
    result = format_text(source).text
    assert "\n\n\n" not in result
    assert result.endswith("condition_number_7\n\n  b:\n    formula: x\n")


def test_blank_lines_a_block_scalar_keeps_are_kept():
    source = "a: |+\n  text\n\n\nb: 1\n"
    assert format_text(source).text == source

