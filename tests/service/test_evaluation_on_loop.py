"""``policy serve --no-evaluation-thread``: evaluations on the event loop give the same answers
(and the same problems) as on the evaluation thread."""

from __future__ import annotations

import asyncio
import json

from engine.service.admission import Admission

from .conftest import JONES, cli_json
from .test_endpoints import jones_json
from .test_errors import problem


def test_the_same_answers_on_the_event_loop(make_client):
    client = make_client(evaluation_thread=False)
    assert client.app.state.service.admission.evaluation_thread is False
    response = client.post("/v1/evaluate?provenance=true", content=jones_json(),
                           headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json() == cli_json("eval", str(JONES), "--provenance")
    lines = client.post("/v1/evaluate/batch", content=jones_json() + "\n{\n",
                        headers={"content-type": "application/x-ndjson"}).text.splitlines()
    assert json.loads(lines[0])["case_id"] == "jones"
    assert json.loads(lines[1])["error"]["code"] == "E100"
    assert client.get("/v1/tables/income-limits?as_of=2025-06-01").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_the_same_problems_on_the_event_loop(make_client):
    client = make_client(evaluation_thread=False, max_steps=10)
    problem(client.post("/v1/evaluate", content=jones_json()), 422, "E441")
    problem(client.post("/v1/evaluate", content='{"case_id": 1}'), 422, "E201")


def test_on_the_event_loop_a_function_runs_at_once_and_counts_as_running():
    async def scenario():
        admission = Admission(max_in_flight=1, max_queue=0, timeout=5, evaluation_thread=False)
        seen = []
        result = await admission.run(lambda: seen.append(admission.running) or "done")
        assert result == "done" and seen == [1] and admission.running == 0
        try:
            await admission.run(int, "not a number")
        except ValueError:
            pass
        assert admission.running == 0 and not admission.saturated
    asyncio.run(scenario())


def test_policy_serve_takes_no_evaluation_thread(monkeypatch):
    from typer.testing import CliRunner

    from engine.cli.app import app as cli_app
    from engine.service import runner

    from .conftest import POLICY
    seen = []
    monkeypatch.setattr(runner, "serve", lambda config, *a, **k: seen.append(config))
    for flag, expected in (([], True), (["--no-evaluation-thread"], False)):
        result = CliRunner().invoke(cli_app, ["serve", "--policy", str(POLICY), "--no-check", *flag])
        assert result.exit_code == 0, result.output
        assert seen[-1].evaluation_thread is expected
