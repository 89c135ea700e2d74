"""The outcome of ``policy check``: errors, warnings, and which files were checked."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Problem


@dataclass
class CheckReport:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: int = 0
    paths: list[str] = field(default_factory=list)     # every rulebook file checked

    @property
    def unreadable(self) -> bool:
        """Whether some file could not even be read (exit 2 rather than 1)."""
        return any(p.code.startswith("E1") for p in self.errors)

    @property
    def problems(self) -> list[Problem]:
        return self.errors + self.warnings

    def add(self, problem: Problem):
        (self.warnings if problem.severity == "warning" else self.errors).append(problem)

    def extend(self, problems):
        for problem in problems:
            self.add(problem)

    def sort(self):
        """Problems in file and line order, so that output reads top to bottom."""
        def key(p: Problem):
            return (p.file or "", p.line or 0, p.code)
        self.errors.sort(key=key)
        self.warnings.sort(key=key)
