"""The template sandbox of ``because`` texts and notices, with the expression language's bounds.

Jinja2's immutable sandbox already keeps a template away from Python's internals, but it lets a
template build any amount of text or any integer: ``{{ "x" * 1000000000 }}``, ``{{ 9 ** 9 ** 9
}}``, ``{{ "x"|center(1000000000) }}`` or ``{{ "%1000000000s" % "" }}`` would take minutes and
gigabytes while rendering one reason. :class:`BoundedSandbox` refuses them before they are built,
with the same limits as expressions (docs/limits.md): texts and lists of at most
:data:`~engine.expressions.MAX_SEQUENCE` items, exponents up to
:data:`~engine.expressions.MAX_POWER`, integers of at most
:data:`~engine.expressions.MAX_POWER_BITS` bits.
"""

from __future__ import annotations

import re

from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .operators import MAX_POWER, MAX_POWER_BITS, MAX_SEQUENCE

_SEQUENCES = (str, list, tuple)
#: Widths and precisions in a %-format (``%10s``, ``%.5d``, ``%*s``).
_WIDTHS = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")
#: A replacement field of str.format with a width or precision of five digits or more.
_FIELD_WIDTHS = re.compile(r"\{[^{}]*:[^{}]*\d{5,}")
#: String methods whose integer arguments are the length of the result.
_PADDING = {"ljust", "rjust", "center", "zfill", "expandtabs"}


def _too_long(what: str):
    return SecurityError(f"the template would build {what} longer than {MAX_SEQUENCE:,} characters")


def _check_format(spec) -> None:
    if isinstance(spec, str):
        for width, precision in _WIDTHS.findall(spec):
            for number in (width, precision):
                if number == "*" or (number and int(number) > MAX_SEQUENCE):
                    raise _too_long("a formatted text")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """An immutable sandbox whose operators, padding methods and filters cannot outgrow the
    engine's limits."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        center, indent, format_ = (self.filters[name] for name in ("center", "indent", "format"))

        def bounded_center(value, width=80):
            if isinstance(width, int) and width > MAX_SEQUENCE:
                raise _too_long("a centred text")
            return center(value, width)

        def bounded_indent(value, width=4, *args, **kwargs):
            if isinstance(width, int) and width > MAX_SEQUENCE:
                raise _too_long("an indented text")
            return indent(value, width, *args, **kwargs)

        def bounded_format(value, *args, **kwargs):
            _check_format(value)
            return format_(value, *args, **kwargs)

        self.filters.update(center=bounded_center, indent=bounded_indent, format=bounded_format)

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, _SEQUENCES) and isinstance(count, int) \
                        and len(sequence) * count > MAX_SEQUENCE:
                    raise _too_long("a repeated text or list")
            if isinstance(left, int) and isinstance(right, int) \
                    and left.bit_length() + right.bit_length() > MAX_POWER_BITS:
                raise SecurityError("the template would build a number too large")
        elif operator == "**":
            if isinstance(right, (int, float)) and abs(right) > MAX_POWER:
                raise SecurityError(f"an exponent larger than {MAX_POWER} is not allowed")
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 \
                    and right * left.bit_length() > MAX_POWER_BITS:
                raise SecurityError("the template would build a number too large")
        elif operator == "+":
            if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES) \
                    and len(left) + len(right) > MAX_SEQUENCE:
                raise _too_long("a joined text or list")
        elif operator == "%":
            _check_format(left)
        return super().call_binop(context, operator, left, right)

    def call(self, __context, __obj, *args, **kwargs):
        # str.format is wrapped by the sandbox when it is looked up: its text is on the original.
        method = getattr(__obj, "__wrapped__", __obj)
        name, owner = getattr(method, "__name__", None), getattr(method, "__self__", None)
        if isinstance(owner, str):
            if name in _PADDING and any(isinstance(a, int) and a > MAX_SEQUENCE for a in args):
                raise _too_long("a padded text")
            if name in ("format", "format_map") and _FIELD_WIDTHS.search(owner):
                raise _too_long("a formatted text")
        return super().call(__context, __obj, *args, **kwargs)
