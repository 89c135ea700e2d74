"""The ``policy`` entry point: a one-case command starts without importing every subcommand.

``policy eval`` is run once per case by scripts and other programs, so its start-up time is
paid again and again. The full application (``cli/app.py``) imports every subcommand's module
and what they need (``check`` needs jsonschema, ``docs`` and ``diff`` more); for the commands
listed in :data:`FAST` this entry point builds a Typer application with that one command only.
Everything else, including ``policy --help``, goes to the full application. ``policy eval`` and
``policy batch`` in their usual forms do not start Typer at all (:mod:`engine.cli.eval_run` and
:mod:`engine.cli.batch_run` read their arguments; Typer, Click and the pydantic they convert
parameters with were a third of ``eval``'s start, and the full application 0.25 s of CPU before
a batch run could start its workers).

Such a command runs with Python's cyclic garbage collector off, and freezes what is alive when
it ends. Starting creates a few hundred thousand objects that live until the process exits (the
modules, the rulebooks): collections while they were made walked all of them again and again,
and the collection Python makes at exit walked them once more, together about a third of a cold
``policy eval``. One case's evaluation leaves little garbage, and the process ends right after.
A batch run switches the collector back on once its rulebooks are loaded (and frozen), since
every household it reads leaves garbage cycles (a case's entities and their scopes refer to
each other; :func:`engine.cli.batch_run.main`).
This is for the process's own entry point: code that embeds the engine calls :class:`Engine`.
"""

from __future__ import annotations

import gc
import importlib
import sys

#: Subcommands started on their own: name -> (module under engine.cli, function).
FAST = {"eval": ("eval_cmd", "eval_command"), "batch": ("batch_cmd", "batch_command")}


def main() -> None:
    argv = sys.argv[1:]
    if argv and argv[0] in FAST:
        gc.disable()
        try:
            if argv[0] == "eval":
                from .eval_run import main as eval_main
                code = eval_main(argv[1:])
                if code is not None:
                    sys.exit(code)
            if argv[0] == "batch":
                from .batch_run import main as batch_main
                code = batch_main(argv[1:])
                if code is not None:
                    sys.exit(code)
            import typer
            module_name, function = FAST[argv[0]]
            module = importlib.import_module(f"{__package__}.{module_name}")
            app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
            app.command(argv[0])(getattr(module, function))
            app(args=argv[1:], prog_name=f"policy {argv[0]}")
        finally:
            gc.freeze()      # nothing alive now is garbage: the collection at exit skips it
            gc.enable()
        return
    from .app import main as full_main
    full_main()
