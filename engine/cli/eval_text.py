"""The text output of ``policy eval``: a summary a person can read first, then every result.

Values are written for people, never in Python's spelling: yes/no, "no value" for a rule that gave
none and "none" for an empty list, money as ``$5,199.60``, percentages with ``%``, and a code
with its plain name when the rule names its values (``value_names``). Which results open the
summary is data too: the rules marked ``summary: true``.
"""

from __future__ import annotations

from decimal import Decimal

from ..language.numbers import money_text
from ..language.reasons import shown
from ..model.archives import dated
from ..runtime.trace import FactRead, Node

#: Citations shown per result in the details; --explain and JSON show them all.
TEXT_CITATIONS = 4


def render_text(evaluation, engine, explain: bool = False, provenance: bool = False) -> str:
    lines = [f"Case {evaluation.case_id} as of {evaluation.as_of.isoformat()}"]
    summary = _summary(evaluation, engine)
    if summary:
        lines += ["", "Summary"] + summary
    current = object()
    for result in evaluation.results:
        if result.person != current:
            current = result.person
            lines.append("")
            lines.append(f"Person {current}" if current is not None else "Case")
        label = result.title or result.name
        lines.append(f"  {label} ({result.name}): {value_text(result, engine)}")
        because = result.because
        if because:
            lines.append(f"      because {because}")
        lines.append(f"      cites {_citations(dated(result.citations, result.as_of), explain)}")
        if provenance or explain:
            read = result.provenance
            lines.append(f"      read {len(read)} section(s): "
                         + "; ".join(dict.fromkeys(c.short() for c in read)))
        if explain:
            lines.extend(_tree(result.node, "        ", set()))
    return "\n".join(lines)


# -- values --------------------------------------------------------------------------------------

def value_text(result, engine=None) -> str:
    """A result's value as a person reads it."""
    value = result.value
    definition = result.node.definition
    if value is None:
        return "no value"
    kind = definition.type
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        if kind == "money":
            return money_text(value)
        if kind == "percent":
            return f"{format(value, ',f')}%"
    text = plain(value)
    names = getattr(definition, "value_names", None)
    if names and engine is not None and isinstance(value, str):
        name = _plain_name(engine, names, value, result.as_of)
        if name:
            text = f"{name} ({text})"
    return text


def plain(value) -> str:
    """Any value as words: yes/no, no value, a list's items (or none), 5,199.60."""
    out = shown(value)
    return str(out)


def _plain_name(engine, parameter: str, value: str, as_of):
    try:
        names = engine.parameter(parameter, as_of)
        return names.lookup(value)
    except Exception:       # no name for this value on this date: show the code alone
        return None


# -- summary -------------------------------------------------------------------------------------

def _summary(evaluation, engine) -> list[str]:
    rows: list[tuple[str, str, str]] = []
    for result in evaluation.results:
        if not getattr(result.node.definition, "summary", False):
            continue
        value = result.value
        if value == [] or (value is None and result.person is not None):
            continue        # nothing due; a program that does not apply to this person
        who = result.person if result.person is not None else "case"
        label = _short_title(result)
        rows.append((str(who), label, value_text(result, engine)))
    if not rows:
        return []
    width = max(len(who) for who, _, _ in rows)
    out, previous = [], None
    for who, label, text in rows:
        shown_who = who if who != previous else ""
        previous = who
        out.append(f"  {shown_who:<{width}}  {label}: {text}")
    return out


def _short_title(result) -> str:
    """The title up to its first parenthesis or comma-free clause: a summary line stays short."""
    title = result.title or result.name
    for cut in (" (", ", or ", " for a person", " for the ", " under MAGI rules"):
        index = title.find(cut)
        if index > 0:
            title = title[:index]
    return title


# -- citations and the trace ---------------------------------------------------------------------

def _citations(citations, explain: bool) -> str:
    shorts = list(dict.fromkeys(c.short() for c in citations))
    if explain or len(shorts) <= TEXT_CITATIONS:
        return "; ".join(shorts)
    more = len(shorts) - TEXT_CITATIONS
    return "; ".join(shorts[:TEXT_CITATIONS]) + \
        f" (and {more} more; --explain or --format json lists them all)"


def _tree(record, indent: str, seen: set) -> list[str]:
    """The trace as an indented tree: each rule or function with its value, its own sections and
    what it read below it; a value met again in the same tree says so instead of repeating."""
    lines = [indent + _describe(record)]
    if record.__class__ is not Node:
        return lines
    if id(record) in seen:
        lines[-1] += " (shown above)"
        return lines
    seen.add(id(record))
    for dep in record.deps:
        lines.extend(_tree(dep, indent + "  ", seen))
    return lines


def _describe(record) -> str:
    if isinstance(record, FactRead):
        return f"fact {record.name} of {record.entity.label()} = {plain(record.value)}"
    if isinstance(record, Node):
        definition = record.definition
        args = f"({', '.join(plain(a) for a in record.args)})" if record.args is not None else ""
        who = f" for {record.entity.label()}" if record.entity is not None else ""
        value = plain(record.value)
        if definition.type == "money" and isinstance(record.value, (int, Decimal)) \
                and not isinstance(record.value, bool):
            value = money_text(record.value)
        own = record.branch_citations or definition.citations
        cites = "; ".join(dict.fromkeys(c.short() for c in own))
        return f"{record.kind_label} {record.name}{args}{who} = {value}" + \
            (f"  [{cites}]" if cites else "")
    # A parameter value.
    until = record.effective_to.isoformat() if record.effective_to else None
    period = f"in force {record.effective_from.isoformat()} " + \
        (f"to {until}" if until else "until changed")
    cites = "; ".join(dict.fromkeys(c.short() for c in record.citations))
    return f"parameter {record.name} = {_parameter_value(record.value)} ({period})" + \
        (f"  [{cites}]" if cites else "")


def _parameter_value(value) -> str:
    if isinstance(value, dict):
        items = list(value.items())
        text = ", ".join(f"{k}: {plain(v)}" for k, v in items[:6])
        return "{" + text + (", ..." if len(items) > 6 else "") + "}"
    if isinstance(value, (list, tuple)) and value and hasattr(value[0], "describe"):
        # Bands: each range and its value, as a person reads a chart (not Python's repr).
        text = ", ".join(f"{band.describe()}: {plain(band.value)}" for band in value[:6])
        return text + (f", ... ({len(value)} bands)" if len(value) > 6 else "")
    return plain(value)
