"""The endpoints, each declared once: its path, parameters, body, answers and handler.

The declarations serve both the router (:mod:`.app`) and the OpenAPI document (:mod:`.openapi`),
so the document cannot describe a parameter the code does not read. Every answer is produced by
the same function as the matching ``policy`` command's ``--format json`` output: evaluating a
case answers with :func:`engine.tools.documents.eval_document`, a parameter with
:func:`engine.cli.param_cmd.param_document`, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import jsonschema
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from ..tools.documents import eval_document, notice_document, param_document, table_document
from ..actions.deadlines import explain as explain_deadline
from ..errors import InputError, PolicyError, codes
from ..actions.mass_change import compare_all
from ..actions.notices import render_notices
from . import problems
from .encoding import dumps
from .requests import SOURCE, first_chunk, lines, parse_case, parse_json, read_body

CASE = {"$ref": "#/components/schemas/Case"}
DATE = {"type": "string", "format": "date", "description": "A date written YYYY-MM-DD."}


@dataclass(frozen=True)
class Parameter:
    """A query or path parameter: its name, JSON schema and meaning."""

    name: str
    schema: dict
    description: str
    where: str = "query"
    required: bool = False


@dataclass(frozen=True)
class Operation:
    """One endpoint."""

    id: str
    method: str
    path: str
    summary: str
    description: str
    handler: Callable
    tag: str
    parameters: tuple[Parameter, ...] = ()
    #: media type -> schema of the request body (None: no body)
    body: dict | None = None
    #: status -> (description, media type, schema)
    responses: dict = field(default_factory=dict)


AS_OF = Parameter("as_of", DATE, "Apply the policy in force on this date (default: the case's "
                  "own `as_of`, else today), as `policy eval --as-of`.")
ONLY = Parameter("only", {"type": "array", "items": {"type": "string", "minLength": 1}},
                 "Compute only these results (repeatable: `?only=a&only=b`), much faster than "
                 "every output, as `policy batch --only`.")
EXPLAIN = Parameter("explain", {"type": "boolean", "default": False},
                    "Add each result's trace: every rule, fact and parameter value it used.")
CITATIONS = Parameter("citations", {"type": "boolean", "default": True},
                      "`false` leaves out each result's `citations` (a leaner answer for callers "
                      "that do not show them).")
PROVENANCE = Parameter("provenance", {"type": "boolean", "default": False},
                       "Add each result's `provenance`: every citation behind everything its "
                       "evaluation read (the read-set), as `policy eval --provenance`; always "
                       "there with `explain`.")


# -- handlers ------------------------------------------------------------------------------------

def _evaluate(rulebooks, data, as_of, only, explain, citations, provenance=False,
              max_steps=None) -> bytes:
    """Runs on an evaluation thread: the JSON bytes of one evaluation, or a ServiceError."""
    try:
        evaluation = rulebooks.engine.evaluate(data, as_of=as_of, names=only, source=SOURCE,
                                               max_steps=max_steps)
    except PolicyError as exc:
        parameter = "only" if exc.problem.code == codes.UNKNOWN_RULE else None
        raise problems.from_policy_error(exc, data, SOURCE, parameter=parameter) from None
    document = eval_document(evaluation, explain, provenance, citations)
    return dumps(document)


def _json(data, rulebooks, status: int = 200) -> Response:
    return Response(dumps(data), status_code=status,
                    media_type="application/json",
                    headers={"X-Rulebook-Fingerprint": rulebooks.fingerprint})


async def evaluate(service, rulebooks, request, args) -> Response:
    config, admission = service.config, service.admission
    body = await read_body(request, config.max_body_bytes, config.body_timeout)
    data = _parse(body, request)
    work = (rulebooks, data, args["as_of"], args["only"], args["explain"], args["citations"],
            args["provenance"])
    try:
        payload = admission.try_inline(_evaluate, work, config.max_steps, len(body))
        if payload is None:
            payload = await admission.run(_evaluate, *work, config.max_steps)
    except problems.ServiceError:
        service.metrics.evaluated("error")
        raise
    service.metrics.evaluated("ok")
    return Response(payload, media_type="application/json",
                    headers={"X-Rulebook-Fingerprint": rulebooks.fingerprint})


async def evaluate_batch(service, rulebooks, request, args) -> Response:
    config = service.config
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > config.max_batch_bytes:
        await read_body(request, config.max_batch_bytes, config.body_timeout)   # answers 413

    unknown = sorted(set(args["only"] or ()) - set(rulebooks.engine.program.rules))
    if unknown:     # refused before the answer starts, not once per line
        raise problems.ServiceError(codes.UNKNOWN_RULE, f"There is no rule named {', '.join(unknown)}.",
                                    status=400, parameter="only")
    chunks = await first_chunk(request, config.body_timeout)
    if chunks is None:
        raise InputError("The batch is empty: send one case (a JSON object) per line.",
                         code=codes.UNREADABLE_YAML, file=SOURCE)

    async def stream():
        async for number, item in lines(chunks, config.max_body_bytes, config.max_batch_bytes,
                                        config.body_timeout):
            out: dict[str, Any] = {"line": number}
            data = None
            if isinstance(item, problems.ServiceError):
                out["error"] = problems.as_line(item)
            else:
                try:
                    data = parse_json(item)
                    payload = await service.admission.run(
                        _evaluate, rulebooks, data, args["as_of"], args["only"], args["explain"],
                        args["citations"], args["provenance"], config.max_steps, wait=True)
                    service.metrics.evaluated("ok")
                    yield b'{"line": %d, ' % number + payload[1:] + b"\n"
                    continue
                except PolicyError as exc:
                    error = problems.from_policy_error(exc, None, SOURCE)
                except problems.ServiceError as exc:
                    error = exc
                service.metrics.evaluated("error")
                if isinstance(data, dict) and data.get("case_id") is not None:
                    out["case_id"] = data["case_id"]
                out["error"] = problems.as_line(error)
            yield dumps(out) + b"\n"

    return LinesResponse(stream(), media_type="application/x-ndjson",
                         headers={"X-Rulebook-Fingerprint": rulebooks.fingerprint})


class LinesResponse(Response):
    """A response streamed from an async iterator of byte lines, written while the request body
    is still being read.

    Starlette's ``StreamingResponse`` may listen for the client's disconnect by reading the
    request's messages itself, which would take the body away from the batch reader; here a
    disconnected client shows as :class:`ClientDisconnect` from the body reader instead.
    """

    def __init__(self, lines, media_type: str, headers: dict):
        super().__init__(None, media_type=media_type, headers=headers)
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.lines = lines

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        try:
            async for chunk in self.lines:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except (ClientDisconnect, OSError):
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def parameter(service, rulebooks, request, args) -> Response:
    value = rulebooks.engine.parameter(args["name"], args["as_of"])
    return _json(param_document(value), rulebooks)


async def table(service, rulebooks, request, args) -> Response:
    chart = await service.admission.run(rulebooks.engine.table, args["name"], args["as_of"])
    return _json(table_document(chart), rulebooks)


async def dates(service, rulebooks, request, args) -> Response:
    data = await _body_object(service, request, DATES_REQUEST)
    result = explain_deadline(rulebooks.engine, data["deadline"], data["start"],
                              roll=data.get("roll"), extended=data.get("extended", False))
    return _json(result.as_dict(), rulebooks)


async def notices(service, rulebooks, request, args) -> Response:
    body = await read_body(request, service.config.max_body_bytes, service.config.body_timeout)
    data = _parse(body, request)
    case = _read_case(rulebooks, data, "")

    def work():
        return notice_document(*render_notices(rulebooks.engine, case, args["as_of"],
                                               names=args["name"] or None))
    return _json(await service.admission.run(work), rulebooks)


async def change(service, rulebooks, request, args) -> Response:
    data = await _body_object(service, request, CHANGE_REQUEST)
    case = _read_case(rulebooks, data["case"], "/case")
    after_case = (_read_case(rulebooks, data["after_case"], "/after_case")
                  if data.get("after_case") is not None else None)

    def work():
        name = data.get("name")
        return compare_all(rulebooks.engine, case, data["before"], data["after"],
                           names=[name] if name else None, after_case=after_case,
                           notice_date=data.get("notice_date")).as_dict()
    return _json(await service.admission.run(work), rulebooks)


async def rulebook_set(service, rulebooks, request, args) -> Response:
    return _json(rulebooks.describe(), rulebooks)


async def healthz(service, rulebooks, request, args) -> Response:
    return _json({"status": "ok", "fingerprint": rulebooks.fingerprint}, rulebooks)


async def readyz(service, rulebooks, request, args) -> Response:
    if service.admission.saturated:
        raise problems.ServiceError(problems.SATURATED, "The worker's queue is full; it takes "
                                    "no more evaluations for now.", status=503,
                                    headers={"Retry-After": "1"})
    return _json({"status": "ready", "fingerprint": rulebooks.fingerprint,
                  "running": service.admission.running, "waiting": service.admission.waiting},
                 rulebooks)


async def metrics(service, rulebooks, request, args) -> Response:
    text = service.metrics.render(rulebooks.fingerprint, service.admission.running,
                                  service.admission.waiting)
    return Response(text, media_type="text/plain; version=0.0.4",
                    headers={"X-Rulebook-Fingerprint": rulebooks.fingerprint})


async def openapi(service, rulebooks, request, args) -> Response:
    return Response(service.openapi_bytes, media_type="application/json",
                    headers={"X-Rulebook-Fingerprint": rulebooks.fingerprint})


async def reload(service, rulebooks, request, args) -> Response:
    if not service.config.admin_reload:
        raise problems.ServiceError(problems.RELOAD_DISABLED, "Reloading through the API is not "
                                    "enabled; start the service with --admin-reload, or send "
                                    "it SIGHUP.")
    if service.config.workers > 1:
        raise problems.ServiceError(problems.RELOAD_DISABLED, "With several workers this "
                                    "endpoint would reload only one of them; send SIGHUP to the "
                                    "service's main process instead.", status=409)
    fresh = await service.reload()
    return _json(fresh.describe(), fresh)


# -- helpers -------------------------------------------------------------------------------------

def _parse(body: bytes, request):
    try:
        return parse_case(body, request.headers.get("content-type"))
    except InputError as exc:
        raise problems.from_policy_error(exc, None, SOURCE) from None


def _read_case(rulebooks, data, prefix: str):
    try:
        return rulebooks.engine.read_case(data, SOURCE)
    except PolicyError as exc:
        raise problems.from_policy_error(exc, data, SOURCE, prefix=prefix) from None


async def _body_object(service, request, schema: dict) -> dict:
    """A JSON body validated by the endpoint's request schema (cases only as objects here: the
    engine validates them, with its own messages)."""
    body = await read_body(request, service.config.max_body_bytes, service.config.body_timeout)
    media_type = (request.headers.get("content-type") or "application/json").split(";")[0].strip()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise problems.ServiceError(problems.UNSUPPORTED_MEDIA_TYPE, f"The body is {media_type}; "
                                    "send application/json.")
    try:
        data = parse_json(body)
    except InputError as exc:
        raise problems.from_policy_error(exc, None, SOURCE) from None
    validator = jsonschema.Draft202012Validator(_for_validation(schema),
                                                format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        items = [{"code": problems.BAD_REQUEST_FIELD, "detail": e.message,
                  "pointer": "".join(f"/{p}" for p in e.absolute_path)} for e in errors[:20]]
        raise problems.ServiceError(problems.BAD_REQUEST_FIELD, items[0]["detail"],
                                    pointer=items[0]["pointer"], problems=items)
    return data


def _for_validation(schema):
    """A request schema with each case reference read as "an object" (the engine checks it)."""
    if isinstance(schema, dict) and schema.get("$ref") == CASE["$ref"]:
        return {"type": "object"}
    if isinstance(schema, dict):
        return {k: _for_validation(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_for_validation(v) for v in schema]
    return schema


# -- schemas of bodies and answers ---------------------------------------------------------------

DATES_REQUEST = {
    "type": "object", "additionalProperties": False, "required": ["start", "deadline"],
    "properties": {
        "start": {**DATE, "description": "The date the period counts from."},
        "deadline": {"type": "string", "minLength": 1,
                     "description": "The deadline, e.g. `im31a` or `deadlines.im31a`."},
        "extended": {"type": "boolean", "default": False,
                     "description": "Count the deadline with its extension."},
        "roll": {"enum": ["next_business_day", "previous_business_day", "none", None],
                 "description": "Override where a last day that is not a business day moves."},
    },
}

CHANGE_REQUEST = {
    "type": "object", "additionalProperties": False, "required": ["case", "before", "after"],
    "properties": {
        "case": {**CASE, "description": "The case before the change."},
        "after_case": {"anyOf": [CASE, {"type": "null"}],
                       "description": "The case after the change (e.g. incomes with a COLA); "
                                      "default: `case`."},
        "before": {**DATE, "description": "A date before the change."},
        "after": {**DATE, "description": "A date after the change takes effect."},
        "notice_date": {"anyOf": [DATE, {"type": "null"}],
                        "description": "The date the notices are sent, to compute due dates."},
        "name": {"anyOf": [{"type": "string", "minLength": 1}, {"type": "null"}],
                 "description": "The change comparison to run, when the rulebooks declare several."},
    },
}

ANY_OBJECT = {"type": "object"}
CITATION = {"$ref": "#/components/schemas/Citation"}

#: Schemas of answers, under components/schemas; open to added fields (the contract allows them).
SCHEMAS = {
    "Citation": {"type": "object", "required": ["source"],
                 "properties": {"source": {"type": "string"}, "section": {"type": ["string", "null"]},
                                "url": {"type": ["string", "null"]},
                                "memo": {"type": "string"}, "note": {"type": "string"},
                                "formerly": {"type": "object",
                                             "description": "For a section of a manual archived "
                                                            "by the result's date: the archived "
                                                            "citation the successor replaces.",
                                             "required": ["source"],
                                             "properties": {
                                                 "source": {"type": "string"},
                                                 "section": {"type": ["string", "null"]},
                                                 "url": {"type": ["string", "null"]}}}}},
    "Result": {"type": "object", "required": ["name", "person", "value"],
               "properties": {"name": {"type": "string"},
                              "person": {"type": ["string", "null"]},
                              "value": {},
                              "citations": {"type": "array", "items": CITATION},
                              "because": {"type": ["string", "null"]},
                              "provenance": {"type": "array", "items": CITATION,
                                             "description": "With `provenance` or `explain`: "
                                                            "every citation behind what the "
                                                            "evaluation read."},
                              "trace": {"type": "array", "items": ANY_OBJECT}}},
    "Evaluation": {"type": "object", "required": ["case_id", "as_of", "results"],
                   "description": "Exactly what `policy eval --format json` prints for the case.",
                   "properties": {"case_id": {"type": ["string", "null"]},
                                  "as_of": DATE,
                                  "results": {"type": "array",
                                              "items": {"$ref": "#/components/schemas/Result"}}}},
    "BatchLine": {"type": "object", "required": ["line"],
                  "description": "One line of a batch answer: the line number of the case and "
                                 "either its evaluation (as `Evaluation`) or an `error`.",
                  "properties": {"line": {"type": "integer"}, "error": ANY_OBJECT}},
    "ParameterValue": {"type": "object",
                       "required": ["name", "value", "effective_from", "effective_to", "citations"],
                       "description": "Exactly what `policy param --format json` prints.",
                       "properties": {"name": {"type": "string"}, "value": {},
                                      "effective_from": DATE,
                                      "effective_to": {"anyOf": [DATE, {"type": "null"}]},
                                      "unit": {"type": ["string", "null"]},
                                      "citations": {"type": "array", "items": CITATION}}},
    "Table": {"type": "object", "required": ["table", "as_of", "rows"],
              "description": "Exactly what `policy table --format json` prints.",
              "properties": {"table": {"type": "string"}, "as_of": DATE,
                             "rows": {"type": "array", "items": ANY_OBJECT}}},
    "DueDate": {"type": "object", "description": "Exactly what `policy dates --format json` prints."},
    "Notices": {"type": "object", "required": ["case_id", "as_of", "notices"],
                "description": "Exactly what `policy notice --format json` prints.",
                "properties": {"case_id": {"type": ["string", "null"]}, "as_of": DATE,
                               "notices": {"type": "array", "items": ANY_OBJECT}}},
    "Change": {"type": "object", "description": "Exactly what `policy change --format json` prints."},
    "Rulebooks": {"type": "object", "required": ["engine_version", "fingerprint", "rulebooks",
                                                 "effective_dates"],
                  "properties": {"engine_version": {"type": "string"},
                                 "fingerprint": {"type": "string"},
                                 "loaded_at": {"type": "string"},
                                 "rulebooks": {"type": "array", "items": ANY_OBJECT},
                                 "effective_dates": ANY_OBJECT}},
    "Health": {"type": "object", "required": ["status", "fingerprint"],
               "properties": {"status": {"type": "string"}, "fingerprint": {"type": "string"}}},
    "DatesRequest": DATES_REQUEST,
    "ChangeRequest": CHANGE_REQUEST,
    "Problem": {"type": "object", "required": ["type", "title", "status", "code", "detail"],
                "description": "An RFC 9457 problem with the engine's code and the JSON pointer "
                               "of the request field at fault.",
                "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                               "status": {"type": "integer"}, "code": {"type": "string"},
                               "detail": {"type": "string"}, "instance": {"type": "string"},
                               "pointer": {"type": "string"}, "parameter": {"type": "string"},
                               "errors": {"type": "array", "items": ANY_OBJECT}}},
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


JSON = "application/json"
CASE_BODY = {JSON: CASE, "application/yaml": CASE}
BAD_INPUT = {400: ("The body or a query parameter cannot be read.", None, None),
             413: ("The body is larger than the limit.", None, None),
             415: ("The body's media type is not one the endpoint reads.", None, None),
             422: ("The case is not valid or cannot be evaluated.", None, None),
             429: ("Too many evaluations are waiting; retry after Retry-After seconds.", None, None),
             503: ("The evaluation did not finish in time.", None, None)}

OPERATIONS = (
    Operation("evaluate", "POST", "/v1/evaluate", "Evaluate a case",
              "Every result for the case as of a date, each with its value, citations and reason: "
              "exactly what `policy eval --format json` prints.",
              evaluate, "evaluation", (AS_OF, ONLY, EXPLAIN, CITATIONS, PROVENANCE), CASE_BODY,
              {200: ("The evaluation.", JSON, _ref("Evaluation")), **BAD_INPUT}),
    Operation("evaluate_batch", "POST", "/v1/evaluate/batch", "Evaluate many cases (JSONL)",
              "One case (a JSON object) per line in, one line per case out, in order, streaming "
              "both ways. A line that cannot be evaluated gets an `error` line and the batch goes "
              "on.", evaluate_batch, "evaluation", (AS_OF, ONLY, EXPLAIN, CITATIONS, PROVENANCE),
              {"application/x-ndjson": {"type": "array", "items": CASE,
                                        "description": "JSON Lines: each case on a line of its "
                                                       "own (not a JSON array)."}},
              {200: ("One JSON line per input line.", "application/x-ndjson", _ref("BatchLine")),
               400: BAD_INPUT[400], 413: BAD_INPUT[413]}),
    Operation("parameter", "GET", "/v1/parameters/{name}", "A parameter's value on a date",
              "Exactly what `policy param NAME --format json` prints.", parameter, "policy",
              (Parameter("name", {"type": "string"}, "Qualified name, e.g. fpl.first_person.",
                         "path", True), AS_OF),
              None, {200: ("The value in force.", JSON, _ref("ParameterValue")),
                     400: BAD_INPUT[400], 404: ("There is no such parameter.", None, None),
                     422: ("The parameter has no value on that date.", None, None)}),
    Operation("table", "GET", "/v1/tables/{name}", "A chart derived as of a date",
              "Exactly what `policy table NAME --format json` prints.", table, "policy",
              (Parameter("name", {"type": "string"}, "Table name, e.g. income-limits.", "path",
                         True), AS_OF),
              None, {200: ("The chart.", JSON, _ref("Table")), 400: BAD_INPUT[400],
                     404: ("There is no such table.", None, None),
                     422: ("The chart cannot be derived on that date.", None, None),
                     429: BAD_INPUT[429], 503: BAD_INPUT[503]}),
    Operation("dates", "POST", "/v1/dates", "Count a deadline",
              "A deadline's due date, how it was counted and its citations: exactly what "
              "`policy dates START DEADLINE --format json` prints.", dates, "actions", (),
              {JSON: _ref("DatesRequest")},
              {200: ("The due date.", JSON, _ref("DueDate")), 400: BAD_INPUT[400],
               404: ("There is no such deadline.", None, None), 413: BAD_INPUT[413],
               415: BAD_INPUT[415], 422: BAD_INPUT[422]}),
    Operation("notices", "POST", "/v1/notices", "The notices a case calls for",
              "Every notice with recipient, due date, citations and text: exactly what "
              "`policy notice CASE --format json` prints.", notices, "actions",
              (AS_OF, Parameter("name", {"type": "array", "items": {"type": "string", "minLength": 1}},
                                "Only these notices (repeatable).")),
              CASE_BODY, {200: ("The notices.", JSON, _ref("Notices")), **BAD_INPUT,
                          404: ("There is no such notice.", None, None)}),
    Operation("change", "POST", "/v1/change", "Classify a mass change",
              "Each person's outcome before and after a mass change (a COLA, an FPL update), "
              "with notices and due dates: exactly what `policy change --format json` prints.",
              change, "actions", (), {JSON: _ref("ChangeRequest")},
              {200: ("The comparison.", JSON, _ref("Change")), **BAD_INPUT,
               404: ("There is no such change comparison.", None, None)}),
    Operation("rulebooks", "GET", "/v1/rulebooks", "The rulebooks being served",
              "Engine version, the rulebooks' content fingerprint, each file's version and "
              "digest, and the dates on which parameters change.", rulebook_set, "service", (),
              None, {200: ("The rulebook set.", JSON, _ref("Rulebooks"))}),
    Operation("reload", "POST", "/v1/admin/reload", "Reload the rulebooks (off by default)",
              "Check and load the rulebooks again and swap them in atomically; a set that fails "
              "`policy check` is refused and the old one keeps serving. Enabled with "
              "`--admin-reload`.", reload, "service", (), None,
              {200: ("The new rulebook set.", JSON, _ref("Rulebooks")),
               404: ("Reloading through the API is not enabled.", None, None),
               409: ("Several workers: send SIGHUP instead.", None, None),
               422: ("The rulebooks were refused; the old set keeps serving.", None, None)}),
    Operation("healthz", "GET", "/healthz", "Liveness",
              "200 once the rulebooks are loaded and the worker answers.", healthz, "service", (),
              None, {200: ("Alive.", JSON, _ref("Health"))}),
    Operation("readyz", "GET", "/readyz", "Readiness",
              "200 when the worker takes evaluations; 503 while its queue is full.", readyz,
              "service", (), None,
              {200: ("Ready.", JSON, _ref("Health")), 503: ("Saturated.", None, None)}),
    Operation("metrics", "GET", "/metrics", "Metrics (Prometheus text format)",
              "Requests, latency, evaluations, queue and the rulebook fingerprint.", metrics,
              "service", (), None, {200: ("Metrics.", "text/plain", {"type": "string"})}),
    Operation("openapi", "GET", "/openapi.json", "This document", "The OpenAPI 3.1 document of "
              "the service, generated from its code.", openapi, "service", (), None,
              {200: ("The OpenAPI document.", JSON, {"type": "object"})}),
)
