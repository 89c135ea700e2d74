"""The OpenAPI document: generated from the code, reusing the case schema, committed in docs/."""

from __future__ import annotations

import json

import jsonschema

from engine.service import openapi
from engine.service.operations import OPERATIONS

from .conftest import ROOT

COMMITTED = ROOT / "docs" / "openapi.json"


def test_committed_copy_is_what_the_code_generates():
    generated = openapi.dumps(openapi.document())
    assert COMMITTED.read_text(encoding="utf-8") == generated, (
        "docs/openapi.json is out of date; regenerate it with "
        "`python -m engine.service > docs/openapi.json`.")


def test_served_document_is_the_generated_one(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi.document()
    assert response.json()["openapi"].startswith("3.1")


def test_case_bodies_use_the_case_schema_itself():
    case_schema = json.loads((ROOT / "schemas" / "case.schema.json").read_text())
    components = openapi.document()["components"]["schemas"]
    assert components["Case"]["properties"].keys() == case_schema["properties"].keys()
    assert components["Case"]["required"] == case_schema["required"]
    assert set(case_schema["$defs"]) == {k[len("Case."):] for k in components if k.startswith("Case.")}
    body = openapi.document()["paths"]["/v1/evaluate"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/Case"}


def test_every_reference_resolves_and_every_route_is_documented():
    doc = openapi.document()
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        node = doc
        for key in ref.lstrip("#/").split("/"):
            node = node[key]
    documented = {(method.upper(), path) for path, item in doc["paths"].items() for method in item}
    assert documented == {(op.method, op.path) for op in OPERATIONS}


def test_components_are_valid_json_schema_and_accept_the_jones_case():
    import yaml
    doc = openapi.document()
    case = json.loads(json.dumps(yaml.safe_load((ROOT / "examples" / "jones.yaml").read_text()),
                                 default=str))
    schema = {"$ref": "#/components/schemas/Case", "components": doc["components"]}
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(case)
