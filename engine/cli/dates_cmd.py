"""``policy dates START DEADLINE``: a due date, how it was counted, and its citations.

The rulebooks' own "Date Calculator": the period, the day it counts from, every move past a
weekend or holiday, and any assumption the counting rests on. ``--list`` lists the deadlines and
``--holidays YEAR`` the holidays of the rulebooks' calendars.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..actions import deadlines as deadline_lib
from ..language.dates import parse_date
from ..errors import InputError, PolicyError, codes
from ..model.calendars import WEEKDAYS
from .common import CANNOT_RUN, Format, PolicyOption, error, exits, load_engine, print_json
from ..runtime.state import State, decimal_context


class Roll(str, Enum):
    next_business_day = "next_business_day"
    previous_business_day = "previous_business_day"
    none = "none"


def dates_command(
    start: Optional[str] = typer.Argument(None, help="The date the period counts from (YYYY-MM-DD)."),
    deadline: Optional[str] = typer.Argument(None, help="The deadline, e.g. im31a or deadlines.im31a."),
    list_: bool = typer.Option(False, "--list", help="List the deadlines, each period as in force today (or on START)."),
    extended: bool = typer.Option(False, "--extended", help="Count the deadline with its extension."),
    roll: Optional[Roll] = typer.Option(None, "--roll", help="Override where a last day that is not a business day moves."),
    holidays: Optional[int] = typer.Option(None, "--holidays", metavar="YEAR", help="List the holidays of the rulebooks' calendars in a year."),
    format: Format = typer.Option(Format.text, "--format", help="Output format."),
    policy: Optional[Path] = PolicyOption,
):
    """Count a deadline from a date: the due date, how it was counted, and its citations."""
    with exits():
        engine = load_engine(policy)
        program = engine.program
        if list_:
            _list(engine, format, start)
            return
        if holidays is not None:
            _holidays(program, holidays, format)
            return
        if start is None or deadline is None:
            error("Give a start date and a deadline (policy dates 2025-06-06 im31a), or --list.")
            raise typer.Exit(CANNOT_RUN)
        try:
            start_date = parse_date(start)
        except ValueError as exc:
            raise InputError(f"The start date {exc}.", code=codes.BAD_DATE, field="START") from None
        result = deadline_lib.explain(engine, deadline, start_date,
                                      roll=roll.value if roll else None, extended=extended)
        if format == Format.json:
            print_json(result.as_dict())
        else:
            typer.echo(render_text(result))


def render_text(result) -> str:
    d = result.deadline
    counted = "business days" if d.counting.days == "business" else "calendar days"
    lines = [f"{d.title} ({d.name}{', extended' if result.extended else ''})",
             f"  due: {result.due.isoformat()} ({WEEKDAYS[result.due.weekday()].capitalize()})",
             f"  counts from: {d.counts_from}: {result.start.isoformat()}",
             f"  period: {deadline_lib.plural(result.amount, result.unit)} ({counted}; the day it "
             f"counts from is not counted; last day: {_roll_words(result.roll)})"]
    if result.extended and d.extension is not None and d.extension.when:
        lines.append(f"  extension: when {d.extension.when}")
    lines.append("  counting:")
    lines.extend(f"    - {step}" for step in result.steps)
    if d.note and not d.assumed:
        lines.append(_wrap("note: " + d.note))
    for note in result.assumptions:
        note = " ".join(note.split())
        lines.append(_wrap(note if note.lower().startswith("assumption") else "assumed: " + note))
    lines.append("  cites:")
    lines.extend(f"    - {c.short()}" for c in result.citations)
    return "\n".join(lines)


def _roll_words(roll: str) -> str:
    return {"next_business_day": "moved to the next business day when it is not one",
            "previous_business_day": "moved to the previous business day when it is not one",
            "none": "never moved"}[roll]


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, width=100, initial_indent="  ", subsequent_indent="    "))


def _period_on(engine, deadline, on):
    """The deadline's period under the policy in force on ``on`` (a period may be a dated
    parameter: 90 days, then 95 from April 11, 2024), or its expression when it cannot be read."""
    try:
        on = parse_date(on)
        state = State(engine.program, engine.cache, on, engine.reference)
        with decimal_context():
            return deadline_lib.period_length(state, deadline.amount, on,
                                              f"The period of {deadline.name}")
    except (PolicyError, ValueError):
        return deadline.amount.text


def _list(engine, format: Format, on=None) -> None:
    program = engine.program
    on = on or dt.date.today().isoformat()
    rows = []
    for d in program.deadlines.values():
        period = _period_on(engine, d, on)
        rows.append({"name": d.name, "title": d.title, "period": {"amount": period, "unit": d.unit},
                     "counts_from": d.counts_from, "counting": d.counting.name,
                     "roll": d.effective_roll, "end": d.end,
                     "extension": None if d.extension is None else {
                         "mode": d.extension.mode, "unit": d.extension.unit,
                         "amount": d.extension.amount.text, "when": d.extension.when},
                     "assumed": d.assumed or d.counting.assumed,
                     "citations": [c.as_dict() for c in d.citations]})
    if format == Format.json:
        print_json({"deadlines": rows})
        return
    if not rows:
        typer.echo("The rulebooks declare no deadlines.")
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        amount = r["period"]["amount"]
        period = (deadline_lib.plural(amount, r["period"]["unit"]) if isinstance(amount, int)
                  else f"({amount}) {r['period']['unit']}")
        extra = " (extendable)" if r["extension"] else ""
        typer.echo(f"{r['name'].ljust(width)}  {period}{extra}: {r['title']}")


def _holidays(program, year: int, format: Format) -> None:
    out = {}
    for calendar in program.calendars.values():
        try:
            days = calendar.holidays_in(year)
        except ValueError as exc:
            raise InputError(f"Cannot list holidays: {exc}.", code=codes.BAD_DATE) from None
        out[calendar.name] = [{"date": d.isoformat(), "weekday": WEEKDAYS[d.weekday()], "name": n}
                              for d, n in days.items()]
    if format == Format.json:
        print_json({"year": year, "calendars": out})
        return
    for name, days in out.items():
        calendar = program.calendars[name]
        typer.echo(f"{calendar.title or name} ({name}), {year}:")
        for item in days:
            typer.echo(f"  {item['date']} {item['weekday'].capitalize():<9} {item['name']}")
        typer.echo("  cites: " + "; ".join(c.short() for c in calendar.citations))
