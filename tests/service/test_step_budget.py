"""A per-evaluation step budget (``Engine.evaluate(max_steps=)``, ``policy serve --max-steps``)
and the body timeout: a costly case or a slow client gets a problem with a code, never a 500."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from engine.cli.app import app as cli_app
from engine.errors import EvaluationError, codes
from engine.runtime.state import MAX_STEPS
from engine.service import problems
from engine.service.requests import read_body

from .conftest import POLICY
from .test_endpoints import jones_json
from .test_errors import problem


@pytest.fixture(scope="module")
def engine(rulebook_set):
    return rulebook_set.engine


def jones():
    return json.loads(jones_json())


def test_a_budget_too_small_stops_the_evaluation_with_e441_naming_the_rule(engine):
    with pytest.raises(EvaluationError) as caught:
        engine.evaluate(jones(), max_steps=10)
    found = caught.value.problem
    assert found.code == codes.STEP_BUDGET == "E441"
    assert "budget of 10 steps" in found.message and "while computing rule" in found.message
    assert found.file and found.file.endswith(".yaml") and found.line and found.field


def test_a_budget_of_one_step_says_step(engine):
    with pytest.raises(EvaluationError, match="budget of 1 step;"):
        engine.evaluate(jones(), max_steps=1)


def test_a_budget_large_enough_changes_nothing(engine):
    full = engine.evaluate(jones()).as_dict()
    assert engine.evaluate(jones(), max_steps=5_000).as_dict() == full
    assert engine.evaluate(jones(), max_steps=MAX_STEPS).as_dict() == full


@pytest.mark.parametrize("bad", [0, -5, MAX_STEPS + 1, True, 2.5, "100"])
def test_a_budget_out_of_range_is_refused(engine, bad):
    with pytest.raises(ValueError, match="step budget"):
        engine.evaluate(jones(), max_steps=bad)


def test_the_service_answers_422_e441_past_its_budget(make_client):
    client = make_client(max_steps=10)
    body = problem(client.post("/v1/evaluate", content=jones_json()), 422, "E441")
    assert "budget of 10 steps" in body["detail"]
    assert body["errors"][0]["file"].endswith(".yaml")          # the rule, located
    assert make_client(max_steps=5_000).post("/v1/evaluate", content=jones_json()).status_code == 200


def test_a_batch_line_past_the_budget_gets_an_error_line_and_the_batch_goes_on(make_client):
    client = make_client(max_steps=10)
    response = client.post("/v1/evaluate/batch", content=jones_json() + "\n" + jones_json() + "\n",
                           headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 200
    lines = [json.loads(x) for x in response.text.splitlines()]
    assert [x["line"] for x in lines] == [1, 2]
    assert all(x["error"]["code"] == "E441" and x["error"]["status"] == 422 for x in lines)
    assert all(x["case_id"] == "jones" for x in lines)


def test_policy_serve_takes_max_steps_and_body_timeout(monkeypatch):
    from engine.service import runner
    seen = {}

    def fake_serve(config, host, port, rulebooks=None, **options):
        seen["config"] = config
    monkeypatch.setattr(runner, "serve", fake_serve)
    result = CliRunner().invoke(cli_app, ["serve", "--policy", str(POLICY), "--no-check",
                                          "--max-steps", "5000", "--body-timeout", "3"])
    assert result.exit_code == 0, result.output
    assert seen["config"].max_steps == 5000 and seen["config"].body_timeout == 3.0
    for bad in (["--max-steps", "0"], ["--max-steps", str(MAX_STEPS + 1)]):
        result = CliRunner().invoke(cli_app, ["serve", "--policy", str(POLICY), *bad])
        assert result.exit_code == 2, result.output


class SlowRequest:
    """A request whose body arrives in two chunks, the second after ``pause`` seconds."""

    def __init__(self, pause: float):
        self.pause = pause
        self.headers = {}

    async def stream(self):
        yield b'{"case_id": '
        await asyncio.sleep(self.pause)
        yield b'"x"}'


def test_a_body_that_arrives_too_slowly_is_408_e602():
    with pytest.raises(problems.ServiceError) as caught:
        asyncio.run(read_body(SlowRequest(0.5), 1_000_000, 0.05))
    assert caught.value.status == 408 and caught.value.code == codes.BODY_TIMEOUT == "E602"
    assert asyncio.run(read_body(SlowRequest(0.01), 1_000_000, 5)) == b'{"case_id": "x"}'
