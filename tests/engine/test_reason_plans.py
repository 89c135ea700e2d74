"""A plain `because` template (text and values) renders without jinja2 exactly as jinja2 would
render it (engine.language.reasons: Reason.plan), and anything else still goes through jinja2."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import jinja2
import pytest

from engine import Engine
from engine.language.reasons import Reason
from engine.runtime.trace import TemplateNamespace, inputs_of

from tests.tools.households import households
from tests.tools.nodes import computed_nodes

ROOT = Path(__file__).resolve().parents[2]


def by_jinja(reason: Reason, variables: dict) -> str:
    """What Reason.render gave before plans: jinja2 always."""
    try:
        return reason.template.render(**variables).strip()
    except jinja2.UndefinedError as exc:
        return f"(reason unavailable: {exc.message})"
    except Exception as exc:
        return f"(reason unavailable: {exc})"


def namespace(**values) -> TemplateNamespace:
    space = TemplateNamespace()
    space._values.update(values)
    return space


PLAIN = ("{{ person }} has {{ magi.household_income | money }} a month, "
         "{{ magi.fpl_percent | percent }} of the guideline; size {{ size }}.\n")
VARIABLES = [
    {"person": "dad", "magi": namespace(household_income=Decimal("5199.60"),
                                        fpl_percent=Decimal("250.15")), "size": 3},
    {"person": None, "magi": namespace(household_income=None, fpl_percent=None), "size": True},
    {"person": ["a", "b"], "magi": namespace(household_income=Decimal("1000"),
                                             fpl_percent=Decimal("0")), "size": dt.date(2025, 6, 1)},
    {"person": "x", "magi": namespace(household_income="text", fpl_percent=1), "size": []},
    {"person": "x", "magi": namespace(fpl_percent=1), "size": 1},            # a missing member
    {"person": "x", "magi": "not a namespace", "size": 1},
    {"person": "x", "magi": {"household_income": 5, "fpl_percent": 2}, "size": False},
    {"magi": namespace(household_income=1, fpl_percent=2), "size": 1},       # a missing name
]


@pytest.mark.parametrize("variables", VARIABLES)
def test_a_plain_template_renders_as_jinja2_would(variables):
    reason = Reason(PLAIN, None, None)
    assert reason.plan is not None
    assert reason.render(variables) == by_jinja(reason, variables)


@pytest.mark.parametrize("text", ["", "Just text.", "{{ items }}", "{{ d.items }}", "{{ d.keys }}",
                                  "{{ value }}\n\n", "  {{ value }}  "])
def test_edge_cases_render_as_jinja2_would(text):
    reason = Reason(text, None, None)
    for variables in ({"items": [1, 2], "d": {"items": 3, "keys": 4}, "value": Decimal("12345.5")},
                      {"d": namespace(items=3, keys=4), "value": None}, {}):
        assert reason.render(variables) == by_jinja(reason, variables)


@pytest.mark.parametrize("text", ["{% if x %}yes{% endif %}", "{{ x | join('; ') }}",
                                  "{{ x or 'none' }}", "{{ a.b.c }}", "{{ x[0] }}"])
def test_other_templates_have_no_plan_and_render_through_jinja2(text):
    reason = Reason(text, None, None)
    assert reason.plan is None
    assert reason.render({"x": [1], "a": namespace(b=namespace(c=1))}) == by_jinja(
        reason, {"x": [1], "a": namespace(b=namespace(c=1))})


def test_every_reason_of_real_households_renders_as_jinja2_would():
    engine = Engine.load(ROOT / "policy")
    planned = checked = 0
    for data in households(30, seed=21):
        evaluation = engine.evaluate(data)
        for result in evaluation.results:
            for current in computed_nodes(result.node):
                if current.reason is None:
                    continue
                variables = inputs_of(current)
                variables.update(value=current.value, person=result.person, as_of=result.as_of,
                                 entity=current.entity.label() if current.entity else None)
                assert current.reason.render(variables) == by_jinja(current.reason, variables)
                checked += 1
                planned += current.reason.plan is not None
            assert result.because == by_jinja(result.node.reason, {
                **inputs_of(result.node), "value": result.node.value, "person": result.person,
                "as_of": result.as_of, "entity": result.node.entity.label()
                if result.node.entity is not None else None}) if result.node.reason else True
    assert checked > 200 and planned > checked // 2
