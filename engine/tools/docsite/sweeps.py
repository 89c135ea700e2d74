"""Sweep pages for the docs site: example households across a range of income.

``policy docs OUT/ --sweeps FILE`` reads FILE, a YAML list of sweeps, each as ``policy sweep``
takes it (case paths are relative to FILE)::

    sweeps:
      - title: The Jones family (2018)      # optional
        case: jones.yaml
        income: dad
        from: 0
        to: 6000
        step: 100
        as_of: 2018-06-01                   # optional: else the case's own as_of, else the site's
        only: [eligibility.level_of_care]   # optional: the results followed (default as policy sweep)

Each sweep becomes a page ``sweep-<case_id>.html`` with the picture (an inline SVG with tooltips)
and the table of changes with their citations.
"""

from __future__ import annotations

import re
from pathlib import Path

from ...errors import InputError, codes
from ..plotting import inline
from ..sweep import money, sweep
from ..sweep.core import default_names, dollars
from ..sweep.picture import svg as sweep_svg
from ...io.yaml_loader import line_of, load_file

_KEYS = {"title", "case", "income", "from", "to", "step", "as_of", "only"}


def read_specs(path: str | Path) -> list[dict]:
    """The sweeps listed in ``path``, checked, with their case paths resolved."""
    path = Path(path)
    data = load_file(path)
    items = data.get("sweeps") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise InputError(f"{path} must have a list `sweeps:` of sweeps to draw.", code=codes.BAD_SWEEP,
                         file=str(path), line=line_of(data) if data is not None else None)
    specs = []
    for index, item in enumerate(items):
        where = f"sweeps[{index}]"
        if not isinstance(item, dict):
            raise InputError(f"{where} must be a mapping.", code=codes.BAD_SWEEP, file=str(path), field=where)
        unknown = set(item) - _KEYS
        missing = {"case", "income", "from", "to", "step"} - set(item)
        if unknown or missing:
            problem = (f"has unknown key(s) {', '.join(sorted(unknown))}" if unknown else
                       f"lacks {', '.join(sorted(missing))}")
            raise InputError(f"{where} {problem}.", code=codes.BAD_SWEEP, file=str(path),
                             line=line_of(item), field=where)
        spec = dict(item)
        spec["case"] = (path.parent / str(item["case"])).resolve()
        spec["where"] = (str(path), line_of(item), where)
        specs.append(spec)
    return specs


def build_sweeps(engine, specs: list[dict], as_of) -> list[dict]:
    """Run each sweep; the page data for each."""
    pages = []
    used: set[str] = set()
    for spec in specs:
        file, line, where = spec["where"]
        try:
            result = sweep(engine, spec["case"], str(spec["income"]),
                           money(spec["from"], f"{where}.from"), money(spec["to"], f"{where}.to"),
                           money(spec["step"], f"{where}.step"),
                           names=spec.get("only") or default_names(engine.program)[0],
                           amounts=[] if spec.get("only") else default_names(engine.program)[1],
                           as_of=spec.get("as_of") or _case_date(engine, spec["case"]) or as_of)
        except InputError as exc:
            problem = exc.problem
            raise InputError(f"The sweep {where} of {file} (line {line}) cannot be drawn: "
                             f"{problem.message}", code=problem.code, file=file, line=line,
                             field=where) from None
        slug = re.sub(r"[^a-z0-9-]+", "-", str(result.case_id).lower()).strip("-") or "case"
        page, number = f"sweep-{slug}.html", 2
        while page in used:
            page, number = f"sweep-{slug}-{number}.html", number + 1
        used.add(page)
        pages.append({
            "page": page,
            "title": spec.get("title") or f"Case {result.case_id}",
            "case_id": result.case_id,
            "case_file": Path(spec["case"]).name,
            "as_of": result.as_of.isoformat(),
            "person": result.person,
            "income_type": result.income_type.replace("_", " "),
            "start": dollars(result.incomes[0]),
            "stop": dollars(result.incomes[-1]),
            "step": dollars(result.incomes[1] - result.incomes[0]) if len(result.incomes) > 1 else None,
            "points": len(result.incomes),
            "svg": inline(sweep_svg(result, tooltips=True)),
            "changes": result.changes,
        })
    return pages


def _case_date(engine, case):
    return engine.read_case(case).as_of
