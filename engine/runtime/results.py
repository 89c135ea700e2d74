"""Results: what leaves the engine, each with its value, citations, reason and trace.

A :class:`Result` wraps the trace node of an output rule for one entity. Its citations, reason
text and trace are computed from the node only when asked for, so evaluating a case costs the
same whether or not a caller prints explanations.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..language.numbers import format_decimal
from ..model.archives import dated
from ..model.parameters import Band
from .deciding import deciding_citations, deciding_ids
from .trace import Node, collect_citations, describe_step, flatten, inputs_of


def json_value(value):
    """A value as JSON: decimals as exact strings, dates as ISO strings, never floats."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, Band):
        return {"from": json_value(value.lower), "from_inclusive": value.lower_inclusive,
                "to": json_value(value.upper), "to_inclusive": value.upper_inclusive,
                "value": json_value(value.value)}
    return str(value)


_CENT = Decimal("0.01")
#: Result types whose JSON value is always a decimal string.
_DECIMAL_TYPES = frozenset({"money", "percent", "decimal"})


def typed_json_value(value, type_name: str | None):
    """A result's value as JSON: a money, percent or decimal value is always a decimal string
    (``"0"``, ``"5199.60"``), even when the rule computed a whole number. Both evaluators' results
    go through here, so their output cannot differ."""
    shown = json_value(value)
    if shown.__class__ is int and type_name in _DECIMAL_TYPES:
        return str(shown)
    return shown


def cents(amount: Decimal) -> Decimal:
    """A money amount exact to the cent written with two decimals ("405.0" and "1305.000" as
    "405.00" and "1305.00"); whole dollars stay whole ("242"), and an amount with digits below
    the cent is left exact, never rounded for display."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < 0 and exponent != -2:
        quantized = amount.quantize(_CENT)
        if quantized == amount:
            return quantized
    return amount


#: The names :attr:`Result.because` gives every template itself (whatever the rule read).
_SET_BY_RESULT = frozenset({"value", "person", "as_of", "entity"})

#: Each interned citation's JSON form, made once (a fresh copy is handed out every time).
_CITATION_DICTS: dict = {}
#: The JSON citations shown for a deciding list on a date (:func:`shown_citations`).
_SHOWN: dict = {}
#: Most entries kept in each of those caches before it starts again (they hold interned
#: citations of loaded rulebooks, and dates: bounded in practice, bounded here anyway).
_MAX_CACHED = 20_000


def citation_dict(citation) -> dict:
    """``citation.as_dict()``, computed once per interned citation; the caller gets its own copy,
    so changing it cannot change what another result prints."""
    found = _CITATION_DICTS.get(citation)
    if found is None:
        found = citation.as_dict()
        if citation.id is None:         # not interned: not shared, not kept
            return found
        if len(_CITATION_DICTS) >= _MAX_CACHED:
            _CITATION_DICTS.clear()
        _CITATION_DICTS[citation] = found
    return found.copy()


def citation_dicts(citations) -> list[dict]:
    """:func:`citation_dict` of each citation, in order."""
    return [citation_dict(c) for c in citations]


def shown_citations(citations, on: dt.date | None, rule=None) -> list[dict]:
    """The citations a result of ``rule`` lists, as JSON: ``dated(citations, on)`` (successors
    of archived sources first) with each citation's fields. Results of many cases share the same
    deciding lists, so the dated list is worked out once per rule, list and date; every call
    gets new dicts.

    The rule (the compiled definition, of one rulebook set) is part of the key because
    citations are shared by every rulebook set loaded in the process, and loading a set that
    declares a source archived marks them (engine.model.archives): a set loaded later, after a
    reload, must not find lists dated before that. Without a rule nothing is kept."""
    citations = tuple(citations)
    if rule is None:
        return [citation_dict(c) for c in dated(citations, on)]
    key = (id(rule), citations, on)
    found = _SHOWN.get(key)
    if found is None or found[0] is not rule:
        shown = dated(citations, on)
        # Each citation's JSON form, kept with the list when every one is interned (each call
        # still gets its own copies); None: made per call, as citation_dict makes them.
        forms = tuple(citation_dict(c) for c in shown) \
            if all(c.id is not None for c in shown) else None
        found = (rule, shown, forms)
        if len(_SHOWN) >= _MAX_CACHED:
            _SHOWN.clear()
        _SHOWN[key] = found
    forms = found[2]
    if forms is not None:
        return [form.copy() for form in forms]
    return [citation_dict(c) for c in found[1]]


class Result:
    """One output of one rule for one entity (a person, or the case itself)."""

    __slots__ = ("node", "as_of")

    def __init__(self, node: Node, as_of: dt.date):
        self.node = node
        self.as_of = as_of

    @property
    def name(self) -> str:
        return self.node.definition.name

    @property
    def value(self):
        return self.node.value

    @property
    def shown_value(self):
        """The value as printed: a money amount exact to the cent with two decimals."""
        value = self.node.value
        if self.node.definition.type == "money" and isinstance(value, Decimal):
            return cents(value)
        return value

    def json_value(self):
        """The value as JSON: a money, percent or decimal result is always a decimal string
        (``"0"``, ``"5199.60"``), even when the rule computed a whole number."""
        return typed_json_value(self.shown_value, self.node.definition.type)

    @property
    def entity(self):
        return self.node.entity

    @property
    def person(self):
        """The id of the person (or other identified entity) the result is for; None for the case."""
        entity = self.node.entity
        return entity.person_id() if entity is not None else None

    @property
    def citations(self):
        """The sections that decided the value, the deciding section first (engine.runtime.deciding)."""
        return deciding_citations(self.node)

    @property
    def citation_ids(self) -> list[int]:
        """:attr:`citations` as citation ids (``engine.citations.citation_by_id`` resolves them)."""
        return deciding_ids(self.node)

    @property
    def provenance(self):
        """Every citation behind everything the evaluation read for this value (the read-set):
        the rule's own citations first, then the rest in the order the rulebooks declare them."""
        return collect_citations(self.node)

    @property
    def because(self) -> str | None:
        reason = self.node.reason
        if reason is None:
            return None
        names = reason.names
        if not names.isdisjoint(_SET_BY_RESULT):
            names = names - _SET_BY_RESULT
        variables = inputs_of(self.node, names, reason.members)
        variables.update(value=self.node.value, person=self.person, as_of=self.as_of,
                         entity=self.node.entity.label() if self.node.entity is not None else None)
        return reason.render(variables)

    @property
    def title(self) -> str | None:
        return self.node.definition.title

    def trace(self) -> list[dict]:
        steps = []
        for record in flatten(self.node):
            step = describe_step(record, json_value)
            # A money, percent or decimal value is a decimal string in JSON, even when whole.
            if step["value"].__class__ is int and record.__class__ is Node \
                    and record.definition.type in _DECIMAL_TYPES:
                step["value"] = str(step["value"])
            steps.append(step)
        return steps

    def as_dict(self, explain: bool = False, provenance: bool = False,
                citations: bool = True) -> dict:
        """The result as JSON data; ``provenance`` (always with ``explain``) adds the read-set;
        ``citations=False`` leaves the deciding citations out (and does not work them out)."""
        out = {"name": self.name, "person": self.person, "value": self.json_value()}
        if citations:
            out["citations"] = shown_citations(self.citations, self.as_of, self.node.definition)
        out["because"] = self.because
        if self.node.entity is not None and self.node.entity.kind.id_fact is None \
                and self.node.entity.parent is not None:
            out["entity"] = self.node.entity.label()
        if provenance or explain:
            out["provenance"] = citation_dicts(self.provenance)
        if explain:
            out["trace"] = self.trace()
        return out

    def __repr__(self) -> str:
        return f"Result({self.name!r}, person={self.person!r}, value={self.value!r})"


class Evaluation:
    """All results for one case as of one date."""

    def __init__(self, case_id, as_of: dt.date, results: list[Result]):
        self.case_id = case_id
        self.as_of = as_of
        self.results = results

    def find(self, name: str, person=None) -> Result | None:
        for result in self.results:
            if result.name == name and result.person == person:
                return result
        return None

    def value(self, name: str, person=None):
        result = self.find(name, person)
        if result is None:
            raise KeyError(f"no result {name} for {person!r}")
        return result.value

    def as_dict(self, explain: bool = False, provenance: bool = False,
                citations: bool = True) -> dict:
        return {"case_id": self.case_id, "as_of": self.as_of.isoformat(),
                "results": [r.as_dict(explain, provenance, citations) for r in self.results]}
