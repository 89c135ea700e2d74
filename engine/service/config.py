"""The service's options and limits, with the defaults an operator gets without flags.

Every limit exists so that one request cannot take more than its share: a body is refused past
``max_body_bytes`` while it is still arriving, a slow sender gets ``body_timeout`` seconds, an
evaluation gets ``request_timeout`` seconds of wall-clock time (the engine's own step bound stops
a runaway evaluation), and past ``max_in_flight`` running and ``max_queue`` waiting evaluations a
worker answers 429 at once instead of letting latency grow without bound.

The configuration travels to uvicorn's worker processes as JSON in an environment variable, since
those processes import the application by name.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from ..runtime.state import MAX_STEPS

#: The environment variable that carries the configuration to worker processes.
CONFIG_ENVIRONMENT = "POLICY_SERVE_CONFIG"

MB = 1_000_000


@dataclass(frozen=True)
class ServiceConfig:
    """What a worker needs to know; see ``policy serve --help`` for each option."""

    #: Rulebook files or directories (empty: the default policy directory).
    policy: tuple[str, ...] = ()
    #: Largest request body (one case), in bytes: 413 beyond it.
    max_body_bytes: int = 4 * MB
    #: Largest body of a batch request, in bytes (each line is also held to ``max_body_bytes``).
    max_batch_bytes: int = 256 * MB
    #: Seconds a client may take to send a body (for a batch: between two chunks).
    body_timeout: float = 15.0
    #: Seconds a client may take to send a request's head (request line and headers), from the
    #: connection's opening or the first byte of the request: 408 and a closed connection beyond.
    header_timeout: float = 10.0
    #: Seconds of wall-clock time for one evaluation, waiting included: 503 beyond it.
    request_timeout: float = 10.0
    #: Rule and function computations one evaluation may take (1 to the engine's bound,
    #: 200,000): 422 with E441 beyond it. This bounds the CPU time a request can take, which the
    #: timeout cannot (an evaluation thread cannot be stopped once it runs).
    max_steps: int = MAX_STEPS
    #: Evaluations running at once in one worker (each on its own thread). One by default:
    #: evaluation is CPU-bound Python, so more threads only contend for the interpreter lock
    #: (measured: lower throughput and a worse p99); scale with worker processes instead.
    max_in_flight: int = 1
    #: Whether evaluations run on a thread (the default: the event loop stays free to answer,
    #: queue and time out) or on the event loop itself (less CPU per request; see admission.py).
    evaluation_thread: bool = True
    #: Steps an evaluation may take on the event loop before it is handed to the thread (0:
    #: always on the thread). A small case arriving at an idle worker is evaluated at once, with
    #: no hand-over; one that needs more starts again on the thread with ``max_steps``.
    inline_steps: int = 1_000
    #: Evaluations waiting for a thread in one worker: 429 beyond it.
    max_queue: int = 64
    #: Whether ``POST /v1/admin/reload`` is enabled (off by default; SIGHUP always works).
    admin_reload: bool = False
    #: Whether rulebooks must pass ``policy check`` before they are served (at start and reload).
    check: bool = True
    #: Worker processes (informational inside a worker: the admin reload refuses when > 1).
    workers: int = 1

    def to_environment(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> "ServiceConfig":
        """The configuration ``policy serve`` put in the environment for its workers."""
        raw = os.environ.get(CONFIG_ENVIRONMENT)
        if not raw:
            return cls()
        data = json.loads(raw)
        data["policy"] = tuple(data.get("policy") or ())
        return cls(**data)
