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
from ..errors import CaseError, PolicyError, codes
from .command_line import load_engine, read

OK, CANNOT_RUN = 0, 2
#: Exit code after Ctrl-C (128 + SIGINT), as ``cli.common.exits`` gives it.
INTERRUPTED = 130

#: Options of ``policy eval`` that take a value, and the flags.
_VALUED = {"--as-of": "as_of", "--format": "format", "--only": "only", "--policy": "policy"}
_FLAGS = {"--explain": ("explain", True), "--provenance": ("provenance", True)}
_FORMATS = ("json", "text")


def arguments(argv: list[str]) -> dict | None:
    """The arguments of ``policy eval`` (after ``eval``) as :func:`run` takes them, or None when
    the command line is anything but the plain forms (help, an unknown or repeated-flag form,
    an option without its value, a format other than ``json`` or ``text``): Typer reads those
    and words any error."""
    found = read(argv, {"case": None, "as_of": None, "format": "text", "explain": False,
                        "provenance": False, "only": [], "policy": None}, "case", _VALUED, _FLAGS)
    if found is None or found["format"] not in _FORMATS or found["policy"] == "":
        return None
    return found


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
    return start(argv, arguments, run)


def start(argv: list[str], arguments, run) -> int | None:
    """``run`` with what ``arguments`` read of ``argv``, its exit code (OK when it gives none),
    any exception reported as :func:`failure` does; None when ``arguments`` leaves ``argv`` to
    Typer. Shared by ``policy eval`` and ``policy batch`` (:mod:`engine.cli.batch_run`)."""
    parsed = arguments(argv)
    if parsed is None:
        return None
    try:
        code = run(**parsed)
    except (Exception, KeyboardInterrupt) as exc:
        # As `cli.common.exits` around the Typer command: a broken pipe too is reported.
        return failure(exc)
    return OK if code is None else code
