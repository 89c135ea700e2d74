"""Test coverage of the rulebooks: which rules and which parameter values no test exercised.

``policy test --coverage`` runs the test cases on a :class:`CoverageEngine`, an engine that
records, while it evaluates, every rule it computes and every parameter value it reads (by
parameter *and effective date*: the 2024 and the 2025 poverty guideline are two values, and a
suite that only tests 2025 leaves the 2024 one unexercised). Reads through functions, charts and
``params:`` pins count too. Nothing in evaluation changes: the recording happens around it.

Coverage is reported as covered items over all items, where the items are the rules and the
parameter values; ``--fail-under PCT`` fails the run below that percentage.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..api import Engine
from ..model.definitions import Rule
from ..runtime.state import DateCache
from ..runtime.trace import Node, flatten


class Coverage:
    """What a test run exercised."""

    def __init__(self):
        self.rules: set[str] = set()
        self.values: set[tuple[str, object]] = set()   # (parameter name, effective date)

    def record_value(self, value) -> None:
        self.values.add((value.parameter.name, value.entry.start))

    def record_evaluation(self, evaluation) -> None:
        for result in evaluation.results:
            for step in flatten(result.node):
                if isinstance(step, Node):
                    if isinstance(step.definition, Rule):
                        self.rules.add(step.definition.name)
                elif hasattr(step, "entry"):
                    self.record_value(step)

    def report(self, program) -> "CoverageReport":
        rules = sorted(program.rules.values(), key=lambda r: (r.file or "", r.line or 0))
        values = [(p, e) for p in sorted(program.parameters.values(),
                                         key=lambda p: (p.file or "", p.line or 0))
                  for e in p.entries]
        return CoverageReport(
            rules_total=len(rules),
            rules_covered=sum(1 for r in rules if r.name in self.rules),
            values_total=len(values),
            values_covered=sum(1 for p, e in values if (p.name, e.start) in self.values),
            uncovered_rules=[(r.name, r.file, r.line) for r in rules if r.name not in self.rules],
            uncovered_values=[(p.name, e.start, p.file, e.line or p.line) for p, e in values
                              if (p.name, e.start) not in self.values])


@dataclass
class CoverageReport:
    rules_total: int
    rules_covered: int
    values_total: int
    values_covered: int
    uncovered_rules: list = field(default_factory=list)
    uncovered_values: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.rules_total + self.values_total

    @property
    def covered(self) -> int:
        return self.rules_covered + self.values_covered

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else 100.0 * self.covered / self.total

    def render(self) -> str:
        lines = [f"Coverage: {self.rules_covered}/{self.rules_total} rules, "
                 f"{self.values_covered}/{self.values_total} parameter values; "
                 f"{self.covered}/{self.total} = {self.percent:.1f}%."]
        if self.uncovered_rules:
            lines.append("Rules no test exercised:")
            lines.extend(f"  {_rel(file)}:{line}: {name}" for name, file, line in self.uncovered_rules)
        if self.uncovered_values:
            lines.append("Parameter values no test exercised (parameter, effective date):")
            lines.extend(f"  {_rel(file)}:{line}: {name} from {start}"
                         for name, start, file, line in self.uncovered_values)
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"percent": round(self.percent, 2),
                "rules": {"covered": self.rules_covered, "total": self.rules_total,
                          "uncovered": [{"name": n, "file": f, "line": l}
                                        for n, f, l in self.uncovered_rules]},
                "parameter_values": {"covered": self.values_covered, "total": self.values_total,
                                     "uncovered": [{"name": n, "effective_from": s.isoformat(),
                                                    "file": f, "line": l}
                                                   for n, s, f, l in self.uncovered_values]}}


def _rel(path) -> str:
    """A path relative to the working directory when it is below it."""
    if not path:
        return "?"
    rel = os.path.relpath(os.path.abspath(path))
    return path if rel.startswith("..") else rel


class _RecordingCache(DateCache):
    """The engine's shared cache of parameter values, noting every value read through it."""

    def __init__(self, coverage: Coverage):
        super().__init__()
        self.coverage = coverage

    def parameter(self, parameter, on):
        value = super().parameter(parameter, on)
        self.coverage.record_value(value)
        return value


class CoverageEngine(Engine):
    """An engine over the same compiled program that records what it evaluates."""

    def __init__(self, program, coverage: Coverage | None = None, *, reference: bool = False):
        super().__init__(program, reference=reference)
        self.coverage = coverage or Coverage()
        self.cache = _RecordingCache(self.coverage)

    @classmethod
    def wrapping(cls, engine: Engine) -> "CoverageEngine":
        return cls(engine.program, reference=engine.reference)

    def evaluate(self, case, as_of=None, names=None, source=None):
        evaluation = super().evaluate(case, as_of=as_of, names=names, source=source)
        self.coverage.record_evaluation(evaluation)
        return evaluation

    def parameter(self, name, as_of=None):
        value = super().parameter(name, as_of)
        self.coverage.record_value(value)
        return value

    def report(self) -> CoverageReport:
        return self.coverage.report(self.program)
