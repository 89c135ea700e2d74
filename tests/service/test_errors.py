"""Bad input gets a 4xx application/problem+json with the engine's code and the field at fault;
never a 500 or a traceback."""

from __future__ import annotations

import json

import pytest

from .test_endpoints import jones_json

PROBLEM = "application/problem+json"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"].endswith("/" + code) and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


def jones_with(**changes) -> str:
    data = json.loads(jones_json())
    for pointer, value in changes.items():
        *path, last = pointer.split("__")
        node = data
        for part in path:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value
    return json.dumps(data)


JSON = {"content-type": "application/json"}


def test_malformed_json_is_400_e100(client):
    body = problem(client.post("/v1/evaluate", content='{"case_id": "x",', headers=JSON), 400, "E100")
    assert "not valid JSON" in body["detail"] and "line 1" in body["detail"]
    body = problem(client.post("/v1/evaluate", content='{"case_id": "x",'), 400, "E100")
    assert "not valid YAML or JSON" in body["detail"]


def test_duplicate_key_is_400_e101(client):
    for headers in (JSON, {}):
        problem(client.post("/v1/evaluate", content='{"case_id": "a", "case_id": "b", "people": []}',
                            headers=headers), 400, "E101")


def test_schema_violation_is_422_with_the_json_pointer_of_the_field(client):
    body = problem(client.post("/v1/evaluate", content=jones_with(people__0__age="forty")),
                   422, "E201")
    assert body["pointer"] == "/people/0/age"
    assert body["errors"][0]["pointer"] == "/people/0/age"


def test_unknown_key_points_at_the_key(client):
    body = problem(client.post("/v1/evaluate", content=jones_with(people__1__shoe_size=9)),
                   422, "E201")
    assert body["pointer"] == "/people/1/shoe_size"


def test_income_amount_pointer(client):
    body = problem(client.post("/v1/evaluate", content=jones_with(
        people__0__incomes__0__amount="thirty")), 422, "E201")
    assert body["pointer"].startswith("/people/0/incomes/0")


def test_case_that_names_nobody_is_422(client):
    response = client.post("/v1/evaluate", content=jones_with(people__2__parents=["ghost"]))
    body = problem(response, 422, response.json().get("code"))
    assert body["code"].startswith("E4") and body["pointer"].startswith("/people/2")
    assert "ghost" in body["detail"]


def test_not_a_mapping_is_422(client):
    problem(client.post("/v1/evaluate", content="[1, 2]"), 422, "E411")


@pytest.mark.parametrize("query, code", [
    ("as_of=2025-02-30", "E109"), ("as_of=yesterday", "E109"), ("explain=maybe", "E607"),
    ("colour=blue", "E607"), ("only=no.such.rule", "E401"), ("as_of=1&as_of=2", "E607")])
def test_bad_query_parameters_are_400_naming_the_parameter(client, query, code):
    body = problem(client.post(f"/v1/evaluate?{query}", content=jones_json()), 400, code)
    assert body["parameter"] == query.split("=")[0]


def test_unknown_parameter_and_table_are_404(client):
    body = problem(client.get("/v1/parameters/fpl.first_persn"), 404, "E402")
    assert "fpl.first_person" in body["detail"]            # the engine's "did you mean"
    problem(client.get("/v1/tables/no-such-chart"), 404, "E403")
    problem(client.post("/v1/dates", json={"start": "2025-06-01", "deadline": "nope"}), 404, "E405")


def test_parameter_before_its_first_value_is_422(client):
    problem(client.get("/v1/parameters/fpl.first_person?as_of=1900-01-01"), 422, "E430")


def test_request_fields_of_dates_and_change_are_checked(client):
    body = problem(client.post("/v1/dates", json={"start": "someday", "deadline": "im31a"}),
                   422, "E608")
    assert body["pointer"] == "/start"
    body = problem(client.post("/v1/change", json={"case": json.loads(jones_json()),
                                                   "before": "2019-12-31"}), 422, "E608")
    assert "after" in body["detail"]
    body = problem(client.post("/v1/change", content=json.dumps({
        "case": json.loads(jones_with(people__0__age=-1)), "before": "2019-12-31",
        "after": "2020-01-01"})), 422, "E201")
    assert body["pointer"] == "/case/people/0/age"


def test_unsupported_media_type_is_415(client):
    problem(client.post("/v1/evaluate", content="<case/>", headers={"content-type": "application/xml"}),
            415, "E601")


def test_a_body_without_a_json_media_type_is_read_as_a_case_file(client):
    """`curl -d @case.yaml` sends the form media type; a case file is JSON or YAML either way."""
    from .conftest import JONES
    expected = client.post("/v1/evaluate", content=jones_json()).json()
    for media_type in (None, "text/plain", "application/x-www-form-urlencoded"):
        headers = {"content-type": media_type} if media_type else {}
        for body in (JONES.read_bytes(), jones_json()):
            response = client.post("/v1/evaluate", content=body, headers=headers)
            assert response.status_code == 200 and response.json() == expected


def test_unknown_route_and_method_are_problems(client):
    problem(client.get("/v2/evaluate"), 404, "E605")
    problem(client.get("/v1/evaluate"), 405, "E606")


def test_body_over_the_limit_is_413(make_client):
    small = make_client(max_body_bytes=300)           # the Jones case is 364 bytes of JSON
    problem(small.post("/v1/evaluate", content=jones_json()), 413, "E106")
    assert small.post("/v1/evaluate", content=json.dumps(json.loads(jones_json()),
                                                         separators=(",", ":"))[:299]).status_code == 400


def test_chunked_body_over_the_limit_is_413_while_streaming(make_client):
    small = make_client(max_body_bytes=1000)
    sent = []

    def chunks():
        for _ in range(100):
            sent.append(1)
            yield b" " * 500

    problem(small.post("/v1/evaluate", content=chunks()), 413, "E106")


def test_saturated_worker_answers_429_with_retry_after(make_client):
    import asyncio
    client = make_client(max_in_flight=1, max_queue=0)
    admission = client.app.state.service.admission

    async def occupy():
        await admission._slots.acquire()
    client.portal.call(occupy)
    try:
        response = client.post("/v1/evaluate", content=jones_json())
        problem(response, 429, "E603")
        assert response.headers["retry-after"] == "1"
        problem(client.get("/readyz"), 503, "E603")
        assert client.get("/healthz").status_code == 200
    finally:
        client.portal.call(lambda: asyncio.sleep(0))
        admission._slots.release()


def test_evaluation_over_its_time_is_503(make_client, monkeypatch):
    import time

    from engine.service import operations
    real = operations._evaluate

    def slow(*args):
        time.sleep(0.3)
        return real(*args)
    monkeypatch.setattr(operations, "_evaluate", slow)
    # on the thread (an evaluation on the event loop, within --inline-steps, is not timed)
    client = make_client(request_timeout=0.05, max_in_flight=1, inline_steps=0)
    started = time.monotonic()
    response = client.post("/v1/evaluate", content=jones_json())
    assert time.monotonic() - started < 0.25          # answered at the deadline, not at the end
    problem(response, 503, "E604")
    assert response.headers["retry-after"] == "1"


def test_a_timed_out_evaluation_keeps_its_thread_until_it_ends():
    import asyncio
    import time

    from engine.service.admission import Admission
    from engine.service.problems import ServiceError

    async def scenario():
        admission = Admission(max_in_flight=1, max_queue=0, timeout=0.05)
        try:
            await admission.run(time.sleep, 0.3)
        except ServiceError as exc:
            assert exc.code == "E604"
        assert admission.running == 1 and admission.saturated   # the thread is still busy
        try:
            await admission.run(time.sleep, 0)
        except ServiceError as exc:
            assert exc.code == "E603"                            # so the next one is refused
        else:
            raise AssertionError("a second evaluation ran beside the first")
        await asyncio.sleep(0.4)
        assert admission.running == 0 and await admission.run(sum, [1, 2]) == 3
        admission.close()
    asyncio.run(scenario())


@pytest.mark.parametrize("name, body, status, code", [
    ("deep nesting", "[" * 100_000 + "]" * 100_000, 400, "E103"),
    ("huge integer age", '{"case_id": "x", "people": [{"id": "a", "age": ' + "9" * 5000 + "}]}",
     400, "E105"),
    ("not UTF-8", b'{"case_id": "\xff\xfe"}', 400, "E108"),
    ("age beyond any life", '{"case_id": "x", "people": [{"id": "a", "age": ' + "9" * 40 + "}]}",
     None, None),
    ("empty body", b"", 400, "E100"),
    ("null", "null", 422, "E411"),
])
def test_hostile_bodies_are_refused_cleanly(client, name, body, status, code):
    response = client.post("/v1/evaluate", content=body, headers=JSON)
    assert 400 <= response.status_code < 500, (name, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith(PROBLEM)
    if status is not None:
        problem(response, status, code)
    as_yaml = client.post("/v1/evaluate", content=body, headers={"content-type": "application/yaml"})
    assert 400 <= as_yaml.status_code < 500, (name, as_yaml.status_code, as_yaml.text[:300])
    assert as_yaml.headers["content-type"].startswith(PROBLEM)
    assert "Traceback" not in as_yaml.text


def test_hostile_yaml_billion_laughs_is_refused(client):
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))
    response = client.post("/v1/evaluate", content=laughs,
                           headers={"content-type": "application/yaml"})
    body = problem(response, 400, "E104")
    assert "expands" in body["detail"]
