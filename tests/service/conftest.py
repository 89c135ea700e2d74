"""Fixtures of the HTTP service tests: one rulebook set per session, an in-process client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from engine.cli.app import app as cli_app  # noqa: E402
from engine.service import ServiceConfig, create_app  # noqa: E402
from engine.service.rulebooks import load  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policy"
JONES = ROOT / "examples" / "jones.yaml"
DEADLINE_CASES = ROOT / "tests" / "deadlines" / "cases"


@pytest.fixture(scope="session")
def rulebook_set():
    """The repository's rulebooks, loaded once (``policy check`` is run by the reload tests)."""
    return load([str(POLICY)], run_check=False)


@pytest.fixture()
def make_client(rulebook_set):
    """A factory of in-process clients for a configuration (closed after the test)."""
    clients = []

    def make(**options) -> TestClient:
        config = ServiceConfig(policy=(str(POLICY),), **options)
        client = TestClient(create_app(config, rulebook_set), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture()
def client(make_client):
    return make_client()


def cli_json(*args) -> dict:
    """What a ``policy`` command prints with ``--format json``, parsed."""
    result = CliRunner().invoke(cli_app, [*args, "--format", "json", "--policy", str(POLICY)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
