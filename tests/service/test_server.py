"""`policy serve` as a process on a free loopback port: requests, 413, SIGHUP, SIGTERM."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from .conftest import POLICY, ROOT
from .test_endpoints import jones_json

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, headers=None, timeout=30):
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def wait_until(predicate, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    policy = tmp_path_factory.mktemp("served") / "policy"
    shutil.copytree(POLICY, policy)
    with serving(tmp_path_factory, policy, "--max-body-bytes", "100000") as (port, process, log):
        yield {"port": port, "process": process, "policy": policy, "log": log}


@contextmanager
def serving(tmp_path_factory, policy, *options):
    """``policy serve`` of ``policy`` with ``options`` on a free loopback port, once ``/healthz``
    answers: (port, process, log file). Stopped at the end (killed if it does not stop), so a
    failing test leaves no server behind."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("log") / "serve.log", "w+")
    process = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--host", HOST,
                                "--port", str(port), "--policy", str(policy), *options],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        if not wait_until(lambda: request(port, "GET", "/healthz")[0] == 200):
            log.seek(0)
            pytest.fail("policy serve did not become healthy:\n" + log.read())
        yield port, process, log
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def fingerprint(port) -> str:
    return json.loads(request(port, "GET", "/healthz")[2])["fingerprint"]


def test_evaluate_over_the_network(server):
    status, headers, body = request(server["port"], "POST", "/v1/evaluate", jones_json(),
                                    {"Content-Type": "application/json"})
    assert status == 200
    data = json.loads(body)
    assert data["case_id"] == "jones" and data["as_of"] == "2018-06-01"
    levels = {r["person"]: r["value"] for r in data["results"]
              if r["name"] == "eligibility.level_of_care"}
    assert levels["kid1"] == levels["kid2"] == "CHIP_75"
    assert headers["x-rulebook-fingerprint"] == fingerprint(server["port"])


def test_openapi_and_readiness(server):
    status, _, body = request(server["port"], "GET", "/openapi.json")
    assert status == 200 and json.loads(body)["openapi"] == "3.1.0"
    assert request(server["port"], "GET", "/readyz")[0] == 200


def test_a_body_over_the_limit_gets_413_not_a_reset_connection(server):
    status, headers, body = request(server["port"], "POST", "/v1/evaluate", b" " * 3_000_000,
                                    {"Content-Type": "application/json"})
    assert status == 413
    assert headers["content-type"].startswith("application/problem+json")
    assert json.loads(body)["code"] == "E106"


def test_sighup_reloads_a_good_set_and_refuses_a_broken_one(server):
    port, fpl = server["port"], server["policy"] / "fpl.yaml"
    old = fingerprint(port)
    text = fpl.read_text()
    fpl.write_text(text.replace("rulebook: fpl", "rulebook: fpl\nsurprise: true", 1))
    server["process"].send_signal(signal.SIGHUP)
    assert wait_until(lambda: "reload refused" in _log(server), 60), _log(server)
    assert fingerprint(port) == old
    fpl.write_text(text + "\n# reloaded\n")
    server["process"].send_signal(signal.SIGHUP)
    assert wait_until(lambda: fingerprint(port) != old, 60), _log(server)
    assert request(port, "POST", "/v1/evaluate", jones_json())[0] == 200


def test_sigterm_stops_cleanly_with_status_0(server):
    process = server["process"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    log = _log(server)
    assert "Traceback" not in log and "Finished server process" in log


def _log(server) -> str:
    log = server["log"]
    log.flush()
    log.seek(0)
    text = log.read()
    log.seek(0, 2)
    return text


def test_several_workers_refuse_a_broken_set_on_sighup_and_stop_cleanly(tmp_path):
    """With --workers, uvicorn's supervisor replaces workers one by one on SIGHUP; a worker
    that refuses the rulebooks never serves, and the old ones keep serving."""
    policy = tmp_path / "policy"
    shutil.copytree(POLICY, policy)
    port = free_port()
    log = open(tmp_path / "serve.log", "w+")
    process = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--host", HOST,
                                "--port", str(port), "--policy", str(policy), "--workers", "2"],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = {"log": log}
    try:
        assert wait_until(lambda: request(port, "GET", "/healthz")[0] == 200), _log(server)
        assert wait_until(lambda: _log(server).count("Application startup complete") >= 2)
        old = fingerprint(port)
        fpl = policy / "fpl.yaml"
        fpl.write_text(fpl.read_text().replace("rulebook: fpl", "rulebook: fpl\nsurprise: true", 1))
        process.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "aborting the restart" in _log(server), 90), _log(server)
        assert "The rulebooks were refused" in _log(server)
        assert {fingerprint(port) for _ in range(4)} == {old}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def test_serve_that_cannot_start_exits_2_with_a_sentence(tmp_path):
    missing = subprocess.run([sys.executable, "-m", "engine", "serve", "--policy",
                              str(tmp_path / "nowhere")], capture_output=True, text=True,
                             cwd=ROOT, timeout=120)
    assert missing.returncode == 2
    assert "E107" in missing.stderr and "Traceback" not in missing.stderr
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        busy = subprocess.run([sys.executable, "-m", "engine", "serve", "--no-check", "--port",
                               str(taken.getsockname()[1])], capture_output=True, text=True,
                              cwd=ROOT, timeout=120)
    assert busy.returncode == 2
    assert "could not start" in busy.stderr and "Traceback" not in busy.stderr
