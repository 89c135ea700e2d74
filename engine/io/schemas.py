"""JSON Schema validation of rulebooks, cases and test files, with file and line in every error.

The schemas in ``schemas/`` are the single description of each file's shape; this module only
loads them (resolving their cross-references with the ``referencing`` registry) and turns
jsonschema's errors into :class:`~engine.errors.Problem` objects an analyst can act on.

Cases arrive by the million in batch runs, so a case is first checked by a validator compiled to
native code (jsonschema_rs), over ten times faster than jsonschema. Only a case it refuses goes
through jsonschema, which words the problems exactly as before; jsonschema stays the authority,
so a case is refused only when jsonschema refuses it too. The two read a few Python values
differently (jsonschema_rs counts ``Decimal("3")`` as an integer, jsonschema does not), so the
compiled validator is only asked about data made of plain JSON values (see
:func:`engine.io.case_data.is_plain`); jsonschema decides the rest. jsonschema itself is
imported only when needed.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from ..errors import Problem, SchemaError, codes
from .case_data import is_plain
from .paths import schemas_dir
from .yaml_loader import line_at_path

if TYPE_CHECKING:                 # imported when needed at run time (start-up time)
    from referencing import Registry

#: Most schema problems reported for one file.
MAX_PROBLEMS = 20

KINDS = {"rulebook": "rulebook.schema.json", "case": "case.schema.json", "test": "test.schema.json"}


#: Kinds first checked by a compiled validator.
COMPILED_KINDS = ("case",)


@lru_cache(maxsize=None)
def _schema_documents() -> dict[str, Any]:
    directory = schemas_dir()
    out: dict[str, Any] = {}
    for kind, filename in KINDS.items():
        with open(directory / filename, encoding="utf-8") as handle:
            out[kind] = json.load(handle)
    return out


def schema_document(kind: str) -> Any:
    """The parsed schema of ``kind`` (``case``, ``rulebook``, ``test``), shared: read it, never
    change it."""
    return _schema_documents()[kind]


#: Formats the compiled validator checks with a Python function, as jsonschema reads them (a
#: call back into Python for each value: none now).
FORMATS: dict[str, Callable[[str], bool]] = {}

#: Formats jsonschema_rs checks itself, each with what :func:`for_compiled` adds to a node that
#: names it so that the compiled validator accepts no value jsonschema refuses. jsonschema_rs's
#: own ``date`` takes year ``0000`` (Python's dates, which jsonschema's checker makes, start in
#: year 1), so a date node also refuses text that starts with ``0000``; with that, the two read
#: every text of the form ``DDDD-DD-DD`` alike (all 4.6 million of years 0000-9999, months 00-13
#: and days 00-32 compared; the Python callback this replaces cost about 1.4 us a case).
NATIVE_FORMATS: dict[str, dict[str, Any]] = {"date": {"not": {"pattern": "^0000"}}}


def for_compiled(node: Any) -> Any:
    """A copy of a schema for jsonschema_rs: every node naming a format of
    :data:`NATIVE_FORMATS` also holds what that format adds (in an ``allOf`` when the node
    already uses one of its keywords)."""
    if isinstance(node, list):
        return [for_compiled(item) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: for_compiled(value) for key, value in node.items()}
    name = copy.get("format")
    extra = NATIVE_FORMATS.get(name) if isinstance(name, str) else None
    if extra:
        if any(key in copy for key in extra):
            return {"allOf": [copy, extra]}
        copy.update(extra)
    return copy


@lru_cache(maxsize=None)
def compiled_validator(kind: str) -> Callable[[Any], bool] | None:
    """``is_valid`` of a validator for ``kind`` compiled by jsonschema_rs (formats checked by
    jsonschema_rs as :data:`NATIVE_FORMATS` says, or with :data:`FORMATS`, never fetching
    anything), or None without jsonschema_rs."""
    try:
        import jsonschema_rs
    except ImportError:          # pragma: no cover - it is a dependency; jsonschema still works
        return None
    return jsonschema_rs.validator_for(for_compiled(_schema_documents()[kind]),
                                       formats=FORMATS or None, validate_formats=True,
                                       offline=True).is_valid


def is_valid_fast(kind: str, data: Any, plain: bool | None = None) -> bool:
    """True when the compiled validator accepts ``data`` (False: ask jsonschema why).

    Only plain JSON values are given to it (dicts with text keys, lists, text, int, bool, None
    and decimals that are not whole numbers, see :func:`engine.io.case_data.is_plain`):
    jsonschema_rs takes ``Decimal("3")`` for an integer where jsonschema does not. Other data is
    refused here, for jsonschema to judge; ``plain`` says the caller has checked already. A value
    jsonschema_rs cannot read at all is refused too."""
    check = compiled_validator(kind)
    if check is None or not (is_plain(data) if plain is None else plain):
        return False
    try:
        return bool(check(data))
    except Exception:            # a value it cannot convert (ValueError): jsonschema judges it
        return False


@lru_cache(maxsize=None)
def _registry_and_schemas() -> tuple[Registry[Any], dict[str, Any]]:
    from referencing import Registry, Resource
    directory = schemas_dir()
    schemas: dict[str, Any] = {}
    resources: list[tuple[str, Resource[Any]]] = []
    for kind, filename in KINDS.items():
        with open(directory / filename, encoding="utf-8") as handle:
            schema = json.load(handle)
        schemas[kind] = schema
        resource = Resource.from_contents(schema)
        resources.append((schema.get("$id", filename), resource))
        resources.append((filename, resource))
    return Registry().with_resources(resources), schemas


@lru_cache(maxsize=None)
def validator(kind: str) -> Any:
    import jsonschema
    registry, schemas = _registry_and_schemas()
    cls = jsonschema.validators.validator_for(schemas[kind])
    schema = schemas[kind]
    if kind in ("case", "rulebook"):
        # Resolve the schema's local $refs once here rather than on every case or rulebook
        # file: the same schema, several times less work per document.
        schema = _inline_local_refs(schema, schema.get("$defs", {}))
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def _inline_local_refs(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    """A copy of a schema with ``{"$ref": "#/$defs/x"}`` replaced by the definition itself."""
    if depth > 20:
        return node
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs and "/" not in ref[8:]:
            target = _inline_local_refs(defs[ref[8:]], defs, depth + 1)
            siblings = {k: _inline_local_refs(v, defs, depth + 1) for k, v in node.items() if k != "$ref"}
            if not siblings:
                return target
            return {"allOf": [target], **siblings}
        return {k: (v if k == "$defs" else _inline_local_refs(v, defs, depth + 1)) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_local_refs(v, defs, depth + 1) for v in node]
    return node


def problems(kind: str, data: Any, file: str | None) -> list[Problem]:
    """Every way ``data`` breaks the ``kind`` schema, most specific first, at most MAX_PROBLEMS."""
    from jsonschema.exceptions import best_match
    found = []
    errors = sorted(validator(kind).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors[:MAX_PROBLEMS]:
        if error.context:
            error = best_match(error.context) or error
        path = list(error.absolute_path)
        if error.validator == "additionalProperties":
            extra = _extra_keys(error)
            if extra:              # point at the unknown key itself, not at its mapping
                path = path + [extra[0]]
        found.append(Problem(codes.SCHEMA, _message(error), file, line_at_path(data, path),
                             _field(path) or None))
    return found


def validate(kind: str, data: Any, file: str | None, plain: bool | None = None) -> None:
    """Raise :class:`SchemaError` with every problem jsonschema finds in ``data``.

    A case is first given to the compiled validator when it is plain JSON (``plain``: whether
    it is, when the caller knows; see :func:`is_valid_fast`); only what that refuses is read by
    jsonschema, which decides and words the problems."""
    if kind in COMPILED_KINDS and is_valid_fast(kind, data, plain):
        return
    found = problems(kind, data, file)
    if found:
        raise SchemaError(problems=found)


def _field(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: Any) -> str:
    validator_name = error.validator
    where = _field(list(error.absolute_path))
    subject = f"'{where}'" if where else "The file"
    if validator_name == "additionalProperties":
        extra = _extra_keys(error)
        allowed = sorted(error.schema.get("properties", {}))
        listing = f" Allowed keys here: {', '.join(allowed)}." if allowed else ""
        what = ", ".join(f"'{k}'" for k in extra) or "a key"
        return f"{what} is not allowed {('in ' + subject) if where else 'at the top level'}.{listing}"
    if validator_name == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{subject} needs the key '{missing}'."
    if validator_name == "enum":
        options = ", ".join(repr(o) for o in error.validator_value)
        return f"{subject} is {error.instance!r}, which is not one of: {options}."
    if validator_name == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{subject} must be of type {expected}, not {_kind(error.instance)}."
    if validator_name == "pattern":
        return f"{subject} is {error.instance!r}, which does not have the required form ({error.validator_value})."
    if validator_name == "propertyNames":
        return f"{subject} has a key that is not allowed: {error.message}."
    if validator_name in ("oneOf", "anyOf"):
        return f"{subject} does not match any of the allowed forms: {error.message}."
    return f"{subject}: {error.message}."


def _extra_keys(error: Any) -> list[Any]:
    props = set(error.schema.get("properties", {}))
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    if isinstance(error.instance, dict):
        return [k for k in error.instance if k not in props and not any(p.search(str(k)) for p in patterns)]
    return []


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    return "a number"
