"""The direct path for ``POST /v1/evaluate``: the one request callers send thousands of times.

Every other request goes through Starlette (routing, middleware, its ``Request``). An evaluation
goes straight from the ASGI call to the endpoint's own handler, with a :class:`RawRequest` that
offers the handler exactly what it reads from a request (headers, query parameters, the body as
a stream) and nothing it does not: no middleware stack, no router scan, no exception-handler
wrapping, and the query string of a request parsed once per distinct string (callers send the
same ``?only=...`` again and again). The handler, the errors, the metrics and the answer are the
same as through the router; only the way there is shorter. Measured in-process on the
Jones household (benchmarks/README.md): 0.09 ms of CPU per request through Starlette, 0.04 ms
this way.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect

#: The one route taken directly.
PATH = "/v1/evaluate"
#: Distinct query strings whose parsed arguments are kept (callers use few).
QUERY_MEMO = 256


class Headers(dict):
    """Request headers by lower-case name (the first of repeated ones, as Starlette's
    ``headers.get`` answers)."""

    def __init__(self, raw):
        super().__init__()
        for name, value in raw:
            key = name.decode("latin-1")
            if key not in self:
                self[key] = value.decode("latin-1")


class QueryParams:
    """What the endpoint reads of a query string: its names and each name's values."""

    def __init__(self, query_string: bytes):
        self._values: dict[str, list[str]] = {}
        for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            self._values.setdefault(name, []).append(value)

    def keys(self):
        return self._values.keys()

    def getlist(self, name: str) -> list[str]:
        return list(self._values.get(name, ()))


class URL:
    def __init__(self, path: str):
        self.path = path


class RawRequest:
    """An ASGI request as the endpoint handlers read it (a small part of Starlette's)."""

    path_params: dict = {}

    def __init__(self, scope, receive):
        self.scope = scope
        self._receive = receive
        self.method = scope["method"]
        self.url = URL(scope["path"])
        self.headers = Headers(scope["headers"])
        self._complete = False

    @property
    def query_params(self) -> QueryParams:
        return QueryParams(self.scope.get("query_string", b""))

    async def stream(self):
        """The body's chunks as they arrive, continuing where an earlier call stopped (so that
        the rest of a refused body can be drained); nothing once the body is complete.
        ClientDisconnect if the client goes away."""
        while not self._complete:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            self._complete = not message.get("more_body", False)
            body = message.get("body", b"")
            if body:
                yield body


class Application:
    """The ASGI application ``create_app`` returns: ``POST /v1/evaluate`` handled directly,
    everything else (other endpoints, 404s, lifespan) by the Starlette application."""

    def __init__(self, starlette, make_endpoint, operation, arguments):
        self.starlette = starlette
        self.state = starlette.state
        self._arguments = arguments
        self._parsed: dict[bytes, dict] = {}
        self._endpoint = make_endpoint(operation, self._memoised_arguments)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.starlette(scope, receive, send)
            return
        response = await self._endpoint(RawRequest(scope, receive))
        await response(scope, receive, send)

    def _memoised_arguments(self, operation, request) -> dict:
        """The operation's arguments from the query string, converted once per distinct string
        (a string that is refused is not kept, and is refused again with the same problem)."""
        query = request.scope.get("query_string", b"")
        args = self._parsed.get(query)
        if args is None:
            args = self._arguments(operation, request)
            if len(self._parsed) < QUERY_MEMO:
                self._parsed[query] = args
        return dict(args)
