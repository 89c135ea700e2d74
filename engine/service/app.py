"""The ASGI application: routing, query parameters, errors, metrics and the fingerprint header.

``create_app(config)`` builds one application around one worker's state (:class:`Service`): the
rulebook set being served, the admission control and the metrics. Rulebooks are loaded when the
application starts (or handed in ready, as ``policy serve`` and the tests do, so that a set that
does not load is reported before the port opens). Every response, errors included, carries the
``X-Rulebook-Fingerprint`` header.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Route

from ..language.dates import parse_date
from ..errors import PolicyError, codes
from . import fastpath, memory, openapi, problems
from .admission import Admission
from .config import ServiceConfig
from .metrics import Metrics
from .operations import OPERATIONS
from .rulebooks import RulebookSet, Rulebooks, RulebooksRefused, load

log = logging.getLogger("policy.serve")

#: The exit status by which uvicorn's supervisor knows a worker failed before serving.
STARTUP_FAILURE = 3

TRUE = ("true", "1", "yes", "on")
FALSE = ("false", "0", "no", "off")


class Service:
    """One worker's state: configuration, rulebooks, admission, metrics, the OpenAPI bytes."""

    def __init__(self, config: ServiceConfig, rulebooks: RulebookSet | None = None):
        self.config = config
        self.rulebooks = Rulebooks(rulebooks, config.check) if rulebooks is not None else None
        self.admission = Admission(config.max_in_flight, config.max_queue, config.request_timeout,
                                   config.evaluation_thread, config.inline_steps)
        self.metrics = Metrics()
        self.openapi_bytes = openapi.dumps(openapi.document()).encode("utf-8")
        #: Whether long-lived objects were frozen out of the collector's sight (memory.py): set
        #: in a server's processes, never in a test's.
        self.frozen = False

    def freeze(self) -> None:
        """Freeze what is loaded (the rulebooks) out of the cyclic collector's sight."""
        memory.freeze()
        self.frozen = True

    def start(self) -> None:
        if self.rulebooks is None:
            self.rulebooks = Rulebooks(load(self.config.policy, self.config.check),
                                       self.config.check)
        log.info("Serving rulebooks %s.", self.rulebooks.current.fingerprint)

    async def reload(self) -> RulebookSet:
        """Check and load the rulebooks again on a thread and swap them in; the old set keeps
        serving until then, and for good when the new one is refused."""
        old = self.rulebooks.current.fingerprint
        try:
            fresh = await asyncio.to_thread(self.rulebooks.reload)
        except RulebooksRefused as exc:
            self.metrics.reloaded("refused")
            log.error("Rulebook reload refused; still serving %s. %s", old, exc.render())
            raise problems.from_policy_error(exc) from None
        self.metrics.reloaded("ok")
        if self.frozen:
            await asyncio.to_thread(memory.refreeze)
        log.info("Rulebooks reloaded: %s (was %s).", fresh.fingerprint, old)
        return fresh


def create_app(config: ServiceConfig | None = None,
               rulebooks: RulebookSet | None = None) -> fastpath.Application:
    """The application for one worker (rulebooks loaded at start-up unless given): Starlette's
    routing for every endpoint but ``POST /v1/evaluate``, which is taken directly (fastpath.py)."""
    service = Service(config or ServiceConfig(), rulebooks)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        service.start()
        loop = asyncio.get_running_loop()
        hup = _listen_for_hangup(loop, service)
        try:
            yield
        finally:
            if hup:
                loop.remove_signal_handler(signal.SIGHUP)
            service.admission.close()

    routes = [Route(op.path, _endpoint(service, op), methods=[op.method], name=op.id)
              for op in OPERATIONS]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: _http_error(service)})
    app.state.service = service
    evaluate = next(op for op in OPERATIONS if op.path == fastpath.PATH and op.method == "POST")
    return fastpath.Application(app, lambda op, arguments: _endpoint(service, op, arguments),
                                evaluate, _arguments)


def app_from_environment() -> fastpath.Application:
    """The factory uvicorn's worker processes import (``--workers`` > 1).

    The rulebooks are loaded here, before the worker serves: a set that fails is logged with
    every problem (no traceback) and the worker exits with uvicorn's start-up failure status,
    so that a rolling restart (SIGHUP) keeps the old workers instead of bringing it in."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    config = ServiceConfig.from_environment()
    try:
        rulebooks = load(config.policy, config.check)
    except RulebooksRefused as exc:
        log.error("The rulebooks were refused; this worker does not start.\n%s", exc.render())
        sys.exit(STARTUP_FAILURE)
    app = create_app(config, rulebooks)
    from .protocol import configure     # uvicorn's protocol: only where uvicorn serves
    configure(config.header_timeout, config.body_timeout, fingerprint_of(app))
    app.state.service.freeze()
    return app


def fingerprint_of(app: fastpath.Application):
    """A function giving the fingerprint of the rulebooks ``app`` serves now (None before they
    are loaded), for answers written outside the application (a 408 for a slow head)."""
    service = app.state.service

    def fingerprint():
        return service.rulebooks.current.fingerprint if service.rulebooks else None
    return fingerprint


def _listen_for_hangup(loop, service) -> bool:
    """SIGHUP reloads the rulebooks (in a single-process server; with several workers uvicorn's
    supervisor gets it and replaces the workers one by one instead)."""
    def hangup():
        task = loop.create_task(service.reload())
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
    try:
        loop.add_signal_handler(signal.SIGHUP, hangup)
        return True
    except (ValueError, RuntimeError, NotImplementedError, AttributeError):
        return False            # not the main thread (the test client), or no SIGHUP here


def _endpoint(service: Service, op, arguments=None):
    """The handler of one operation: arguments, errors as problems, metrics. ``arguments``
    reads the query (the fast path gives one that remembers what it read)."""
    arguments = arguments or _arguments

    async def handle(request):
        started = time.perf_counter()
        rulebooks = service.rulebooks.current
        try:
            args = arguments(op, request)
            response = await op.handler(service, rulebooks, request, args)
        except problems.ServiceError as exc:
            response = problems.response(exc, rulebooks.fingerprint)
        except PolicyError as exc:
            response = problems.response(problems.from_policy_error(exc), rulebooks.fingerprint)
        except ClientDisconnect:
            response = Response(status_code=400)
        except Exception:   # a defect: logged with its traceback, never shown to the caller
            log.exception("Internal error on %s %s", request.method, request.url.path)
            response = problems.response(problems.ServiceError(
                problems.INTERNAL, "The engine failed on this request; this is a defect, not "
                "bad input, and it has been logged.", status=500), rulebooks.fingerprint)
        service.metrics.observe(op.id, response.status_code, time.perf_counter() - started)
        return response
    return handle


def _http_error(service: Service):
    """404 and 405 from the router, as problems."""
    async def handle(request, exc: HTTPException):
        code = {404: problems.NOT_FOUND, 405: problems.METHOD_NOT_ALLOWED}.get(exc.status_code,
                                                                             problems.BAD_QUERY)
        detail = {404: f"There is no endpoint at {request.url.path}; GET /openapi.json lists them.",
                  405: f"{request.url.path} does not take {request.method}."}.get(
            exc.status_code, str(exc.detail))
        error = problems.ServiceError(code, detail, status=exc.status_code,
                                      headers=dict(exc.headers or {}))
        fingerprint = service.rulebooks.current.fingerprint if service.rulebooks else None
        service.metrics.observe("unmatched", exc.status_code, 0.0)
        return problems.response(error, fingerprint)
    return handle


def _arguments(op, request) -> dict:
    """The operation's path and query parameters, converted and checked (400 with the name of
    the parameter at fault)."""
    query = request.query_params
    known = {p.name for p in op.parameters if p.where == "query"}
    unknown = sorted(set(query.keys()) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise problems.ServiceError(problems.BAD_QUERY, f"The query parameter {unknown[0]!r} is "
                                    f"not known here (allowed: {allowed}).", parameter=unknown[0])
    args = {}
    for p in op.parameters:
        if p.where == "path":
            args[p.name] = request.path_params[p.name]
            continue
        kind = p.schema.get("type")
        if kind == "array":
            values = query.getlist(p.name)
            if any(not v for v in values):
                raise _bad(p.name, f"The query parameter {p.name!r} is empty.")
            args[p.name] = values or None
            continue
        values = query.getlist(p.name)
        if len(values) > 1:
            raise _bad(p.name, f"The query parameter {p.name!r} is given {len(values)} times.")
        raw = values[0] if values else None
        if raw is None:
            args[p.name] = p.schema.get("default")
        elif kind == "boolean":
            if raw.lower() not in TRUE + FALSE:
                raise _bad(p.name, f"The query parameter {p.name!r} is {raw!r}; write true or false.")
            args[p.name] = raw.lower() in TRUE
        elif p.schema.get("format") == "date":
            try:
                args[p.name] = parse_date(raw)
            except ValueError as exc:
                raise _bad(p.name, f"The query parameter {p.name!r} is {raw!r}, which is not a "
                                   f"date written YYYY-MM-DD: {exc}.", code=codes.BAD_DATE)
        else:
            args[p.name] = raw
    return args


def _bad(name: str, detail: str, code: str = problems.BAD_QUERY) -> problems.ServiceError:
    return problems.ServiceError(code, detail, status=400, parameter=name)
