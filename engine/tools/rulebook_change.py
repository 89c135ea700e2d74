"""A rulebook edit read as a mass change: ``policy diff OLD NEW --cases FILE --classify``.

``policy diff --cases`` lists every result whose value differs between two versions of the
rulebooks. With ``--classify`` each case is also run through the new rulebooks' change
comparisons (``mass_change.compare_engines``: the old rulebooks give the values before, the new
ones the values after, on the same date), so that a corrected guideline is reported the way a
COLA or an FPL update is: each changed result's outcome (increase, reduction, loss, gain, ...)
and the notices it calls for, with counts by result and outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .batch import Task, case_data
from .caseload_change import CaseloadSummary
from ..runtime.results import json_value
from ..errors import PolicyError
from ..actions.mass_change import compare_engines


@dataclass
class Classified:
    """The changed results of every case, classified, and their counts."""

    summary: CaseloadSummary = field(default_factory=CaseloadSummary)
    cases: list = field(default_factory=list)       # {"case", "case_id", "as_of", "results"}
    errors: int = 0

    def as_dict(self) -> dict:
        counts = self.summary.as_dict()
        return {"outcomes": counts["outcomes"], "changed_results": counts["compared"],
                "cases": self.cases, "errors": self.errors}

    def render(self) -> str:
        lines = [f"Changed results classified as a mass change: {self.summary.rows}"]
        for name, counts in self.summary.by_program().items():
            detail = ", ".join(f"{outcome} {count}" for outcome, count in counts.items())
            lines.append(f"  {name}: {detail}")
        for case in self.cases:
            lines.append(f"  {case['case']} ({case['case_id']}, as of {case['as_of']}):")
            for row in case["results"]:
                who = f"{row['person']}: " if row["person"] is not None else ""
                notices = ", ".join(row.get("notices") or []) or "no notice"
                lines.append(f"      {who}{row['name']} {row['before']} -> {row['after']}: "
                             f"{row.get('outcome')} ({notices})")
        if self.errors:
            lines.append(f"  {self.errors} case(s) could not be classified (see the case list above).")
        return "\n".join(lines)


def classify_cases(old, new, tasks: Iterable[Task], as_of: str | None = None) -> Classified:
    """Classify the results that changed between the two versions, case by case."""
    out = Classified()
    for task in tasks:
        try:
            result = compare_engines(old, new, case_data(task), as_of or task.as_of)
        except PolicyError:
            out.errors += 1
            continue
        rows = []
        for change, row in result.rows():
            if row.before == row.after:
                continue
            item = row.named_dict(change)
            item.pop("citations", None)
            item["citations"] = [c.as_dict() for c in row.column_citations]
            rows.append(item)
        rows = [{k: json_value(v) if not isinstance(v, (list, dict)) else v for k, v in r.items()}
                for r in rows]
        out.summary.add({"results": rows})
        if rows:
            out.cases.append({"case": task.label, "case_id": result.case_id,
                              "as_of": result.after_date.isoformat(), "results": rows})
    return out
