"""``POST /v1/evaluate`` taken directly (engine/service/fastpath.py) answers exactly as through
Starlette's router, and a small evaluation at an idle worker runs on the event loop within
``--inline-steps`` while a larger one runs again on the thread with the whole budget."""

from __future__ import annotations

from starlette.testclient import TestClient

from engine.service.admission import Admission
from engine.service import problems

from .conftest import JONES
from .test_endpoints import jones_json
from .test_errors import problem

JSON = {"content-type": "application/json"}


def test_the_direct_path_answers_as_the_router_does(client):
    assert client.app.starlette is not client.app
    with TestClient(client.app.starlette, raise_server_exceptions=False) as routed:
        requests = [
            ("/v1/evaluate", jones_json(), JSON),
            ("/v1/evaluate?only=magi.household_size&only=msp.level&citations=false", jones_json(), JSON),
            ("/v1/evaluate?as_of=2025-06-01&explain=true", JONES.read_bytes(),
             {"content-type": "application/yaml"}),
            ("/v1/evaluate?colour=blue", jones_json(), JSON),           # 400: unknown parameter
            ("/v1/evaluate?as_of=2025-13-01", jones_json(), JSON),      # 400: not a date
            ("/v1/evaluate?explain=maybe", jones_json(), JSON),         # 400: not a boolean
            ("/v1/evaluate?only=no.such_rule", jones_json(), JSON),     # 400: E410-like
            ("/v1/evaluate", '{"case_id": 1}', JSON),                   # 422: invalid case
            ("/v1/evaluate", "{", JSON),                                # 400: not JSON
            ("/v1/evaluate", jones_json(), {"content-type": "image/png"}),   # 415
        ]
        for path, body, headers in requests * 2:     # twice: parsed queries are remembered
            direct = client.post(path, content=body, headers=headers)
            through = routed.post(path, content=body, headers=headers)
            assert direct.status_code == through.status_code, (path, direct.text[:300])
            assert direct.headers["content-type"] == through.headers["content-type"]
            assert direct.headers["x-rulebook-fingerprint"] == through.headers["x-rulebook-fingerprint"]
            assert direct.json() == through.json(), path
    assert client.post("/v1/evaluate?colour=blue", content=jones_json()).json()["parameter"] == "colour"
    assert client.get("/v1/evaluate").status_code == 405           # other methods: the router
    metrics = client.get("/metrics").text
    assert 'policy_http_requests_total{operation="evaluate",status="200"}' in metrics


def test_a_small_case_at_an_idle_worker_is_evaluated_on_the_event_loop(make_client):
    client = make_client()                      # --inline-steps 1000: Jones needs about 200
    response = client.post("/v1/evaluate", content=jones_json(), headers=JSON)
    assert response.status_code == 200
    assert client.app.state.service.admission._executor is None      # no thread was needed


def test_a_case_past_the_inline_budget_runs_again_on_the_thread(make_client):
    inline = make_client()
    client = make_client(inline_steps=50)       # Jones needs more than 50 steps
    response = client.post("/v1/evaluate", content=jones_json(), headers=JSON)
    assert response.status_code == 200, response.text
    assert client.app.state.service.admission._executor is not None
    expected = inline.post("/v1/evaluate", content=jones_json(), headers=JSON).json()
    assert response.json() == expected
    value = {(r["name"], r["person"]): r["value"] for r in response.json()["results"]}
    assert value[("magi.household_income", "dad")] == "5199.60"


def test_the_callers_budget_is_what_a_problem_names(make_client):
    body = problem(make_client(inline_steps=50, max_steps=100).post(
        "/v1/evaluate", content=jones_json(), headers=JSON), 422, "E441")
    assert "budget of 100 steps" in body["detail"]
    body = problem(make_client(inline_steps=2000, max_steps=10).post(
        "/v1/evaluate", content=jones_json(), headers=JSON), 422, "E441")
    assert "budget of 10 steps" in body["detail"]
    assert make_client(inline_steps=0).app.state.service.admission.inline_steps == 0


def test_inline_only_when_idle_small_and_on_threads():
    def work(budget):
        return ("ran", budget)

    admission = Admission(1, 4, 5.0, evaluation_thread=True, inline_steps=300)
    assert admission.try_inline(work, (), 1000, 100) == ("ran", 300)
    assert admission.try_inline(work, (), 200, 100) == ("ran", 200)     # never past max_steps
    assert admission.try_inline(work, (), 1000, 10_000_000) is None      # a large body
    admission.running = 1
    assert admission.try_inline(work, (), 1000, 100) is None             # the thread is busy
    admission.running, admission.waiting = 0, 1
    assert admission.try_inline(work, (), 1000, 100) is None             # others are waiting
    admission.waiting = 0
    assert Admission(1, 4, 5.0, inline_steps=0).try_inline(work, (), 1000, 100) is None

    def over_budget(budget):
        raise problems.ServiceError("E441", f"More than {budget} steps.")
    assert admission.try_inline(over_budget, (), 1000, 100) is None      # to the thread
    try:
        admission.try_inline(over_budget, (), 300, 100)                  # the caller's own budget
    except problems.ServiceError as exc:
        assert exc.code == "E441" and "300" in exc.detail
    else:
        raise AssertionError("the caller's budget was not enforced")
    assert admission.running == 0


def test_frozen_objects_are_collected_again_after_a_reload():
    import gc
    import weakref

    from engine.service import memory

    class Node:
        pass
    node = Node()
    node.cycle = node                   # garbage only the cyclic collector can free
    alive = weakref.ref(node)
    memory.freeze()
    try:
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()
        assert alive() is not None      # frozen: out of the collector's sight
        memory.refreeze()               # what a reload does
        assert alive() is None
    finally:
        gc.unfreeze()
