"""What ``policy eval`` does once its arguments are read, without Typer.

``policy eval`` is started once per case by scripts and other programs, so its start-up time is
paid again and again. Typer (with Click and, for its parameter conversion, pydantic) costs more
to import and to run than evaluating the case does; :mod:`engine.cli.fast` therefore reads the
usual forms of the command line itself (:func:`arguments`) and calls :func:`run`, and hands
anything else (``--help``, a misspelt option, a missing value) to the Typer command, which words
the error. ``eval_cmd.eval_command`` calls :func:`run` too, so both print the same bytes.

Output goes through :func:`echo`, which writes as Click's ``echo`` does: Click removes terminal
escape sequences from text written to a pipe or file, and writes UTF-8 to a stream whose
encoding is ASCII; text where either could matter is handed to Click itself.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

from ..errors import CaseError, PolicyError, codes

OK, CANNOT_RUN = 0, 2
#: Exit code after Ctrl-C (128 + SIGINT), as ``cli.common.exits`` gives it.
INTERRUPTED = 130

#: Options of ``policy eval`` that take a value, and the flags.
_VALUED = {"--as-of": "as_of", "--format": "format", "--only": "only", "--policy": "policy"}
_FLAGS = {"--explain": "explain", "--provenance": "provenance"}
_FORMATS = ("json", "text")


def arguments(argv: list[str]) -> dict | None:
    """The arguments of ``policy eval`` (after ``eval``) as :func:`run` takes them, or None when
    the command line is anything but the plain forms (help, an unknown or repeated-flag form,
    an option without its value, a format other than ``json`` or ``text``): Typer reads those
    and words any error."""
    found: dict = {"case": None, "as_of": None, "format": "text", "explain": False,
                   "provenance": False, "only": [], "policy": None}
    index = 0
    while index < len(argv):
        item = argv[index]
        index += 1
        if item.startswith("--"):
            name, equals, value = item.partition("=")
            if name in _FLAGS and not equals:
                found[_FLAGS[name]] = True
                continue
            key = _VALUED.get(name)
            if key is None:
                return None
            if not equals:
                if index >= len(argv) or argv[index].startswith("-"):
                    return None
                value = argv[index]
                index += 1
            if key == "only":
                found["only"].append(value)
            else:
                found[key] = value
        elif item.startswith("-") and item != "-":
            return None
        elif found["case"] is None:
            found["case"] = item
        else:
            return None                  # a second argument: Typer's error
    if found["case"] is None or found["format"] not in _FORMATS:
        return None
    if found["policy"] == "":
        return None
    return found


def load_engine(policy):
    """The engine for ``--policy DIR`` (None: the default rulebooks)."""
    from ..api import Engine
    return Engine.load(Path(policy)) if policy else Engine.load()


def run(case: str, as_of, format: str, explain: bool, provenance: bool, only, policy,
        load=None) -> None:
    """Evaluate the case and print it as ``format`` (``json`` or ``text``); errors propagate.
    ``load`` loads the engine for ``policy`` (default :func:`load_engine`)."""
    from ..io.yaml_loader import loads
    from ..tools.documents import eval_document
    engine = (load or load_engine)(policy)
    names = list(only) if only else None
    if case == "-":
        data = loads(sys.stdin.read(), "<stdin>")
        if not isinstance(data, dict):     # a bare string would be taken for a path
            raise CaseError("A case must be a mapping with `case_id` and `people`.",
                            code=codes.CASE_NOT_MAPPING, file="<stdin>", line=1)
        evaluation = engine.evaluate(data, as_of=as_of, names=names, source="<stdin>")
    else:
        evaluation = engine.evaluate(case, as_of=as_of, names=names)
    if format == "json":
        echo(json.dumps(eval_document(evaluation, explain, provenance), indent=2,
                        ensure_ascii=False))
    else:
        from .eval_text import render_text
        echo(render_text(evaluation, engine, explain, provenance))


def failure(exc: BaseException) -> int:
    """Report an exception the way ``cli.common.exits`` does and give the exit code: a
    ``PolicyError``'s problems (2), an interruption (130), anything else as an internal error
    (2, with the traceback only when ``POLICY_DEBUG`` is set)."""
    if isinstance(exc, PolicyError):
        echo(exc.render(), err=True)
        return CANNOT_RUN
    if isinstance(exc, KeyboardInterrupt):
        echo("Interrupted.", err=True)
        return INTERRUPTED
    if os.environ.get("POLICY_DEBUG"):
        traceback.print_exception(exc)
    echo(f"internal error: {type(exc).__name__}: {exc}. This is a defect in the engine; "
         "set POLICY_DEBUG=1 to see the traceback and report it.", err=True)
    return CANNOT_RUN


def echo(text: str, err: bool = False) -> None:
    """``typer.echo(text, err=err)``: the text and a newline, flushed. Written directly unless
    Click would change it (an escape character; a stream that cannot write UTF-8)."""
    stream = sys.stderr if err else sys.stdout
    encoding = (getattr(stream, "encoding", None) or "ascii").lower().replace("_", "-")
    if "\x1b" in text or encoding not in ("utf-8", "utf8") or stream is None:
        import typer
        typer.echo(text, err=err)
        return
    stream.write(text + "\n")
    stream.flush()


def main(argv: list[str]) -> int | None:
    """Run ``policy eval`` for ``argv`` (after ``eval``) and give the exit code, or None when
    the arguments need Typer (see :func:`arguments`)."""
    parsed = arguments(argv)
    if parsed is None:
        return None
    try:
        run(**parsed)
    except (Exception, KeyboardInterrupt) as exc:
        # As `cli.common.exits` around the Typer command: a broken pipe too is reported.
        return failure(exc)
    return OK

