"""What building an entity of one kind needs to know, worked out once per kind, not per case.

Building a case's entities (:func:`engine.model.entities.build_case`) converts every fact the
case gives with :meth:`FactSpec.coerce <engine.model.entities.FactSpec.coerce>`, fills in the
defaults of the facts it leaves out and checks the ids its reference facts hold. Batch runs do
that millions of times, for the same few kinds of entity, and nearly every value is already of
its fact's type (the case schema has checked most of them). So for each kind this module
prepares, once:

* the facts whose value is kept as it is when it has exactly the expected Python type (text and
  true/false facts with no allowed values or bounds): one dictionary look-up and one comparison;
* for the other facts, a conversion that handles the common value directly and hands anything
  else to ``FactSpec.coerce``, so that every value it returns is the one ``coerce`` would
  return, and every error is ``coerce``'s own error with its own words;
* the value of each fact given as null (``coerce`` returns its default, or None);
* the defaults of the facts a case may leave out, in declaration order;
* its reference facts, and whether any fact declares constraints on other entities.

Nothing here changes what a case means: a value off the common path takes the general path.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable

from ..io.values import MAX_WHOLE_DIGITS, NotANumber, check_magnitude
from ..language.numbers import to_decimal

#: Whole numbers below this (in absolute value) pass ``check_magnitude``.
_WHOLE_LIMIT = 10 ** MAX_WHOLE_DIGITS

#: Returned by a converter for a value it leaves to ``FactSpec.coerce``.
_GENERAL = object()


def _whole(raw: Any) -> Any:
    if raw.__class__ is int and -_WHOLE_LIMIT < raw < _WHOLE_LIMIT:
        return raw
    return _GENERAL


def _date(raw: Any) -> Any:
    if raw.__class__ is str:
        try:      # what parse_date returns for text without surrounding spaces
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    return _GENERAL


def _number(raw: Any) -> Any:
    if raw.__class__ is str or raw.__class__ is Decimal:
        try:
            value = to_decimal(raw)
            check_magnitude(value)
        except NotANumber:
            return _GENERAL
        return value
    return _GENERAL


def _list(raw: Any) -> Any:
    return list(raw) if isinstance(raw, list) else _GENERAL


def _text(raw: Any) -> Any:
    return raw if raw.__class__ is str else _GENERAL


def _boolean(raw: Any) -> Any:
    return raw if raw.__class__ is bool else _GENERAL


#: The common-path converter of each fact type.
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _text, "boolean": _boolean, "integer": _whole, "date": _date, "list": _list,
    "decimal": _number, "money": _number, "percent": _number,
}


def converter(spec: Any) -> Callable[[Any], Any]:
    """A function equal to ``spec.coerce`` (same values, same errors), quicker on common values."""
    general = spec.coerce
    convert = _CONVERTERS.get(spec.type)
    if convert is None:
        return general
    enum, low, high = spec.enum, spec.minimum, spec.maximum
    if enum is None and low is None and high is None:
        def coerce(raw: Any) -> Any:
            value = convert(raw)
            return general(raw) if value is _GENERAL else value
        return coerce

    def coerce_bounded(raw: Any) -> Any:
        value = convert(raw)
        if (value is _GENERAL or (enum is not None and value not in enum)
                or (low is not None and value < low) or (high is not None and value > high)):
            return general(raw)        # which words the error, or converts the rare value
        return value
    return coerce_bounded


class KindReader:
    """The tables :func:`engine.model.entities.build_case` reads an entity of one kind with."""

    __slots__ = ("kept", "nulls", "convert", "defaults", "list_defaults", "references",
                 "constrained")

    def __init__(self, kind: Any) -> None:
        children = kind.children
        facts = {name: spec for name, spec in kind.facts.items() if name not in children}
        #: fact -> the exact type a value is kept as it is with (text, true/false)
        self.kept: dict[str, type] = {}
        #: fact -> what a null value becomes (facts that are not required or have a default)
        self.nulls: dict[str, Any] = {}
        #: fact -> a conversion equal to its FactSpec.coerce
        self.convert: dict[str, Callable[[Any], Any]] = {}
        for name, spec in facts.items():
            plain = spec.enum is None and spec.minimum is None and spec.maximum is None
            if plain and spec.type in ("text", "boolean"):
                self.kept[name] = str if spec.type == "text" else bool
            if not spec.required or spec.has_default:
                self.nulls[name] = spec.default if spec.has_default else None
            self.convert[name] = converter(spec)
        #: fact -> default of the facts a case may leave out (None when optional), in order
        self.defaults: dict[str, Any] = {name: spec.default for name, spec in kind.defaults}
        #: the facts among them whose default is a list (each entity gets its own copy)
        self.list_defaults = tuple(name for name, default in self.defaults.items()
                                   if isinstance(default, list))
        #: (fact, spec) of the facts that hold ids of other entities
        self.references = tuple((name, spec) for name, spec in kind.facts.items()
                                if spec.references is not None)
        #: whether a fact of this kind declares constraints (engine.model.case_constraints)
        self.constrained = any(spec.constraints for spec in kind.facts.values())
