"""``?provenance=true``: the read-set of every result, as ``policy eval --provenance`` prints it;
and the encoder of response bodies (orjson, with the standard library for what it refuses)."""

from __future__ import annotations

import json

import yaml

from engine.service.encoding import dumps

from .conftest import JONES, cli_json


def test_evaluate_with_provenance_is_what_policy_eval_provenance_prints(client):
    response = client.post("/v1/evaluate?provenance=true&as_of=2025-06-01",
                           content=JONES.read_bytes(), headers={"content-type": "application/yaml"})
    assert response.status_code == 200, response.text
    expected = cli_json("eval", str(JONES), "--as-of", "2025-06-01", "--provenance")
    assert response.json() == expected
    results = response.json()["results"]
    assert all(r["provenance"] for r in results)
    without = client.post("/v1/evaluate?as_of=2025-06-01", content=JONES.read_bytes(),
                          headers={"content-type": "application/yaml"}).json()
    assert all("provenance" not in r for r in without["results"])


def test_batch_lines_carry_provenance_when_asked(client):
    line = json.dumps(yaml.safe_load(JONES.read_text()), default=str)
    response = client.post("/v1/evaluate/batch?provenance=true", content=line + "\n",
                           headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    (out,) = [json.loads(x) for x in response.text.splitlines()]
    assert out["line"] == 1
    assert out["results"] == cli_json("eval", str(JONES), "--provenance")["results"]


def test_bad_provenance_value_is_a_400_naming_the_parameter(client):
    response = client.post("/v1/evaluate?provenance=maybe", content=JONES.read_bytes())
    assert response.status_code == 400
    assert response.json()["parameter"] == "provenance"


def test_encoder_writes_what_json_reads_back_and_falls_back_for_what_orjson_refuses():
    data = {"case_id": "é", "n": 2 ** 70, "results": [{"value": "5199.60", "person": None}]}
    assert json.loads(dumps(data)) == data
    assert json.loads(dumps({"case_id": "\ud800"})) == {"case_id": "\ud800"}
    dumps({"case_id": "\ud800"}).decode("utf-8")         # stays valid UTF-8
    assert dumps({"a": [1, True, None]}) == b'{"a":[1,true,null]}'


def test_without_citations_is_the_full_answer_less_each_results_citations(client):
    full = cli_json("eval", str(JONES), "--as-of", "2025-06-01")
    response = client.post("/v1/evaluate?citations=false&as_of=2025-06-01",
                           content=JONES.read_bytes(), headers={"content-type": "application/yaml"})
    assert response.status_code == 200, response.text
    lean = response.json()
    for result in full["results"]:
        del result["citations"]
    assert lean == full
    assert [list(r) for r in lean["results"]] == [list(r) for r in full["results"]]   # key order


def test_a_lone_surrogate_in_the_case_id_is_answered_not_a_500(client):
    """JSON may escape half a surrogate pair (``"\\ud800"``); it comes back in the answer, which
    stays valid UTF-8 (it was a 500 when the body was encoded as UTF-8 text)."""
    body = json.dumps(yaml.safe_load(JONES.read_text()), default=str).replace(
        '"jones"', '"jo\\ud800nes"')
    response = client.post("/v1/evaluate", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["case_id"] == "jo\ud800nes"
