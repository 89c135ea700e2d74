"""Slow and hostile clients against ``policy serve`` on a free loopback port: a request head that
arrives too slowly (a "slow loris", even one that keeps sending a byte now and then) gets 408 and
a closed connection within ``--header-timeout``; a connection that sends nothing is closed; a head
over 64 KiB gets 431; a body the application never reads is cut off; and while dozens of such
connections are open, evaluations are still answered at once."""

from __future__ import annotations

import json
import socket
import time

import pytest

from .conftest import POLICY
from .test_endpoints import jones_json
from .test_server import HOST, request, serving

HEAD = b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(tmp_path_factory, POLICY, "--no-check", "--header-timeout", "1",
                 "--body-timeout", "1") as (port, _, _):
        yield port


def read_all(sock, seconds: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection (bounded in time)."""
    sock.settimeout(seconds)
    answer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return answer
        answer += chunk


def assert_408(answer: bytes) -> dict:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"content-type: application/problem+json" in head.lower()
    assert b"x-rulebook-fingerprint: sha256:" in head.lower()
    problem = json.loads(body)
    assert problem["status"] == 408 and problem["code"] == "E602"
    return problem


def test_a_head_that_stops_arriving_gets_408_and_the_connection_closed(server):
    with socket.create_connection((HOST, server)) as slow:
        slow.sendall(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert request(server, "GET", "/healthz")[0] == 200        # others are served meanwhile
        problem = assert_408(read_all(slow))
    assert "did not arrive within 1 seconds" in problem["detail"]
    assert 0.5 < time.monotonic() - started < 5


def test_a_slow_loris_that_keeps_trickling_bytes_is_cut_off_at_the_deadline(server):
    with socket.create_connection((HOST, server)) as slow:
        started = time.monotonic()
        slow.settimeout(10)
        answer = b""
        for byte in (HEAD + b"X-Padding: " + b"a" * 100):      # a byte every 0.1 s: 20 s in all
            try:
                slow.sendall(bytes([byte]))
            except OSError:                                     # closed by the server
                break
            time.sleep(0.1)
            if time.monotonic() - started > 6:
                break
        answer = read_all(slow)
    assert_408(answer)
    assert time.monotonic() - started < 5


def test_a_connection_that_sends_nothing_is_closed(server):
    with socket.create_connection((HOST, server)) as idle:
        started = time.monotonic()
        assert read_all(idle) == b""                    # closed without an answer
    assert 0.5 < time.monotonic() - started < 5


def test_a_second_request_on_a_kept_alive_connection_is_held_to_the_same_deadline(server):
    body = jones_json().encode()
    with socket.create_connection((HOST, server)) as conn:
        conn.sendall(HEAD + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        conn.settimeout(10)
        first = b""
        while b"\r\n\r\n" not in first:
            first += conn.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        length = int(first.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        received = len(first.partition(b"\r\n\r\n")[2])
        while received < length:
            received += len(conn.recv(65536))
        conn.sendall(b"GET /healthz HTTP/1.1\r\n")      # then nothing more
        started = time.monotonic()
        assert_408(read_all(conn))
    assert time.monotonic() - started < 5


def test_a_head_over_64_kib_gets_431(server):
    with socket.create_connection((HOST, server)) as big:
        try:
            big.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 70_000
                        + b"\r\n\r\n")
        except OSError:
            pass                                        # closed while sending: read the answer
        answer = read_all(big)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431"), answer[:300]
    assert json.loads(body)["status"] == 431


def test_a_body_the_application_does_not_read_is_cut_off(server):
    with socket.create_connection((HOST, server)) as slow:
        slow.sendall(b"POST /no/such/endpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        started = time.monotonic()
        answer = read_all(slow)                         # 404 at once, then closed at the deadline
    assert answer.startswith(b"HTTP/1.1 404"), answer[:200]
    assert time.monotonic() - started < 6


def test_many_slow_clients_do_not_stop_evaluations(server):
    sockets = []
    try:
        for _ in range(40):
            s = socket.create_connection((HOST, server))
            s.sendall(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\n")
            sockets.append(s)
        started = time.monotonic()
        status, _, body = request(server, "POST", "/v1/evaluate?only=magi.household_size",
                                  jones_json(), {"Content-Type": "application/json"})
        assert status == 200 and json.loads(body)["case_id"] == "jones"
        assert time.monotonic() - started < 1
        for s in sockets:
            assert_408(read_all(s))
    finally:
        for s in sockets:
            s.close()
