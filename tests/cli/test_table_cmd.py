"""``policy table income-limits`` (``policy chart``): the chart against IM-13 2025 and the 2018 figures."""

from __future__ import annotations

import csv
import io

import pytest

from .helpers import (PERCENT_PROGRAMS, NON_MAGI, IM13_2025, invoke, assert_cannot_run,
                      assert_no_float_artefacts, num, parse_json, check_citations)

pytestmark = pytest.mark.usefixtures("repo_cwd_and_cached_engines")


@pytest.fixture(scope="module")
def limits_2025() -> dict:
    result = invoke("table", "income-limits", "--as-of", "2025-06-01", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return parse_json(result.stdout)


@pytest.fixture(scope="module")
def limits_2018() -> dict:
    result = invoke("table", "income-limits", "--as-of", "2018-06-01", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return parse_json(result.stdout)


def rows_for(table: dict, program: str, size: int | None = None) -> list[dict]:
    return [r for r in table["rows"]
            if r["program"] == program and (size is None or r["household_size"] == size)]


def test_table_header(limits_2025):
    assert limits_2025["table"] == "income-limits"
    assert limits_2025["as_of"] == "2025-06-01"
    assert limits_2025["rows"]
    assert_no_float_artefacts(limits_2025)


@pytest.mark.parametrize("program, size", sorted(IM13_2025))
def test_table_matches_im13_2025_appendix_j(limits_2025, program, size):
    percent, limit = IM13_2025[(program, size)]
    rows = rows_for(limits_2025, program, size)
    assert len(rows) == 1, f"{len(rows)} rows for {program} size {size}"
    row = rows[0]
    assert num(row["percent_fpl"]) == percent
    assert num(row["monthly_limit"]) == limit
    assert row["monthly_limit_with_disregard"] is None  # no MAGI disregard for non-MAGI programs
    check_citations(row["citations"])


def test_table_every_row_is_cited_and_has_the_contract_columns(limits_2025, limits_2018):
    for table in (limits_2025, limits_2018):
        for row in table["rows"]:
            assert {"program", "household_size", "percent_fpl", "monthly_limit",
                    "monthly_limit_with_disregard", "citations"} <= set(row), row.keys()
            check_citations(row["citations"])


@pytest.mark.parametrize("program", PERCENT_PROGRAMS + ["MHF"])
def test_table_sizes_one_to_ten(limits_2025, program):
    sizes = sorted(r["household_size"] for r in rows_for(limits_2025, program))
    assert sizes == list(range(1, 11)), (program, sizes)


def test_table_mhf_is_a_flat_standard(limits_2025, limits_2018):
    for table in (limits_2025, limits_2018):
        rows = rows_for(table, "MHF")
        assert rows
        assert all(r["percent_fpl"] is None for r in rows)


def test_table_non_magi_rows_have_no_disregard(limits_2025):
    for program in NON_MAGI:
        for row in rows_for(limits_2025, program):
            assert row["monthly_limit_with_disregard"] is None, row


def test_table_2018_chip_75_and_mhf_with_disregard(limits_2018):
    # 1805.030.20.20.05: CHIP 75 for 3 is $5,195 (300%), $5,282 with the 5% disregard (305%).
    chip = rows_for(limits_2018, "CHIP_75", 3)
    assert len(chip) == 1
    assert num(chip[0]["monthly_limit"]) == 5195
    assert chip[0]["monthly_limit_with_disregard"] == "5282"
    # "$649 is the MHF income standard including the 5% disregard" for seven; the standard is $490.
    mhf = rows_for(limits_2018, "MHF", 7)
    assert len(mhf) == 1
    assert num(mhf[0]["monthly_limit"]) == 490
    assert mhf[0]["monthly_limit_with_disregard"] == "649"
    assert limits_2018["as_of"] == "2018-06-01"


def test_table_csv_format():
    result = invoke("table", "income-limits", "--as-of", "2025-06-01", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    header = rows[0]
    assert "program" in header and "monthly_limit" in header and "household_size" in header
    program, size, limit = header.index("program"), header.index("household_size"), header.index("monthly_limit")
    qmb = [r for r in rows[1:] if r[program] == "QMB" and r[size] == "1"]
    assert len(qmb) == 1 and qmb[0][limit] == "1305"
    assert all(len(r) == len(header) for r in rows)


def test_table_text_format():
    result = invoke("table", "income-limits", "--as-of", "2025-06-01")
    assert result.exit_code == 0, result.stderr
    assert "QMB" in result.stdout and "8813" in result.stdout and "Sources:" in result.stdout


def test_table_unknown_name():
    assert_cannot_run(invoke("table", "no-such-table"), "no-such-table", "income-limits")
