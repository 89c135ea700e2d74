"""``policy docs``: a static HTML site of the rulebooks, for analysts, reviewers and the public.

The site is written from the compiled rulebooks, so it can never disagree with them:

* ``index.html``: every namespace (rulebook) with its files, and every chart;
* ``<namespace>.html``: each file's description, what it does not model and what it assumes
  (each with its citation); its parameters with their whole effective-date history and the
  citation of each value, its functions and rules in plain language (title, description, what
  the manual says beside the expression with every name linked to its definition, the reason
  given, the citations), its tables, and the entities and facts it declares;
* ``table-<name>.html``: a chart (such as the income-limit chart) as of ``--as-of``, with links
  to ``table-<name>-<date>.html``, the chart for each period in which it is the same, from the
  first date the rulebooks can derive it: every covered date has its chart. A chart by household
  size is also shown as the familiar grid (program down, household size across);
* ``sweep-<case>.html`` (with ``--sweeps FILE``): example households across a range of income,
  drawn as ``policy sweep`` draws them (:mod:`.sweeps`).

Numeric parameter histories are drawn as line charts and money is shown as money (``$12,140``)
(:mod:`.pictures`). The site is reproducible: the same rulebooks and ``--as-of`` give the same
files. Paths are shown relative to the rulebook directory, and the build date appears only when
asked for (``build_date``).

Templates are jinja2 with autoescaping on: rulebook text is untrusted, and every string in it
is escaped; expressions are linked by escaping each token first. Citations with a URL are links.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from ...model.archives import archive_of
from ...model.definitions import AggregateBody, ConditionsBody, DecisionTableBody, FormulaBody
from ...errors import PolicyError
from ...runtime.display import usd
from ...runtime.results import json_value
from .pictures import column_units, grid, history_chart, shown

HERE = Path(__file__).resolve().parent
#: Most chart periods written per chart (the newest are kept).
MAX_PERIODS = 120

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*')


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["show"] = show_value
    env.filters["usd"] = lambda value, cents=False: usd(value, cents)
    env.filters["cite_dict"] = citation
    return env


def show_value(value) -> str:
    value = json_value(value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def page_of(namespace: str) -> str:
    return f"{namespace}.html"


class Linker:
    """Turns an expression into HTML with each name linked to where it is defined."""

    def __init__(self, program):
        self.program = program
        self.facts: dict[str, str] = {}
        for kind in program.entity_kinds.values():
            namespace = _namespace_of_file(program, kind.file)
            for fact in kind.facts:
                self.facts.setdefault(fact, f"{page_of(namespace)}#fact-{kind.name}-{fact}")

    def href(self, name: str, namespace: str) -> str | None:
        qualified = name if "." in name else f"{namespace}.{name}"
        program = self.program
        ns, _, short = qualified.partition(".")
        for table, prefix in ((program.parameters, "param"), (program.functions, "fn"),
                              (program.rules, "rule")):
            if qualified in table:
                return f"{page_of(ns)}#{prefix}-{short}"
        if "." not in name and name in self.facts:
            return self.facts[name]
        if name.startswith("outer."):
            return self.href(name[6:], namespace)
        return None

    def __call__(self, text, namespace: str) -> Markup:
        if text is None:
            return Markup("")
        text = str(text)
        out, last = [], 0
        for match in _TOKEN.finditer(text):
            out.append(escape(text[last:match.start()]))
            token = match.group(0)
            href = None if token[0] in "\"'" else self.href(token, namespace)
            if href:
                out.append(Markup('<a class="ref" href="{}">{}</a>').format(href, token))
            else:
                out.append(escape(token))
            last = match.end()
        out.append(escape(text[last:]))
        return Markup("").join(out)


def _namespace_of_file(program, file) -> str:
    for namespace, books in program.namespaces.items():
        if any(b.path == file for b in books):
            return namespace
    return "case"


# ----------------------------------------------------------------------------------------------
def citation(c) -> dict:
    """A citation for the templates; an archived one also names its successor (both are shown)."""
    out = {"source": c.source, "section": c.section, "memo": c.memo, "url": c.url, "note": c.note}
    archive = archive_of(c)
    if archive is not None:
        out["archived"] = archive.date.isoformat()
        out["successor"] = {"source": archive.successor.source, "section": archive.successor.section,
                            "memo": archive.successor.memo, "url": archive.successor.url,
                            "note": None}
    return out


def _note(note) -> dict:
    """A `not_modelled` or `assumptions` item (engine/literate.py) for the templates."""
    return {"what": note.what, "note": note.note, "citations": [citation(c) for c in note.citations]}


def _history(parameter) -> list[dict]:
    """Each value of a parameter with its dates, shown by the parameter's unit."""
    rows = []
    entries = parameter.entries
    for index, entry in enumerate(entries):
        following = entries[index + 1].start if index + 1 < len(entries) else None
        end = entry.until or (following - dt.timedelta(days=1) if following else None)
        rows.append({"start": entry.start.isoformat(), "end": end.isoformat() if end else None,
                     "value": _entry_value(parameter, entry), "note": entry.note,
                     "citations": [citation(c) for c in entry.citations]})
    return rows


def _entry_value(parameter, entry) -> dict:
    unit = parameter.unit
    if parameter.kind == "table":
        rows = [(str(k), shown(v, unit)) for k, v in entry.value.items()]
        if entry.each_additional is not None:
            rows.append(("each additional", "+" + shown(entry.each_additional, unit)))
        return {"kind": "table", "rows": rows}
    if parameter.kind == "bands":
        return {"kind": "bands", "rows": [(b.describe(), shown(b.value, unit)) for b in entry.value]}
    return {"kind": "scalar", "text": shown(entry.value, unit)}


def _body(definition, link, namespace) -> dict:
    body = definition.body
    if isinstance(body, FormulaBody):
        return {"kind": "formula", "expression": link(body.expression.text, namespace)}
    if isinstance(body, ConditionsBody):
        return {"kind": "conditions", "items": [
            {"when": link(c.when.text, namespace) if c.when is not None else None,
             "then": link(c.then.text, namespace),
             "because": c.because.text if c.because is not None else None,
             "says": c.says,
             "citations": [citation(x) for x in c.citations]} for c in body.conditions]}
    if isinstance(body, DecisionTableBody):
        names = [n for n, _ in body.inputs]
        return {"kind": "table", "hit_policy": body.hit_policy,
                "inputs": [(n, link(e.text, namespace)) for n, e in body.inputs],
                "rows": [{"tests": [dict(row.tests)[n].text if n in dict(row.tests) else "-"
                                    for n in names],
                          "then": link(row.then.text, namespace),
                          "because": row.because.text if row.because is not None else None,
                          "says": row.says,
                          "citations": [citation(x) for x in row.citations]} for row in body.rows],
                "default": link(body.default.text, namespace) if body.default is not None else None}
    if isinstance(body, AggregateBody):
        return {"kind": "aggregate", "function": body.function, "over": body.over,
                "where": link(body.where.text, namespace) if body.where else None,
                "of": link(body.of.text, namespace) if body.of else None,
                "default": link(body.default.text, namespace) if body.default else None}
    return {"kind": "unknown"}


def _definition(definition, link, namespace, rel) -> dict:
    rounding = getattr(definition, "rounding", None)
    return {"name": definition.name, "short": definition.short, "title": definition.title,
            "description": definition.description, "type": definition.type,
            "unit": definition.unit, "entity": getattr(definition, "entity_name", None),
            "output": getattr(definition, "output", False),
            "args": getattr(definition, "args", None),
            "round": rounding.spec if rounding is not None else None,
            "because": definition.because_text, "says": definition.says,
            "enum": list(definition.enum) if getattr(definition, "enum", None) else None,
            "body": _body(definition, link, namespace),
            "citations": [citation(c) for c in definition.citations],
            "file": rel(definition.file), "line": definition.line}


@dataclass
class Period:
    """A chart as it stands from ``start`` to ``end``; rows cite ``sources`` by number."""

    start: dt.date
    end: dt.date | None
    rows: list
    columns: list
    sources: list
    key: list
    grid: dict | None = None


def chart_periods(engine, chart) -> list[Period]:
    """The chart for each stretch of dates in which it does not change (money shown as money,
    by the unit of the function each column calls)."""
    program = engine.program
    units = column_units(program, chart)
    dates = set()
    for parameter in program.parameters.values():
        for entry in parameter.entries:
            dates.add(entry.start)
            if entry.until is not None:
                dates.add(entry.until + dt.timedelta(days=1))
    periods: list[Period] = []
    for on in sorted(dates):
        try:
            result = engine.table(chart.name, on)
        except PolicyError:
            if periods and periods[-1].end is None:
                periods[-1].end = on - dt.timedelta(days=1)
            continue
        numbers: dict = {}
        rows, key = [], []
        for r in result.rows:
            values = [shown(r.values.get(c), units.get(c)) for c in result.columns]
            refs = [numbers.setdefault(c.key, (len(numbers) + 1, c))[0] for c in r.citations]
            rows.append({"values": values, "refs": refs})
            key.append((values, [c.key for c in r.citations]))
        if periods and periods[-1].end is None and periods[-1].key == key:
            continue
        if periods and periods[-1].end is None:
            periods[-1].end = on - dt.timedelta(days=1)
        sources = [citation(c) for _, c in sorted(numbers.values(), key=lambda x: x[0])]
        periods.append(Period(on, None, rows, result.columns, sources, key,
                              grid(result.columns, [r.values for r in result.rows], units)))
    return periods[-MAX_PERIODS:]


def build_site(engine, out: str | Path, as_of: dt.date | None = None, *,
               root: str | Path | None = None, sweeps: str | Path | None = None,
               build_date: dt.date | None = None) -> list[Path]:
    """Write the site into ``out``; returns the pages written.

    ``root`` is the rulebook directory that file paths are shown relative to (default: the
    directory that holds every rulebook file). ``sweeps`` is a file of example sweeps
    (:mod:`.sweeps`). ``build_date`` is shown on the index page only when given, so that the
    same rulebooks and ``as_of`` give the same site.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    on = as_of or dt.date.today()
    program = engine.program
    env = environment()
    link = Linker(program)
    written: list[Path] = []
    rel = _relative_to(root if root is not None else _rulebook_root(program))
    sweep_pages = []
    if sweeps is not None:
        from .sweeps import build_sweeps, read_specs
        sweep_pages = build_sweeps(engine, read_specs(sweeps), on)
    shutil.copyfile(HERE / "style.css", out / "style.css")

    charts = []
    for chart in sorted(program.charts.values(), key=lambda c: c.short):
        periods = chart_periods(engine, chart)
        slug = _slug(chart.short)
        for period in periods:
            period_page = f"table-{slug}-{period.start.isoformat()}.html"
            written.append(_write(env, out, period_page, "chart.html", chart=_chart_info(chart, link),
                                  period=period, pages=None, as_of=None, periods=None,
                                  period_page=period_page, title=chart.title or chart.short))
        current = next((p for p in periods if p.start <= on and (p.end is None or on <= p.end)), None)
        listing = [{"start": p.start.isoformat(), "end": p.end.isoformat() if p.end else None,
                    "page": f"table-{slug}-{p.start.isoformat()}.html",
                    "current": p is current} for p in periods]
        page = f"table-{slug}.html"
        written.append(_write(env, out, page, "chart.html", chart=_chart_info(chart, link),
                              period=current, periods=listing, as_of=on.isoformat(),
                              pages=None, period_page=None, title=chart.title or chart.short))
        charts.append({"name": chart.name, "short": chart.short, "title": chart.title,
                       "page": page, "periods": len(periods), "namespace": chart.namespace})

    namespaces = []
    for namespace in sorted(program.namespaces):
        books = program.namespaces[namespace]
        files = {b.path for b in books}

        def mine(table):
            return sorted((d for d in table.values() if d.file in files and d.namespace == namespace
                           if hasattr(d, "namespace")), key=lambda d: (d.file or "", d.line or 0))

        parameters = [p for p in program.parameters.values() if p.file in files]
        parameters.sort(key=lambda p: (p.file or "", p.line or 0))
        info = {
            "name": namespace,
            "page": page_of(namespace),
            "files": [{"path": rel(b.path), "title": b.title, "version": b.version,
                       "uses": b.uses, "description": b.description,
                       "not_modelled": [_note(n) for n in b.not_modelled],
                       "assumptions": [_note(n) for n in b.assumptions]} for b in books],
            "title": books[0].title if len(books) == 1 and books[0].title else
            f"{len(books)} files" if len(books) > 1 else namespace,
            "parameters": [{"name": p.name, "short": p.name.split(".", 1)[1], "title": p.title,
                            "description": p.description, "unit": p.unit, "kind": p.kind,
                            "key": p.key, "update_cycle": p.update_cycle,
                            "round": p.rounding.spec if p.rounding else None,
                            "citations": [citation(c) for c in p.citations],
                            "history": _history(p), "chart": history_chart(p, on),
                            "file": rel(p.file), "line": p.line}
                           for p in parameters],
            "functions": [_definition(d, link, namespace, rel) for d in mine(program.functions)],
            "rules": [_definition(d, link, namespace, rel) for d in mine(program.rules)],
            "charts": [c for c in charts if c["namespace"] == namespace],
            "entities": [{"name": k.name, "parent": k.parent_name, "collection": k.collection,
                          "id": k.id_fact,
                          "facts": [{"name": f.name, "type": f.type, "required": f.required,
                                     "default": show_value(f.default) if f.has_default else None,
                                     "enum": list(f.enum) if f.enum else None,
                                     "description": f.description}
                                    for f in k.facts.values()]}
                         for k in program.entity_kinds.values() if k.file in files],
        }
        namespaces.append(info)
        written.append(_write(env, out, info["page"], "namespace.html", ns=info,
                              title=info["title"]))
    for page in sweep_pages:
        written.append(_write(env, out, page["page"], "sweep.html", sweep=page,
                              title=page["title"]))
    written.append(_write(env, out, "index.html", "index.html", namespaces=namespaces,
                          charts=charts, sweeps=sweep_pages, as_of=on.isoformat(),
                          title="Rulebooks",
                          generated=build_date.isoformat() if build_date else None))
    return written


def _chart_info(chart, link) -> dict:
    return {"name": chart.name, "short": chart.short, "title": chart.title,
            "description": chart.description, "namespace": chart.namespace,
            "namespace_page": page_of(chart.namespace),
            "citations": [citation(c) for c in chart.citations],
            "page": f"table-{_slug(chart.short)}.html"}


def _write(env, out: Path, name: str, template: str, **context) -> Path:
    html = env.get_template(template).render(**context)
    path = out / name
    path.write_text(html, encoding="utf-8")
    return path


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "table"


def _rulebook_root(program) -> Path | None:
    """The directory that holds every rulebook file of the program."""
    import os
    folders = {os.path.dirname(os.path.abspath(b.path))
               for books in program.namespaces.values() for b in books if b.path}
    return Path(os.path.commonpath(sorted(folders))) if folders else None


def _relative_to(root):
    """A function showing a file's path relative to ``root`` (``magi/income.yaml``); a file
    outside it is shown by its name alone, so that no local directory appears in the site."""
    import os
    base = os.path.abspath(root) if root is not None else None

    def rel(path) -> str:
        if not path:
            return ""
        full = os.path.abspath(path)
        if base is not None:
            relative = os.path.relpath(full, base)
            if not relative.startswith(".."):
                return Path(relative).as_posix()
        return os.path.basename(full)
    return rel
