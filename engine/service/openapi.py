"""The OpenAPI 3.1 document, generated from the endpoint declarations and the case schema.

Request bodies that carry a case use ``schemas/case.schema.json`` itself: its ``$defs`` become
components named ``Case.<def>`` and its references are rewritten to point at them, so the
document and ``policy eval`` accept exactly the same cases. A copy is committed as
``docs/openapi.json`` (``python -m engine.service > docs/openapi.json``); a test fails when
it differs from what this module generates.
"""

from __future__ import annotations

import json

from .. import __version__
from ..io.paths import schemas_dir
from .operations import OPERATIONS, SCHEMAS
from .problems import MEDIA_TYPE

FINGERPRINT_HEADER = {
    "description": "The fingerprint of the rulebooks the response was computed with "
                   "(as `GET /v1/rulebooks` reports it).",
    "schema": {"type": "string"},
}

DESCRIPTION = """Missouri Income Maintenance policy as data, over HTTP.

Each endpoint answers with exactly what the matching `policy` command prints with
`--format json`. Every response carries the `X-Rulebook-Fingerprint` header, naming the rulebook
set it was computed with. Errors are RFC 9457 `application/problem+json` objects with the
engine's `code`, a `detail` sentence and the JSON `pointer` of the request field at fault."""


def case_schemas() -> dict:
    """``schemas/case.schema.json`` as OpenAPI components: ``Case`` and one per ``$defs`` entry."""
    with open(schemas_dir() / "case.schema.json", encoding="utf-8") as handle:
        schema = json.load(handle)
    definitions = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    out = {"Case": _rewrite(schema)}
    for name, definition in definitions.items():
        out[f"Case.{name}"] = _rewrite(definition)
    return out


def _rewrite(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = "#/components/schemas/Case." + value[len("#/$defs/"):]
            else:
                out[key] = _rewrite(value)
        return out
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def document() -> dict:
    """The whole OpenAPI document."""
    paths: dict = {}
    for op in OPERATIONS:
        item = {"operationId": op.id, "summary": op.summary, "description": op.description,
                "tags": [op.tag]}
        if op.parameters:
            item["parameters"] = [_parameter(p) for p in op.parameters]
        if op.body is not None:
            item["requestBody"] = {"required": True, "content": {
                media: {"schema": schema} for media, schema in op.body.items()}}
        responses = {}
        for status, (text, media, schema) in sorted(op.responses.items()):
            answer: dict = {"description": text,
                            "headers": {"X-Rulebook-Fingerprint": {"$ref": "#/components/headers/Fingerprint"}}}
            if status >= 400:
                answer["content"] = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
            elif media is not None:
                answer["content"] = {media: {"schema": schema}}
            responses[str(status)] = answer
        item["responses"] = responses
        paths.setdefault(op.path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "Missouri Income Maintenance policy engine", "version": __version__,
                 "description": DESCRIPTION},
        "paths": paths,
        "components": {"schemas": {**case_schemas(), **SCHEMAS},
                       "headers": {"Fingerprint": FINGERPRINT_HEADER}},
    }


def _parameter(p) -> dict:
    out = {"name": p.name, "in": p.where, "required": p.required, "description": p.description,
           "schema": p.schema}
    if p.schema.get("type") == "array":
        out.update(style="form", explode=True)
    return out


def dumps(doc: dict) -> str:
    """The document as committed in docs/: sorted keys, two-space indent, final newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

