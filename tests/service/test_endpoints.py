"""Every endpoint answers with exactly what the matching ``policy`` command prints."""

from __future__ import annotations

import json

import yaml

from .conftest import DEADLINE_CASES, JONES, cli_json


def jones_json() -> str:
    return json.dumps(yaml.safe_load(JONES.read_text()), default=str)


def test_evaluate_json_body_is_what_policy_eval_prints(client):
    response = client.post("/v1/evaluate", content=jones_json(),
                           headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == cli_json("eval", str(JONES))


def test_evaluate_yaml_body_and_as_of_and_explain(client):
    response = client.post("/v1/evaluate?as_of=2025-06-01&explain=true",
                           content=JONES.read_bytes(), headers={"content-type": "application/yaml"})
    assert response.status_code == 200, response.text
    expected = cli_json("eval", str(JONES), "--as-of", "2025-06-01", "--explain")
    assert response.json() == expected
    assert response.json()["as_of"] == "2025-06-01"
    assert all(result["trace"] for result in response.json()["results"])


def test_evaluate_jones_values_from_the_manual(client):
    """The MAGI manual's Jones example: $30 x 40 h x 4.333 = $5,199.60 a month, household of 3,
    2018 guidelines; the children are CHIP_75 through the 5% disregard."""
    data = client.post("/v1/evaluate", content=jones_json()).json()
    value = {(r["name"], r["person"]): r["value"] for r in data["results"]}
    assert value[("magi.household_income", "dad")] == "5199.60"
    assert value[("magi.household_size", "kid1")] == 3
    assert value[("eligibility.level_of_care", "kid1")] == "CHIP_75"
    assert value[("eligibility.level_of_care", "kid2")] == "CHIP_75"


def test_evaluate_only_and_without_citations(client):
    response = client.post("/v1/evaluate?only=eligibility.level_of_care&only=magi.fpl_percent"
                           "&citations=false", content=jones_json())
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert {r["name"] for r in results} == {"eligibility.level_of_care", "magi.fpl_percent"}
    assert all("citations" not in r for r in results)
    with_citations = client.post("/v1/evaluate?only=eligibility.level_of_care",
                                 content=jones_json()).json()["results"]
    assert all(r["citations"] for r in with_citations)


def test_every_response_names_the_rulebook_fingerprint(client):
    fingerprint = client.get("/v1/rulebooks").json()["fingerprint"]
    assert fingerprint.startswith("sha256:") and len(fingerprint) == 7 + 64
    for response in (client.post("/v1/evaluate", content=jones_json()),
                     client.post("/v1/evaluate", content="{"),
                     client.get("/healthz"), client.get("/nowhere"), client.get("/metrics")):
        assert response.headers["x-rulebook-fingerprint"] == fingerprint


def test_rulebooks_lists_versions_digests_and_effective_dates(client):
    data = client.get("/v1/rulebooks").json()
    books = {b["rulebook"]: b for b in data["rulebooks"]}
    assert books["fpl"]["version"] and len(books["fpl"]["sha256"]) == 64
    assert books["fpl"]["file"] == "fpl.yaml"
    dates = data["effective_dates"]
    # Missouri applies each year's poverty guidelines from April 1 (fpl.yaml).
    assert "2025-04-01" in dates["changes"] and dates["earliest"] <= "2014-01-01"


def test_parameter_is_what_policy_param_prints(client):
    response = client.get("/v1/parameters/fpl.first_person?as_of=2025-06-01")
    assert response.status_code == 200
    assert response.json() == cli_json("param", "fpl.first_person", "--as-of", "2025-06-01")
    assert response.json()["value"] == 15650          # HHS 2025 guideline for one person


def test_table_is_what_policy_table_prints(client):
    response = client.get("/v1/tables/income-limits?as_of=2025-06-01")
    assert response.status_code == 200
    assert response.json() == cli_json("table", "income-limits", "--as-of", "2025-06-01")


def test_dates_is_what_policy_dates_prints(client):
    response = client.post("/v1/dates", json={"start": "2025-06-24", "deadline": "im31a"})
    assert response.status_code == 200, response.text
    assert response.json() == cli_json("dates", "2025-06-24", "im31a")
    assert response.json()["due"] == "2025-07-07"     # past Independence Day (test_commands)


def test_notices_is_what_policy_notice_prints(client):
    case = DEADLINE_CASES / "absent_parent.yaml"
    response = client.post("/v1/notices?as_of=2025-06-24", content=case.read_bytes(),
                           headers={"content-type": "application/yaml"})
    assert response.status_code == 200, response.text
    assert response.json() == cli_json("notice", str(case), "--as-of", "2025-06-24")
    assert response.json()["notices"]


def test_change_is_what_policy_change_prints(client):
    before = yaml.safe_load((DEADLINE_CASES / "cola_before.yaml").read_text())
    after = yaml.safe_load((DEADLINE_CASES / "cola_after.yaml").read_text())
    body = json.dumps({"case": before, "after_case": after, "before": "2019-12-31",
                       "after": "2020-01-01", "notice_date": "2019-12-13"}, default=str)
    response = client.post("/v1/change", content=body)
    assert response.status_code == 200, response.text
    assert response.json() == cli_json("change", str(DEADLINE_CASES / "cola_before.yaml"),
                                       "--after-case", str(DEADLINE_CASES / "cola_after.yaml"),
                                       "--before", "2019-12-31", "--after", "2020-01-01",
                                       "--notice-date", "2019-12-13")


def test_batch_streams_one_line_per_case_in_order(client):
    good = jones_json()
    other = json.loads(good)
    other["case_id"] = "jones-2025"
    lines = [good, "", json.dumps(other), '{"case_id": "broken", "people": "nobody"}', "{oops"]
    response = client.post("/v1/evaluate/batch?as_of=2025-06-01&only=eligibility.level_of_care",
                           content="\n".join(lines) + "\n",
                           headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    out = [json.loads(line) for line in response.text.splitlines()]
    assert [o["line"] for o in out] == [1, 3, 4, 5]
    single = client.post("/v1/evaluate?as_of=2025-06-01&only=eligibility.level_of_care",
                         content=good).json()
    assert {k: v for k, v in out[0].items() if k != "line"} == single
    assert out[1]["case_id"] == "jones-2025" and "results" in out[1]
    assert out[2]["case_id"] == "broken" and out[2]["error"]["code"] == "E201"
    assert out[2]["error"]["pointer"] == "/people"
    assert out[3]["error"]["code"] == "E100"


def test_health_readiness_and_metrics(client):
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/readyz").status_code == 200
    client.post("/v1/evaluate", content=jones_json())
    client.post("/v1/evaluate", content="[")
    text = client.get("/metrics").text
    assert 'policy_http_requests_total{operation="evaluate",status="200"} 1' in text
    assert 'policy_http_requests_total{operation="evaluate",status="400"} 1' in text
    assert 'policy_evaluations_total{outcome="ok"} 1' in text
    assert 'policy_http_request_duration_seconds_count{operation="evaluate"} 2' in text
    assert "policy_rulebooks_info{fingerprint=\"sha256:" in text


def test_an_empty_batch_is_refused(client):
    response = client.post("/v1/evaluate/batch", content=b"")
    assert response.status_code == 400 and response.json()["code"] == "E100"


def test_a_batch_asking_for_an_unknown_result_is_refused_before_it_starts(client):
    response = client.post("/v1/evaluate/batch?only=no.such.rule", content=jones_json() + "\n")
    assert response.status_code == 400
    assert response.json()["code"] == "E401" and response.json()["parameter"] == "only"
