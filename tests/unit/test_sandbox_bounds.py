"""`because` texts and notices render in a sandbox with the expression language's bounds."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError

from engine.actions.notices import ENVIRONMENT as NOTICES
from engine.language.reasons import ENVIRONMENT as REASONS, Reason


@pytest.mark.parametrize("template", [
    '{{ "x" * 1000000000 }}',
    '{{ [0] * 100000 }}',
    '{{ 10 ** 1000 }}',
    '{{ (2 ** 100) ** 100 }}',
    '{{ "x"|center(1000000000) }}',
    '{{ "x"|indent(1000000000) }}',
    '{{ "%1000000000s" % "" }}',
    '{{ "%*s"|format(1000000000, "") }}',
    '{{ "x".ljust(1000000000) }}',
    '{{ "{:>1000000000}".format("x") }}',
])
@pytest.mark.parametrize("environment", [REASONS, NOTICES], ids=["reasons", "notices"])
def test_templates_cannot_outgrow_the_limits(environment, template):
    with pytest.raises(SecurityError):
        environment.from_string(template).render()


@pytest.mark.parametrize("template, shown", [
    ('{{ "ab" * 3 }}', "ababab"), ('{{ 2 ** 10 }}', "1024"), ('{{ "%5.2f" % 3.14159 }}', " 3.14"),
    ('{{ "x"|center(5) }}', "  x  "), ('{{ "{:>4}".format("x") }}', "   x"), ('{{ "a" + "b" }}', "ab"),
])
def test_ordinary_templates_render_as_before(template, shown):
    assert REASONS.from_string(template).render() == shown


def test_a_reason_that_breaks_a_bound_renders_as_unavailable():
    reason = Reason('{{ "x" * 1000000000 }}', "r.yaml", 3)
    assert reason.render({}).startswith("(reason unavailable: the template would build")
