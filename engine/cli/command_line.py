"""Reading the usual forms of a command line without Typer, for :mod:`engine.cli.eval_run` and
:mod:`engine.cli.batch_run`.

Both commands start without Typer (see :mod:`engine.cli.fast`) and must read exactly the same
forms the same way (``--name value``, ``--name=value``, flags, one positional argument, a
repeated ``--only``) and hand every other form to Typer, which words the error. One reader
keeps the two from drifting apart: a form one of them took and the other gave to Typer would be
a difference nobody meant. What differs between the commands (their options, which values each
refuses) is passed in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Optional


def read(argv: list[str], found: dict, positional: str, valued: Mapping[str, str],
         flags: Mapping[str, tuple[str, object]], dash_value: bool = False,
         accept: Optional[Callable[[str, str], object]] = None) -> dict | None:
    """``found`` (the defaults, changed in place) with the arguments of ``argv`` put in, or None
    when ``argv`` is anything Typer should read: an unknown option or one starting with a single
    ``-`` (other than ``-`` itself), a flag written with ``=``, an option without its value (the
    next item starting with ``-``; ``-`` itself is a value when ``dash_value``), a value
    ``accept(key, value)`` refuses (gives None; else the value to keep), a second positional
    argument or none. ``valued`` maps an option to its key (``only`` is a list, appended to),
    ``flags`` an option to its key and value; the positional argument goes to ``positional``."""
    index = 0
    while index < len(argv):
        item = argv[index]
        index += 1
        if item.startswith("--"):
            name, equals, value = item.partition("=")
            if name in flags and not equals:
                flag_key, flag = flags[name]
                found[flag_key] = flag
                continue
            key = valued.get(name)
            if key is None:
                return None
            if not equals:
                if index >= len(argv) or (argv[index].startswith("-")
                                          and not (dash_value and argv[index] == "-")):
                    return None
                value = argv[index]
                index += 1
            if key == "only":
                found["only"].append(value)
                continue
            kept = accept(key, value) if accept is not None else value
            if kept is None:
                return None
            found[key] = kept
        elif item.startswith("-") and item != "-":
            return None
        elif found[positional] is None:
            found[positional] = item
        else:
            return None                  # a second argument: Typer's error
    if found[positional] is None:
        return None
    return found


def load_engine(policy):
    """The engine for ``--policy DIR`` (None: the default rulebooks)."""
    from ..api import Engine
    return Engine.load(Path(policy)) if policy else Engine.load()
