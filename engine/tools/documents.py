"""The JSON documents the commands print, as data: one function per command.

``policy eval``, ``policy notice``, ``policy param`` and ``policy table`` print these with
``--format json``, and ``policy serve`` answers its endpoints with the same functions, so the HTTP
responses and the commands' output cannot drift apart.
"""

from __future__ import annotations

from ..runtime.results import json_value


def eval_document(evaluation, explain: bool = False, provenance: bool = False,
                  citations: bool = True) -> dict:
    """What ``policy eval --format json`` prints (``POST /v1/evaluate``): every result with its
    deciding citations; with ``provenance`` (always with ``explain``) also the full read-set.
    ``citations=False`` (``?citations=false``) leaves each result's ``citations`` out."""
    return evaluation.as_dict(explain=explain, provenance=provenance, citations=citations)


def notice_document(case, on, notices) -> dict:
    """What ``policy notice --format json`` prints for ``render_notices``' answer
    (``POST /v1/notices``)."""
    return {"case_id": case.case_id, "as_of": on.isoformat(),
            "notices": [n.as_dict() for n in notices]}


def param_document(value) -> dict:
    """What ``policy param --format json`` prints for a parameter value in force on a date
    (``engine.parameter(name, as_of)``; ``GET /v1/parameters/{name}``)."""
    return {"name": value.name, "value": parameter_value(value), **value.as_dict(),
            "unit": value.parameter.unit,
            "citations": [c.as_dict() for c in value.citations]}


def parameter_value(value):
    """A parameter's value as JSON data: a number or text, a table as a mapping, bands as a list."""
    kind = value.parameter.kind
    if kind == "bands":
        return [{"from": json_value(b.lower), "from_inclusive": b.lower_inclusive,
                 "to": json_value(b.upper), "to_inclusive": b.upper_inclusive,
                 "value": json_value(b.value)} for b in value.value]
    if kind == "table":
        out = {str(k): json_value(v) for k, v in value.value.items()}
        if value.entry.each_additional is not None:
            out["each_additional"] = json_value(value.entry.each_additional)
        return out
    return json_value(value.read())


def table_document(chart) -> dict:
    """What ``policy table --format json`` prints for a chart as of a date
    (``engine.chart(name, as_of)``; ``GET /v1/tables/{name}``)."""
    rows = [{**{k: json_value(v) for k, v in row.values.items()},
             "citations": [c.as_dict() for c in row.citations]} for row in chart.rows]
    return {"table": chart.name, "as_of": chart.as_of.isoformat(), "rows": rows}
