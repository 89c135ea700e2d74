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
* its reference facts (with their target and properties in one tuple, and, when they all
  default to None or [], the values of an entity that names no one, whose relations need no
  check), and whether any fact declares constraints on other entities;
* the facts the case schema already guarantees (:mod:`engine.model.schema_guarantees`): in a
  validated case their values are copied in one step, and only the others are looked at;
  which keys those are for one set of keys is worked out once (:meth:`KindReader.shape`).

Nothing here changes what a case means: a value off the common path takes the general path.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from operator import itemgetter
from typing import Any, Callable

from ..io.values import MAX_FRACTION_DIGITS, MAX_WHOLE_DIGITS, NotANumber, check_magnitude
from ..language.numbers import to_decimal
from .schema_guarantees import facts_kept_by_schema

#: Whole numbers below this (in absolute value) pass ``check_magnitude``.
_WHOLE_LIMIT = 10 ** MAX_WHOLE_DIGITS

#: The longest decimal text :func:`_number` reads without ``to_decimal`` (its digits are then
#: within ``check_magnitude``'s bounds).
_SHORT_NUMBER = min(MAX_WHOLE_DIGITS, MAX_FRACTION_DIGITS)

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
    if raw.__class__ is str and len(raw) <= _SHORT_NUMBER and raw.isascii():
        # "6775", "-12.5": ASCII digits, one point between digits, an optional minus. Decimal
        # reads such text exactly as to_decimal does (nothing to strip), and with at most 15
        # characters it has at most 15 whole digits and 28 decimals, within check_magnitude.
        whole, point, fraction = raw.partition(".")
        if whole[:1] == "-":
            whole = whole[1:]
        if whole.isdigit() and (fraction.isdigit() if point else True):
            return Decimal(raw)
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


def kept_as_given(spec: Any) -> tuple[type | None, Any]:
    """(type, allowed) such that a value of exactly that type, in ``allowed`` if not None, is
    what ``spec.coerce`` returns unchanged; (None, None) for a fact with no such values."""
    enum, low, high = spec.enum, spec.minimum, spec.maximum
    if spec.type == "boolean" and enum is None and low is None and high is None:
        return bool, None
    if spec.type == "text" and low is None and high is None:
        if enum is None:
            return str, None
        if all(type(item) is str for item in enum):
            return str, frozenset(enum)
    if spec.type == "integer" and enum is None and all(
            bound is None or type(bound) is int for bound in (low, high)):
        # whole numbers within the bounds and within check_magnitude's limit
        first = -_WHOLE_LIMIT + 1 if low is None else max(low, -_WHOLE_LIMIT + 1)
        last = _WHOLE_LIMIT - 1 if high is None else min(high, _WHOLE_LIMIT - 1)
        return int, range(first, last + 1)
    return None, None


#: How many sets of keys a kind's reader keeps its :meth:`KindReader.shape` of.
_MOST_SHAPES = 1024

#: The null of a fact that must have a value (FactSpec.coerce refuses null for it).
NO_NULL = object()


class KindReader:
    """The tables :func:`engine.model.entities.build_case` reads an entity of one kind with."""

    __slots__ = ("plan", "defaults", "list_defaults", "references", "constrained", "schema_kept",
                 "children", "collections", "shapes", "relations", "list_facts",
                 "relation_values", "no_relations")

    def __init__(self, kind: Any) -> None:
        children = kind.children
        #: the kind's collections: their names, and (name, kind) in the kind's order
        self.children = frozenset(children)
        self.collections = tuple(children.items())
        #: fact -> (type, allowed, null, coerce): a value of exactly that type (and in
        #: ``allowed`` when it is not None) is kept as given; a null becomes ``null`` (unless
        #: it is NO_NULL); anything else goes through ``coerce``, equal to FactSpec.coerce.
        self.plan: dict[str, tuple[type | None, Any, Any, Callable[[Any], Any]]] = {}
        for name, spec in kind.facts.items():
            if name in children:
                continue            # a collection of that name wins, as it always did
            expected, allowed = kept_as_given(spec)
            null = (spec.default if spec.has_default else None) \
                if (not spec.required or spec.has_default) else NO_NULL
            self.plan[name] = (expected, allowed, null, converter(spec))
        #: fact -> default of the facts a case may leave out (None when optional), in order
        self.defaults: dict[str, Any] = {name: spec.default for name, spec in kind.defaults}
        #: the facts among them whose default is a list (each entity gets its own copy)
        self.list_defaults = tuple(name for name, default in self.defaults.items()
                                   if isinstance(default, list))
        #: (fact, spec) of the facts that hold ids of other entities
        self.references = tuple((name, spec) for name, spec in kind.facts.items()
                                if spec.references is not None)
        #: per reference fact: (fact, kind it names, whether that is this kind, outside_case,
        #: mutual, acyclic), for the relation check of a built case
        self.relations = tuple((name, spec.references, spec.references == kind.name,
                                spec.outside_case, spec.mutual, spec.acyclic)
                               for name, spec in self.references)
        #: when there are several reference facts and each has a default that is None or an
        #: empty list (so an entity's facts always hold it): a function giving their values as
        #: a tuple, and the tuple of an entity that names no one (its relations need no check);
        #: else None, None
        self.relation_values: Callable[[dict], tuple] | None = None
        self.no_relations: tuple | None = None
        names = [name for name, _ in self.references]
        if len(names) > 1 and all(name in self.defaults and (self.defaults[name] is None
                                                              or self.defaults[name] == [])
                                  for name in names):
            self.relation_values = itemgetter(*names)
            self.no_relations = tuple(self.defaults[name] for name in names)
        #: list facts with no allowed values or bounds: ``coerce`` of a list is a copy of it
        self.list_facts = frozenset(name for name, spec in kind.facts.items()
                                    if spec.type == "list" and spec.enum is None
                                    and spec.minimum is None and spec.maximum is None
                                    and name not in children)
        #: whether a fact of this kind declares constraints (engine.model.case_constraints)
        self.constrained = any(spec.constraints for spec in kind.facts.values())
        #: facts a case valid to the case schema gives as the fact wants them (copied in one
        #: step from validated data; see engine.model.schema_guarantees)
        self.schema_kept = facts_kept_by_schema(kind)
        #: keys of an entity's data -> what :meth:`shape` says of them
        self.shapes: dict[tuple, tuple[tuple, tuple]] = {}

    def shape(self, data: Any) -> tuple[tuple, tuple]:
        """For validated data: its keys that are not among ``schema_kept``, in its order, and the
        facts with a list default it does not give (each entity gets its own copy). Entities of
        one kind in a batch mostly give the same keys, so the answer is kept per tuple of keys
        (for at most ``_MOST_SHAPES`` of them)."""
        keys = tuple(data)
        found = self.shapes.get(keys)
        if found is None:
            kept = self.schema_kept
            found = (tuple(key for key in keys if key not in kept),
                     tuple(name for name in self.list_defaults if name not in data))
            if len(self.shapes) < _MOST_SHAPES:
                self.shapes[keys] = found
        return found
