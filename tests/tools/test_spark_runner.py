"""The Spark runner: the same output as the local runner, on a local Spark (``local[2]``).

One Spark session serves the whole module (starting one costs tens of seconds). The tests skip,
saying why, only when pyspark (the ``spark`` extra) or a Java runtime is missing; CI installs
both (scripts/setup.sh, .ci/run).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from engine import Engine
from engine.rulebook import bundle as bundle_lib
from engine.tools.batch import read_jsonl, run_batch
from engine.tools.batch_output import CitationIds

from .conftest import FIXTURES, POLICY, ROOT
from .households import households

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed: pip install '.[spark]' "
                              "(scripts/setup.sh installs it) to run the Spark runner's tests")
if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
    pytest.skip("no Java runtime: Spark needs Java 17 or newer (.ci/run installs Debian's "
                "default-jre-headless)", allow_module_level=True)

from engine.tools import spark_runner  # noqa: E402  (needs pyspark)

AS_OF = "2025-08-01"
cli = CliRunner()


@pytest.fixture(scope="module")
def spark():
    session = spark_runner.session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def engine():
    return Engine.load(POLICY)


@pytest.fixture(scope="module")
def caseload(tmp_path_factory):
    """2,000 varied households (every program has a chance), an unreadable line and a case the
    schema refuses, as JSONL."""
    path = tmp_path_factory.mktemp("spark") / "cases.jsonl"
    lines = [json.dumps(case) for case in households(2000, seed=14)]
    lines.insert(700, "{not json")
    lines.insert(1500, json.dumps({"case_id": "broken", "people": "nobody"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def app():
    from engine.cli.app import app as the_app
    return the_app


@pytest.fixture(scope="module")
def expected(engine, caseload):
    """The local runner's output for the whole caseload (computed once for the module)."""
    return local_lines(engine, caseload)


def part(caseload: Path, tmp_path: Path, start: int, stop: int) -> Path:
    """Lines start..stop of the caseload as a file of its own."""
    path = tmp_path / f"part{start}.jsonl"
    path.write_text("".join(caseload.read_text().splitlines(keepends=True)[start:stop]))
    return path


def local_lines(engine, path: Path, **options):
    out = io.BytesIO()
    with open(path, "rb") as stream:
        summary = run_batch(read_jsonl(stream, str(path)), out.write, policy=[str(POLICY)],
                            engine=engine, as_of=AS_OF, ids=CitationIds.of_process(), **options)
    return out.getvalue(), summary


def spark_lines(engine, spark, path: Path, **options):
    out = io.BytesIO()
    with open(path, "rb") as stream:
        summary = spark_runner.run_batch(read_jsonl(stream, str(path)), out.write, engine=engine,
                                         blob=spark_runner.bundle_bytes([POLICY]), spark=spark,
                                         as_of=AS_OF, ids=CitationIds.of_process(),
                                         per_partition=400, **options)
    return out.getvalue(), summary


def test_batch_on_spark_writes_the_local_runners_bytes(engine, spark, caseload, expected):
    expected, local = expected
    got, remote = spark_lines(engine, spark, caseload)
    assert (remote.cases, remote.errors) == (local.cases, local.errors) == (2002, 2)
    assert remote.used == local.used and len(local.used) > 100
    assert got == expected
    records = [json.loads(line) for line in got.splitlines()]
    assert records[700]["error"]["line"] == 701 and records[700]["input"] == f"{caseload}:701"
    values = {(r["name"], r["value"]) for rec in records for r in rec.get("results", ())
              if isinstance(r["value"], str)}
    assert {("eligibility.level_of_care", "MHK"), ("eligibility.level_of_care", "INELIGIBLE"),
            ("msp.level", "QMB")} <= values                           # many programs reached


def test_only_and_full_citations_on_spark(engine, spark, caseload, tmp_path):
    options = {"names": ["eligibility.level_of_care", "msp.level"], "citations": "full",
               "because": True}
    cases = part(caseload, tmp_path, 0, 400)
    expected, _ = local_lines(engine, cases, **options)
    got, _ = spark_lines(engine, spark, cases, **options)
    assert got == expected
    first = json.loads(got.splitlines()[0])
    assert first["results"][0]["citations"][0]["source"]


def test_cli_batch_runner_spark_equals_local(spark, caseload, tmp_path):
    """The command itself: the same lines and the same citation table (it joins the session)."""
    local, remote = tmp_path / "local.jsonl", tmp_path / "spark.jsonl"
    cases = part(caseload, tmp_path, 500, 900)             # with the unreadable line
    common = [str(cases), "--as-of", AS_OF, "--policy", str(POLICY)]
    first = cli.invoke(app(), ["batch", *common, "--out", str(local)])
    second = cli.invoke(app(), ["batch", *common, "--out", str(remote), "--runner", "spark"])
    assert first.exit_code == second.exit_code == 1, second.output
    assert remote.read_bytes() == local.read_bytes()
    assert Path(f"{remote}.citations.json").read_bytes() == Path(f"{local}.citations.json").read_bytes()
    assert "400 case(s) evaluated, 1 error(s)" in second.output


def test_csv_cases_and_a_bad_row_on_spark(spark, tmp_path):
    """CSV rows become cases on the driver and travel as mappings; a case file given as CASES
    and a CSV problem are written by the driver, in their places."""
    csv = tmp_path / "cases.csv"
    text = (FIXTURES / "jones.csv").read_text()
    csv.write_text(text + "broken,notanumber\n" if text.endswith("\n") else text)
    for source in (csv, ROOT / "examples" / "jones.yaml"):
        outputs = []
        for runner in ("local", "spark"):
            out = tmp_path / f"{source.suffix[1:]}-{runner}.jsonl"
            result = cli.invoke(app(), ["batch", str(source), "--out", str(out), "--policy",
                                        str(POLICY), "--runner", runner])
            outputs.append((result.exit_code, out.read_bytes(),
                            Path(f"{out}.citations.json").read_bytes()))
        assert outputs[0] == outputs[1]
        assert b'"results"' in outputs[1][1]


def test_cli_change_cases_runner_spark_equals_local(spark, caseload, tmp_path):
    cases = part(caseload, tmp_path, 650, 950)
    outputs = {}
    for runner in ("local", "spark"):
        out = tmp_path / f"{runner}.jsonl"
        result = cli.invoke(app(), ["change", "--cases", str(cases), "--before", "2025-03-31",
                                    "--after", "2025-04-01", "--out", str(out), "--format", "json",
                                    "--policy", str(POLICY), "--runner", runner])
        assert result.exit_code == 1, result.output            # the unreadable line
        outputs[runner] = (out.read_bytes(), Path(f"{out}.citations.json").read_bytes(),
                           result.stdout)
    assert outputs["spark"] == outputs["local"]
    summary = json.loads(outputs["spark"][2][outputs["spark"][2].index("{"):])
    assert summary["cases"] == 300 and summary["errors"] == 1


def test_evaluate_dataframe_matches_the_local_runner(spark, caseload, expected, tmp_path):
    """The Python API: one row per result, values and citation ids as the local runner's lines,
    from a DataFrame, and from a Parquet path."""
    texts = [line for line in caseload.read_text().splitlines()[:300] if line.startswith('{"')]
    texts.append(json.dumps({"case_id": "broken", "people": "nobody"}))
    wanted = {}
    for line in expected[0].splitlines()[:300]:
        record = json.loads(line)
        for r in record.get("results", ()):
            wanted[(record["case_id"], r["person"], r["name"], r.get("entity"))] = \
                (r["value"], r["citations"])
    frame = spark.createDataFrame([(text,) for text in texts], "case string")
    results, citations = spark_runner.evaluate(frame, as_of=AS_OF, policy=[POLICY])
    got = {(row.case_id, row.person, row.name, row.entity): (json.loads(row.value), list(row.citations))
           for row in results.collect() if row.error is None}
    broken = [row for row in results.collect() if row.error is not None]
    assert [row.case_id for row in broken] == ["broken"]
    assert len(got) > 3000
    for key, (value, cited) in got.items():
        if value is None:       # the DataFrame has every result; the lines leave null ones out
            assert key not in wanted, key
        else:
            assert wanted[key] == (value, cited), key
    assert len(wanted) == sum(1 for value, _ in got.values() if value is not None)
    cited_ids = {i for _, ids in got.values() for i in ids}
    table = {row.id: row.source for row in citations.collect()}
    assert cited_ids <= set(table) and all(table[i] for i in cited_ids)

    parquet = tmp_path / "cases.parquet"
    pq.write_table(pa.table({"case": texts[:40]}), parquet)
    from_file, _ = spark_runner.evaluate(str(parquet), as_of=AS_OF, spark=spark,
                                         names=["eligibility.level_of_care"])
    rows = from_file.collect()
    assert {row.name for row in rows} == {"eligibility.level_of_care"}
    for row in rows:
        assert wanted[(row.case_id, row.person, row.name, row.entity)][0] == json.loads(row.value)


def test_shared_bench_households_equal(engine, spark, tmp_path):
    """The side-by-side kit's generator (when shared/ is beside the repository, as in CI)."""
    generator = ROOT.parent / "shared" / "bench" / "gen_households.py"
    if not generator.is_file():
        pytest.skip(f"{generator} is not here (it comes with the shared kit)")
    subprocess.run([sys.executable, str(generator), "600", str(tmp_path / "h"), "5"], check=True,
                   capture_output=True)
    path = tmp_path / "h.cases.jsonl"
    expected, _ = local_lines(engine, path)
    got, summary = spark_lines(engine, spark, path)
    assert summary.cases == 600 and got == expected


def test_a_bundle_pinned_to_another_digest_is_refused(tmp_path):
    blob = spark_runner.bundle_bytes([POLICY])
    digest = bundle_lib.sha256(blob)
    assert bundle_lib.loads_pinned(blob, digest)             # the books load
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(bundle_lib.BundleRefused, match="SHA-256"):
        bundle_lib.loads_pinned(tampered, digest)
    path = tmp_path / "policy.bundle"
    path.write_bytes(blob)
    from engine.errors import InputError
    with pytest.raises(InputError) as refused:
        spark_runner.bundle_bytes(bundle=path, bundle_sha256="0" * 64)
    assert refused.value.problem.code == "E113"
    assert spark_runner.bundle_bytes(bundle=path, bundle_sha256=digest) == blob
