"""W560: parameters that nothing reads.

A parameter that no rule, function or table reads is either dead (left behind when a rule
changed) or a sign that a rule reads another parameter than intended. Both deserve a look, but
neither is wrong in itself, so this is a warning. ``in_force(param)`` counts as reading.
"""

from __future__ import annotations

from ..errors import codes
from .context import CheckContext, cited, problem


def run(context: CheckContext) -> list:
    program = context.program
    read = set()
    for targets in program.dependencies.values():
        read.update(targets)
    found = []
    for name, parameter in program.parameters.items():
        if name in read:
            continue
        found.append(problem(
            codes.UNUSED_PARAMETER,
            f"Parameter {name} is read by no rule, function or table. Remove it, or use "
            f"it where it was meant to be used.{cited(parameter.citations)}", parameter.file,
            parameter.line, name, parameter.citations))
    return found
