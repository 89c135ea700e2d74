"""``policy serve``: the engine as an HTTP service, for systems not written in Python.

Eligibility systems, caseworker tools and screeners call the engine over HTTP, as they call the
reference MAGI engine, OpenFisca or OPA. The service is a thin shell around the public API: each
endpoint answers with exactly what the matching ``policy`` command prints with ``--format json``
(the same function produces both), and every response names the fingerprint of the rulebooks it
was computed with, so that any answer can be reproduced.

Built on Starlette and uvicorn (see ``docs/service.md`` for why, and for how to run it). Modules:

* :mod:`.config`: the limits and options, with their defaults;
* :mod:`.rulebooks`: a loaded, checked, fingerprinted rulebook set and its atomic reload;
* :mod:`.admission`: the bounded queue, the evaluation threads and the per-request timeout;
* :mod:`.requests`: reading request bodies within a size limit, while they stream in;
* :mod:`.problems`: RFC 9457 ``application/problem+json`` errors with the engine's codes;
* :mod:`.encoding`: response bodies as JSON bytes (orjson, the standard library where it refuses);
* :mod:`.metrics`: counters and histograms in Prometheus' text format;
* :mod:`.operations`: the endpoints, declared once for both routing and the OpenAPI document;
* :mod:`.openapi`: the OpenAPI 3.1 document, built from those declarations and the case schema;
* :mod:`.fastpath`: ``POST /v1/evaluate`` straight to its handler, without the router;
* :mod:`.protocol`: uvicorn's httptools protocol with deadlines for the request head and body;
* :mod:`.memory`: the loaded rulebooks frozen out of the cyclic collector's sight;
* :mod:`.app`: the ASGI application; :mod:`.runner`: uvicorn, signals and workers.
"""

from .app import create_app
from .config import ServiceConfig

__all__ = ["create_app", "ServiceConfig"]
