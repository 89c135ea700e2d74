"""A `because` text gets exactly the values it would get from everything its rule read, though
only the names the template uses are collected (engine.runtime.trace.inputs_of with ``names``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from engine import Engine
from engine.runtime.results import citation_dict, citation_dicts
from engine.runtime.trace import FactRead, Node, TemplateNamespace, inputs_of, template_names

from tests.tools.households import households
from tests.tools.nodes import computed_nodes

ROOT = Path(__file__).resolve().parents[2]


def node(name, value, deps=()):
    return Node(SimpleNamespace(name=name), None, None, value, list(deps), ())


def fact(name, value):
    return FactRead(name, None, value)


def comparable(values: dict) -> dict:
    return {k: (("namespace", dict(v._values)) if isinstance(v, TemplateNamespace) else v)
            for k, v in values.items()}


def restricted(full: dict, names, members=None) -> dict:
    """What a template with these names (and namespaces read only through these members) can
    see of the full mapping."""
    out = comparable({k: v for k, v in full.items() if k in names})
    for name, wanted in (members or {}).items():
        if isinstance(out.get(name), tuple):
            out[name] = ("namespace", {k: v for k, v in out[name][1].items() if k in wanted})
    return out


def seen_by(values: dict, members=None) -> dict:
    return restricted(values, values.keys(), members)


def test_template_names_spell_a_read_name_every_way_a_template_may():
    assert template_names("magi.household_income") == (
        "magi__household_income", "household_income", "magi", "household_income")
    assert template_names("chip.premium-band") == ("chip__premium_band", "premium_band", "chip",
                                                   "premium-band")
    assert template_names("age") == ("age", "age", None, None)


def test_names_found_nearest_first_and_namespaces_kept_whole():
    deep = node("inner", 1, [fact("magi.household_size", 4), fact("other.x", "deep")])
    # `x` is read at level one (as other.x's short name comes later); `magi` is a namespace.
    top = node("top", None, [fact("x", "near"), node("magi.household_income", None, [deep]),
                             fact("magi.flag", None), fact("magi", "plain")])
    full = inputs_of(top)
    for names in ({"x"}, {"magi"}, {"magi__household_size", "household_income"},
                  {"flag", "inner", "nothing"}, {"other", "x", "magi__flag"}, set()):
        assert comparable(inputs_of(top, names)) == restricted(full, names), names
    # The namespace holds every member read, down to the deepest level.
    assert comparable(inputs_of(top, {"magi"}))["magi"] == (
        "namespace", {"household_income": None, "flag": None, "household_size": 4})
    # A None value is a value: the first one read wins.
    assert inputs_of(top, {"flag"}) == {"flag": None}


def test_a_namespace_read_only_through_members_is_complete_once_those_are_found():
    deeper = node("inner", 1, [fact("magi.household_size", 4), fact("magi.late", "deep")])
    top = node("top", None, [fact("magi.household_income", 10), deeper])
    # Only household_income is used: found at the first level, the walk stops there.
    found = inputs_of(top, {"magi"}, {"magi": frozenset({"household_income"})})
    assert comparable(found) == {"magi": ("namespace", {"household_income": 10})}
    # household_size is used too: found one level down, with the value of the full mapping.
    found = inputs_of(top, {"magi"}, {"magi": frozenset({"household_income", "household_size"})})
    assert found["magi"]["household_size"] == 4 == inputs_of(top)["magi"]["household_size"]
    # Without `members` the namespace is taken whole.
    assert comparable(inputs_of(top, {"magi"}))["magi"][1]["late"] == "deep"


def test_reason_members_are_the_namespaces_used_only_through_attributes():
    from engine.language.reasons import Reason
    reason = Reason("{{ magi.household_income | money }} for {{ magi.household_size }} and "
                    "{{ chip.band }} {{ chip }} {{ person }} {{ other['x'] }}", None, None)
    assert reason.members == {"magi": frozenset({"household_income", "household_size"})}


def test_a_name_that_is_a_value_before_it_is_a_namespace_stays_a_value():
    top = node("top", None, [fact("magi", 7), fact("magi.size", 3)])
    assert inputs_of(top, {"magi"}) == {"magi": 7} == {"magi": inputs_of(top)["magi"]}


@pytest.fixture(scope="module")
def engine():
    return Engine.load(ROOT / "policy")


def test_every_reason_of_real_households_gets_the_values_of_the_full_mapping(engine):
    checked = with_members = 0
    for data in households(40, seed=9):
        for result in engine.evaluate(data).results:
            for current in computed_nodes(result.node):
                if current.reason is not None:
                    names, members = current.reason.names, current.reason.members
                    assert comparable(inputs_of(current, names)) == restricted(
                        inputs_of(current), names), current.name
                    assert seen_by(inputs_of(current, names, members), members) == restricted(
                        inputs_of(current), names, members), current.name
                    checked += 1
                    with_members += bool(members)
    assert checked > 100 and with_members > 10


def test_citation_dicts_are_copies_a_caller_may_change(engine):
    result = engine.evaluate(households(1, seed=2)[0]).results[0]
    citation = result.citations[0]
    first = citation_dict(citation)
    first["section"] = "changed"
    assert citation_dict(citation) == citation.as_dict() != first
    assert citation_dicts(result.citations) == [c.as_dict() for c in result.citations]


def test_a_source_archived_by_a_set_loaded_later_is_shown_to_that_sets_rules():
    """Citations are shared by every rulebook set in the process; a set loaded later (a reload)
    that declares the source archived must not get the list dated before it."""
    import datetime as dt

    from engine.model.archives import declare
    from engine.model.citations import Citation, intern
    from engine.runtime.results import shown_citations

    cited = intern(Citation("A manual only this test cites", "9.9.9"))
    on = dt.date(2026, 1, 1)
    old_rule, new_rule = object(), object()
    assert shown_citations((cited,), on, old_rule) == [cited.as_dict()]
    declare(cited, {"archived": dt.date(2025, 1, 1),
                    "superseded_by": {"source": "Its successor"}})
    shown = shown_citations((cited,), on, new_rule)
    # One citation from the archive date: the successor, carrying the archived one as `formerly`.
    assert [c["source"] for c in shown] == ["Its successor"]
    assert shown[0]["formerly"]["source"] == "A manual only this test cites"
    assert shown_citations((cited,), on) == shown                    # no rule: nothing kept
    assert shown_citations((cited,), dt.date(2024, 1, 1), new_rule) == [cited.as_dict()]
