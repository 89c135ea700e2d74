"""Errors as RFC 9457 ``application/problem+json``, carrying the engine's codes.

Every error the service answers with is one JSON object::

    {"type": "https://mo-policy-engine.local/problems/E201", "title": "Invalid case",
     "status": 422, "code": "E201", "detail": "'people[0].age' must be of type integer, not text.",
     "pointer": "/people/0/age",
     "errors": [{"code": "E201", "detail": "...", "pointer": "/people/0/age", "line": null}]}

``code`` is the engine's stable code (the same ``policy eval`` prints for the same case) or, for
what only HTTP has, one of the ``E6xx`` codes below. ``pointer`` is the JSON pointer (RFC 6901)
of the request field at fault, where there is one; ``errors`` lists every problem found. Bad
input never gets a 500 or a traceback; a 500 means a defect of the engine, and says so.
"""

from __future__ import annotations

import re

from starlette.responses import Response

from ..errors import PolicyError, Problem, codes
from .encoding import dumps

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://mo-policy-engine.local/problems/"

#: Codes of the HTTP service (family E6xx); their titles are in engine.errors.codes.
UNSUPPORTED_MEDIA_TYPE = codes.UNSUPPORTED_MEDIA_TYPE
BODY_TIMEOUT = codes.BODY_TIMEOUT
SATURATED = codes.SATURATED
EVALUATION_TIMEOUT = codes.EVALUATION_TIMEOUT
NOT_FOUND = codes.NOT_FOUND
METHOD_NOT_ALLOWED = codes.METHOD_NOT_ALLOWED
BAD_QUERY = codes.BAD_QUERY
BAD_REQUEST_FIELD = codes.BAD_REQUEST_FIELD
RELOAD_REFUSED = codes.RELOAD_REFUSED
RELOAD_DISABLED = codes.RELOAD_DISABLED
INTERNAL = codes.INTERNAL
#: A request head over the size limit (431): the engine's "too large" code, as for a body.
HEAD_TOO_LARGE = codes.FILE_TOO_LARGE

#: HTTP status of each engine code family or code (the most specific entry wins).
STATUS_BY_CODE = {
    "E1": 400,          # the input could not be read: JSON syntax, duplicate keys, depth
    codes.FILE_TOO_LARGE: 413,        # too large
    codes.BAD_DATE: 400,        # a date that is not a date
    "E2": 422,          # the case does not have the shape the schema requires
    "E3": 500,          # rulebooks that do not compile: never the caller's fault
    "E4": 422,          # the case cannot be evaluated: facts that do not fit together
    codes.UNKNOWN_RULE: 400,        # ?only= names no rule
    codes.UNKNOWN_PARAMETER: 404,        # no such parameter
    codes.UNKNOWN_CHART: 404,        # no such table
    codes.UNKNOWN_FUNCTION: 404,        # no such function
    codes.UNKNOWN_DEADLINE: 404,        # no such deadline
    codes.UNKNOWN_NOTICE: 404,        # no such notice
    codes.UNKNOWN_CHANGE: 422,
    UNSUPPORTED_MEDIA_TYPE: 415,
    BODY_TIMEOUT: 408,
    SATURATED: 429,
    EVALUATION_TIMEOUT: 503,
    NOT_FOUND: 404,
    METHOD_NOT_ALLOWED: 405,
    BAD_QUERY: 400,
    BAD_REQUEST_FIELD: 422,
    RELOAD_REFUSED: 422,
    RELOAD_DISABLED: 404,
    INTERNAL: 500,
}

TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 408: "Request timeout",
          413: "Request body too large", 415: "Unsupported media type", 422: "Invalid request",
          431: "Request header fields too large",
          429: "Too many requests", 500: "Internal error", 503: "Service unavailable"}


class ServiceError(Exception):
    """An error the service answers with: an HTTP status, problems, and optional headers."""

    def __init__(self, code: str, detail: str, *, status: int | None = None,
                 pointer: str | None = None, parameter: str | None = None,
                 headers: dict | None = None, problems: list | None = None):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status or status_of(code)
        self.pointer = pointer
        self.parameter = parameter
        self.headers = headers or {}
        self.problems = problems


def status_of(code: str) -> int:
    """The HTTP status for an engine or service code."""
    for length in (len(code), 2):
        status = STATUS_BY_CODE.get(code[:length])
        if status is not None:
            return status
    return 422 if code.startswith("E") else 500


def from_policy_error(exc: PolicyError, body=None, source: str | None = None,
                      prefix: str = "", parameter: str | None = None) -> ServiceError:
    """A :class:`ServiceError` for an engine error raised on a request.

    A problem located in the request (``file == source``) gets the JSON pointer of its field in
    ``body`` (under ``prefix``, for a case nested in a larger body); a problem located in a
    rulebook keeps its file, line and field as the engine reports them.
    """
    first = exc.problems[0]
    items = [_item(p, body, source, prefix) for p in exc.problems]
    pointer = items[0].get("pointer")
    return ServiceError(first.code, first.message, status=status_of(first.code), pointer=pointer,
                        parameter=parameter, problems=items)


def response(error: ServiceError, fingerprint: str | None = None,
             instance: str | None = None) -> Response:
    """The ``application/problem+json`` response for an error."""
    headers = dict(error.headers)
    if fingerprint:
        headers["X-Rulebook-Fingerprint"] = fingerprint
    return Response(dumps(document(error, instance)), status_code=error.status,
                    media_type=MEDIA_TYPE, headers=headers)


def document(error: ServiceError, instance: str | None = None) -> dict:
    """The problem object of an error (the body of its response)."""
    body = {"type": TYPE_BASE + error.code, "title": TITLES.get(error.status, "Error"),
            "status": error.status, "code": error.code, "detail": error.detail}
    if instance:
        body["instance"] = instance
    if error.pointer:
        body["pointer"] = error.pointer
    if error.parameter:
        body["parameter"] = error.parameter
    body["errors"] = error.problems or [{"code": error.code, "detail": error.detail,
                                         "pointer": error.pointer}]
    return body


def as_line(error: ServiceError) -> dict:
    """The ``error`` member of a batch output line: the same fields as a problem body."""
    out = {"code": error.code, "status": error.status, "detail": error.detail}
    if error.pointer:
        out["pointer"] = error.pointer
    out["errors"] = error.problems or [{"code": error.code, "detail": error.detail,
                                        "pointer": error.pointer}]
    return out


def _item(problem: Problem, body, source, prefix) -> dict:
    item = {"code": problem.code, "detail": problem.message, "pointer": None}
    if problem.file is not None and problem.file == source:
        if problem.field:
            item["pointer"] = prefix + pointer_of(problem.field, body)
        if problem.line:
            item["line"] = problem.line
    else:
        for key in ("file", "line", "field"):
            value = getattr(problem, key)
            if value is not None:
                item[key] = value
    return item


_TOKEN = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def pointer_of(field: str, body=None) -> str:
    """The JSON pointer of an engine field path: ``people[0].incomes[1].amount`` is
    ``/people/0/incomes/1/amount``. A leading entity-kind name that is not a key of the body (the
    engine names the case itself ``case.x``) is dropped."""
    tokens = [index if index else name for index, name in _TOKEN.findall(field)]
    if len(tokens) > 1 and isinstance(body, dict) and tokens[0] not in body:
        tokens = tokens[1:]
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)
