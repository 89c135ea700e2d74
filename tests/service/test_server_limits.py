"""`policy serve --body-timeout --max-steps --timeout` as a process on a free loopback port: a
client that sends its body too slowly gets 408 while others are served, and a case past the step
budget gets 422 E441."""

from __future__ import annotations

import json
import socket
import time

import pytest

from .conftest import POLICY
from .test_endpoints import jones_json
from .test_server import HOST, request, serving


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(tmp_path_factory, POLICY, "--no-check", "--body-timeout", "1", "--max-steps", "50",
                 "--timeout", "5") as (port, _, _):
        yield port


def test_a_body_sent_too_slowly_gets_408_and_others_are_served_meanwhile(server):
    with socket.create_connection((HOST, server), timeout=10) as slow:
        slow.sendall(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 400\r\n\r\n{\"case_id\": ")
        started = time.monotonic()
        assert request(server, "GET", "/healthz")[0] == 200        # the worker is not held
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = slow.recv(65536)
            if not chunk:
                break
            answer += chunk
    waited = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"application/problem+json" in head
    assert json.loads(body)["code"] == "E602"
    assert 0.5 < waited < 8


def test_a_case_past_the_step_budget_gets_422_e441(server):
    status, headers, body = request(server, "POST", "/v1/evaluate", jones_json(),
                                    {"Content-Type": "application/json"})
    assert status == 422 and headers["content-type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["code"] == "E441" and "budget of 50 steps" in problem["detail"]
    solo = {"case_id": "solo", "as_of": "2025-06-01", "people": [{"id": "a", "age": 30}]}
    status, _, body = request(server, "POST", "/v1/evaluate?only=magi.household_size",
                              json.dumps(solo), {"Content-Type": "application/json"})
    assert status == 200, body[:300]
