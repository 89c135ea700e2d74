"""Reading one rulebook file into definitions.

The file is parsed by the safe loader, validated against ``schemas/rulebook.schema.json``, and
only then turned into :class:`~engine.model.parameters.Parameter`, :class:`~engine.model.definitions.Rule`,
:class:`~engine.model.definitions.Function` and :class:`~engine.model.definitions.Chart` objects with their
expressions parsed. Names are not resolved here: that needs every file, and is the compiler's job.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..model import archives
from ..model.case_constraints import PROPERTIES
from ..model import calendars as holidays, citations as citation_lib
from ..model import literate
from ..model.definitions import (AggregateBody, Chart, ChartGroup, Condition, ConditionsBody,
                          DecisionTableBody, FormulaBody, Function, Row, Rule, parse_cell)
from ..model.entities import EntityKind, FactSpec
from ..errors import CompileError, codes
from ..language.expressions import parse as parse_expression
from ..language.numbers import NotANumber, Rounding, to_decimal
from ..model.parameters import Band, Entry, Parameter
from ..model.units import NUMERIC_UNITS
from ..language.reasons import Reason
from ..io.schemas import validate
from ..io.yaml_loader import line_of, load_file
from ..actions import deadlines, mass_change, notices, recipients

@dataclass
class RulebookFile:
    path: str
    namespace: str
    version: str
    title: str | None
    uses: list[str]
    parameters: dict[str, Parameter] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    charts: dict[str, Chart] = field(default_factory=dict)
    entities: dict[str, EntityKind] = field(default_factory=dict)
    data: dict | None = None      # the parsed, validated file (for `policy check`'s file checks)
    # Section 11 of docs/language.md: calendars, counting rules, deadlines, notices, changes.
    calendars: dict = field(default_factory=dict)
    counting: dict = field(default_factory=dict)
    deadlines: dict = field(default_factory=dict)
    notices: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)
    # The literate fields (engine/literate.py): what the file covers, leaves out and assumes.
    description: str | None = None
    not_modelled: list = field(default_factory=list)
    assumptions: list = field(default_factory=list)
    recipients: dict = field(default_factory=dict)


def read(path: str | Path) -> RulebookFile:
    """Parse, validate and build one rulebook file."""
    file = str(path)
    data = load_file(path)
    if data is None:
        raise CompileError("The rulebook file is empty.", code=codes.EMPTY_RULEBOOK, file=file)
    validate("rulebook", data, file)
    book = _Builder(file, data).build()
    book.data = data
    return book


class _Builder:
    def __init__(self, file: str, data: dict):
        self.file = file
        self.data = data
        self.namespace = data["rulebook"]
        self.sources = {name: dict(src) for name, src in (data.get("sources") or {}).items()}

    # -- helpers ------------------------------------------------------------------------------
    def expr(self, raw, container, key, where: str):
        return parse_expression(raw, file=self.file, line=line_of(container, key), field=where)

    def cites(self, raw, container, key) -> tuple:
        if raw is None:
            return ()
        items = raw if isinstance(raw, list) else [raw]
        out = []
        for item in items:
            try:
                citation = citation_lib.build(item, self.sources)
                if isinstance(item, dict) and item.get("ref") in self.sources:
                    citation = archives.declare(citation, self.sources[item["ref"]])
                elif isinstance(item, dict):
                    # an inline citation of a document this file's sources declare archived
                    named = next((s for s in self.sources.values() if s.get("archived")
                                  and s.get("source") == item.get("source")), None)
                    if named is not None:
                        citation = archives.declare(citation, named)
                out.append(citation)
            except KeyError as exc:
                known = ", ".join(sorted(self.sources)) or "none"
                raise CompileError(f"The citation refers to the source {exc} but this file's "
                                   f"`sources` has no such entry (it has: {known}).",
                                   code=codes.UNKNOWN_SOURCE,
                                   file=self.file, line=line_of(container, key),
                                   field="citation.ref") from None
            except ValueError as exc:
                raise CompileError(f"The source {item.get('ref')} declares an archive date that "
                                   f"is not a date: {exc}.", code=codes.UNKNOWN_SOURCE, file=self.file,
                                   line=line_of(container, key), field="sources.archived") from None
        return tuple(out)

    def rounding(self, raw, container) -> Rounding | None:
        if raw is None:
            return None
        try:
            return Rounding(raw["mode"], raw["to"])
        except (NotANumber, KeyError) as exc:
            raise CompileError(f"The rounding {dict(raw)} is not valid: {exc}.",
                               code=codes.BAD_ROUNDING,
                               file=self.file, line=line_of(container, "round"), field="round") from None

    def reason(self, raw, container, key="because"):
        if raw is None:
            return None
        return Reason(str(raw), self.file, line_of(container, key))

    # -- build ----------------------------------------------------------------------------------
    def build(self) -> RulebookFile:
        d = self.data
        book = RulebookFile(self.file, self.namespace, str(d["version"]), d.get("title"),
                            list(d.get("uses") or []))
        for name, raw in (d.get("parameters") or {}).items():
            book.parameters[name] = self.parameter(name, raw, d["parameters"])
        for name, raw in (d.get("functions") or {}).items():
            book.functions[name] = self.definition(Function, name, raw, d["functions"])
        for name, raw in (d.get("rules") or {}).items():
            book.rules[name] = self.definition(Rule, name, raw, d["rules"])
        if "charts" in d and "tables" in d:
            raise CompileError("The rulebook gives both `charts:` and `tables:`, the older name of "
                               "`charts:`; move every chart under `charts:`.",
                               code=codes.CHARTS_AND_TABLES, file=self.file,
                               line=line_of(d, "tables"), field="tables")
        section = "charts" if "charts" in d else "tables"      # `tables:` is the older name
        for name, raw in (d.get(section) or {}).items():
            book.charts[name] = self.chart(name, raw, d[section])
        for name, raw in (d.get("entities") or {}).items():
            book.entities[name] = self.entity(name, raw, d["entities"])
        self.case_actions(book)
        book.description = d.get("description")
        book.not_modelled = literate.build_notes(self, d, "not_modelled")
        book.assumptions = literate.build_notes(self, d, "assumptions")
        return book

    def case_actions(self, book: RulebookFile) -> None:
        """Section 11: calendars, counting rules, deadlines (each also a function), notices and
        change comparisons, built by the modules that evaluate them."""
        d = self.data
        for name, raw in (d.get("calendars") or {}).items():
            book.calendars[name] = holidays.build_calendar(self, name, raw, d["calendars"])
        for name, raw in (d.get("counting") or {}).items():
            book.counting[name] = deadlines.build_counting(self, name, raw, d["counting"])
        for name, raw in (d.get("deadlines") or {}).items():
            book.deadlines[name], functions = deadlines.build_deadline(self, name, raw, d["deadlines"])
            for function in functions:
                if function.short in book.functions:
                    raise CompileError(f"The deadline {name} makes a function {function.name}, but "
                                       "this file already defines a function of that name.",
                                       code=codes.DEFINED_TWICE, file=self.file, line=function.line,
                                       field=function.name)
                book.functions[function.short] = function
        for name, raw in (d.get("notices") or {}).items():
            book.notices[name] = notices.build_notice(self, name, raw, d["notices"])
        for name, raw in (d.get("changes") or {}).items():
            book.changes[name] = mass_change.build_change(self, name, raw, d["changes"])
        for name, raw in (d.get("recipients") or {}).items():
            book.recipients[name] = recipients.build_recipients(self, name, raw, d["recipients"])

    def parameter(self, name: str, raw: dict, parent) -> Parameter:
        qualified = f"{self.namespace}.{name}"
        kind = raw.get("kind", "scalar")
        unit = raw["unit"]
        entries = []
        values = raw["values"]
        for start, entry_raw in values.items():
            line = line_of(values, start)
            long_form = isinstance(entry_raw, dict) and "value" in entry_raw and (
                kind != "table" or set(entry_raw) <= {"value", "citation", "note", "until", "each_additional", "gap"})
            value = entry_raw["value"] if long_form else entry_raw
            try:
                converted = self.convert_value(kind, unit, value)
                each_additional = None
                if long_form and entry_raw.get("each_additional") is not None:
                    each_additional = to_decimal(entry_raw["each_additional"])
            except (NotANumber, ValueError, TypeError) as exc:
                raise CompileError(f"Parameter {qualified}: the value for {start} is not valid "
                                   f"for unit {unit}: {exc}.", code=codes.BAD_VALUE, file=self.file,
                                   line=line, field=f"{qualified}.values.{start}") from None
            until = dt.date.fromisoformat(entry_raw["until"]) if long_form and entry_raw.get("until") else None
            entries.append(Entry(dt.date.fromisoformat(start), until, converted,
                                 self.cites(entry_raw.get("citation") if long_form else None, entry_raw, "citation")
                                 if long_form else (), each_additional,
                                 entry_raw.get("note") if long_form else None, line))
        return Parameter(qualified, kind, unit, entries, self.cites(raw.get("citation"), raw, "citation"),
                         rounding=self.rounding(raw.get("round"), raw), key=raw.get("key"),
                         title=raw.get("title"), description=raw.get("description"),
                         update_cycle=raw.get("update_cycle"), published=raw.get("published"),
                         file=self.file, line=line_of(parent, name))

    def convert_value(self, kind, unit, value):
        if kind == "bands":
            bands = []
            for band in value:
                bands.append(Band(to_decimal(band["from"]) if band.get("from") is not None else None,
                                  bool(band.get("from_inclusive", True)),
                                  to_decimal(band["to"]) if band.get("to") is not None else None,
                                  bool(band.get("to_inclusive", True)),
                                  self.convert_scalar(unit, band["value"])))
            return tuple(bands)
        if kind == "table":
            return {(int(k) if isinstance(k, int) else k): self.convert_scalar(unit, v)
                    for k, v in value.items()}
        return self.convert_scalar(unit, value)

    @staticmethod
    def convert_scalar(unit, value):
        if value is None:
            return None
        if unit in NUMERIC_UNITS:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            return to_decimal(value)
        if unit == "boolean" and not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        if unit == "date":
            return dt.date.fromisoformat(str(value))
        return value

    def definition(self, cls, name: str, raw: dict, parent):
        qualified = f"{self.namespace}.{name}"
        line = line_of(parent, name)
        body = self.body(qualified, raw)
        kwargs = dict(name=qualified, namespace=self.namespace, short=name, body=body,
                      citations=self.cites(raw.get("citation"), raw, "citation"),
                      rounding=self.rounding(raw.get("round"), raw),
                      because=self.reason(raw.get("because"), raw),
                      because_text=raw.get("because"), title=raw.get("title"),
                      description=raw.get("description"), type=raw.get("type", "any"),
                      unit=raw.get("unit"), published=raw.get("published") or [],
                      says=raw.get("says"), enum=tuple(raw["enum"]) if raw.get("enum") else None,
                      file=self.file, line=line)
        if cls is Rule:
            output_when = self.expr(raw["output_when"], raw, "output_when", f"{qualified}.output_when") \
                if "output_when" in raw else None
            return Rule(**kwargs, entity_name=raw["entity"], output=bool(raw.get("output", False)),
                        output_when=output_when, summary=bool(raw.get("summary", False)),
                        transparent=bool(raw.get("transparent", False)),
                        value_names=raw.get("value_names"))
        return Function(**kwargs, args=list(raw.get("args") or []))

    def outcome(self, value, container, key, where: str, enum):
        """A value a rule gives (`then`, `otherwise`, `default`). Where the rule declares its
        `enum`, a value written as one of those words (`then: CHIP_75`) is that text; a text
        literal outside the enum is an error (E327)."""
        if enum and isinstance(value, str) and value.strip() in enum:
            value = json.dumps(value.strip())
        expression = self.expr(value, container, key, where)
        if enum and isinstance(expression.constant, str) and expression.constant not in enum:
            raise CompileError(f"{where} gives {expression.constant!r}, which is not one of the "
                               f"values the rule declares in `enum` ({', '.join(enum)}).",
                               code=codes.ENUM_LITERAL, file=self.file, line=line_of(container, key),
                               field=where)
        return expression

    def body(self, qualified: str, raw: dict):
        enum = raw.get("enum")
        if "formula" in raw:
            return FormulaBody(self.expr(raw["formula"], raw, "formula", f"{qualified}.formula"))
        if "conditions" in raw:
            items = raw["conditions"]
            conditions = []
            for i, item in enumerate(items):
                where = f"{qualified}.conditions[{i}]"
                if "otherwise" in item:
                    when, then = None, self.outcome(item["otherwise"], item, "otherwise",
                                                    where + ".otherwise", enum)
                else:
                    when = self.expr(item["when"], item, "when", where + ".when")
                    then = self.outcome(item["then"], item, "then", where + ".then", enum)
                conditions.append(Condition(when, then, self.cites(item.get("citation"), item, "citation"),
                                            self.reason(item.get("because"), item), line_of(items, i),
                                            says=item.get("says")))
            return ConditionsBody(conditions, self.file, line_of(raw, "conditions"))
        if "table" in raw:
            table = raw["table"]
            inputs_raw = table.get("inputs") or {}
            inputs = [(n, self.expr(e, inputs_raw, n, f"{qualified}.table.inputs.{n}"))
                      for n, e in inputs_raw.items()]
            rows = []
            for i, row in enumerate(table["rows"]):
                where = f"{qualified}.table.rows[{i}]"
                tests = []
                when = row.get("when") or {}
                for input_name, cell_raw in when.items():
                    if input_name not in inputs_raw:
                        raise CompileError(f"Row {i + 1} of the decision table of {qualified} tests "
                                           f"'{input_name}', which is not one of its inputs "
                                           f"({', '.join(inputs_raw)}).",
                                           code=codes.UNKNOWN_TABLE_INPUT, file=self.file,
                                           line=line_of(when, input_name), field=f"{where}.when.{input_name}")
                    cell = parse_cell(cell_raw, lambda text, w=when, k=input_name:
                                      self.expr(text, w, k, f"{where}.when.{k}"))
                    if cell.op != "any":
                        tests.append((input_name, cell))
                rows.append(Row(tests, self.outcome(row["then"], row, "then", where + ".then", enum),
                                self.cites(row.get("citation"), row, "citation"),
                                self.reason(row.get("because"), row), line_of(table["rows"], i),
                                says=row.get("says")))
            default = self.outcome(table["default"], table, "default", f"{qualified}.table.default",
                                   enum) if "default" in table else None
            return DecisionTableBody(table.get("hit_policy", "first"), inputs, rows, default,
                                     self.file, line_of(raw, "table"))
        agg = raw["aggregate"]
        def opt(key):
            return self.expr(agg[key], agg, key, f"{qualified}.aggregate.{key}") if key in agg else None
        return AggregateBody(agg["function"], agg["over"], opt("where"), opt("of"), opt("default"),
                             self.file, line_of(raw, "aggregate"))

    def chart(self, name: str, raw: dict, parent) -> Chart:
        qualified = f"{self.namespace}.{name}"
        groups = []
        for i, group in enumerate(raw["groups"]):
            where = f"{qualified}.groups[{i}]"
            fe = group.get("for_each") or {}
            row = group["row"]
            groups.append(ChartGroup(
                [(v, self.expr(e, fe, v, f"{where}.for_each.{v}")) for v, e in fe.items()],
                [(c, self.expr(e, row, c, f"{where}.row.{c}")) for c, e in row.items()],
                self.expr(group["when"], group, "when", f"{where}.when") if "when" in group else None,
                self.cites(group.get("citation"), group, "citation"), line_of(raw["groups"], i)))
        return Chart(qualified, self.namespace, name, raw.get("title"), raw.get("description"),
                     list(raw.get("columns") or []), groups,
                     self.cites(raw.get("citation"), raw, "citation"), raw.get("published") or [],
                     self.file, line_of(parent, name))

    def check_fact(self, kind: str, name: str, spec: FactSpec, facts_raw) -> None:
        """The relation and date properties of a fact fit its type (E313)."""
        problem = None
        if (spec.outside_case or spec.acyclic or spec.mutual) and not spec.references:
            problem = "uses outside_case, acyclic or mutual, which need `references: KIND`"
        elif spec.not_after is not None and spec.type != "date":
            problem = "uses not_after, which needs `type: date`"
        elif spec.whole_years_since is not None:
            other = facts_raw.get(spec.whole_years_since)
            if spec.type != "integer" or not isinstance(other, dict) or other.get("type") != "date":
                problem = (f"uses whole_years_since: {spec.whole_years_since}, which needs "
                           "`type: integer` and a date fact of the same entity with that name")
        if problem:
            raise CompileError(f"The fact '{name}' of '{kind}' {problem}.", code=codes.ENTITIES,
                               file=self.file, line=line_of(facts_raw, name),
                               field=f"{kind}.{name}")

    def entity(self, name: str, raw: dict, parent) -> EntityKind:
        facts = {}
        facts_raw = raw.get("facts") or {}
        for fact_name, spec in facts_raw.items():
            enum = spec.get("enum")
            default = spec.get("default")
            facts[fact_name] = FactSpec(
                fact_name, spec["type"], bool(spec.get("required", True)), default,
                "default" in spec, tuple(enum) if enum is not None else None,
                spec.get("minimum"), spec.get("maximum"), spec.get("description"),
                self.file, line_of(facts_raw, fact_name), spec.get("references"),
                bool(spec.get("outside_case")), bool(spec.get("acyclic")),
                bool(spec.get("mutual")), spec.get("not_after"), spec.get("whole_years_since"),
                {k: spec[k] for k in PROPERTIES if k in spec} or None)
            self.check_fact(name, fact_name, facts[fact_name], facts_raw)
        return EntityKind(name, facts, None, raw.get("parent"), raw.get("collection"),
                          raw.get("id"), {}, self.file, line_of(parent, name))
