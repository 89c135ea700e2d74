"""W552: a value that took effect after its only sources were archived.

IM-23 (2025) archived Missouri's separate manuals on April 23, 2025; a value that starts on or
after a source's archive date cannot have come from that source alone (a 2026 figure "cited" to
a manual archived in 2025 sends the caseworker to a page that no longer governs). The value
should cite what it was read from: the memo that announced it, or the successor manual.
Archive dates are declared on named sources (``archived``, ``superseded_by``;
engine.model.archives).
"""

from __future__ import annotations

from ..model.archives import archive_of, only_archived
from .context import CheckContext, problem
from ..errors import codes


def run(context: CheckContext) -> list:
    found = []
    if context.program is None:
        return found
    for parameter in context.program.parameters.values():
        for entry in parameter.entries:
            cites = entry.citations or parameter.citations
            if not only_archived(cites, entry.start):
                continue
            archived = min(archive_of(c).date for c in cites)
            found.append(problem(
                codes.ARCHIVED_ONLY_CITATION, f"The value of {parameter.name} in force from {entry.start.isoformat()} "
                f"cites only sources archived by then (on {archived.isoformat()}): "
                f"{'; '.join(c.short() for c in cites)}. Cite where the value was read (the memo "
                "or the successor manual).", parameter.file, entry.line or parameter.line,
                f"{parameter.name}.values"))
    return found
