"""What every subcommand shares: options, error handling, exit codes, output.

Exit codes (the contract): 0 success; 1 the command ran and found problems (check errors, failed
tests); 2 the command could not run (bad arguments, an unreadable or invalid case file,
rulebooks that do not load). Errors go to stderr as whole sentences with file and line; a
Python traceback is shown only when ``POLICY_DEBUG=1`` is set.
"""

from __future__ import annotations

import json
import os
import traceback
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..api import Engine
from ..errors import PolicyError

OK, PROBLEMS, CANNOT_RUN = 0, 1, 2


class Format(str, Enum):
    json = "json"
    text = "text"


PolicyOption = typer.Option(None, "--policy", help="Rulebook directory (default: ./policy or the repository's policy/).",
                            metavar="DIR")
AsOfOption = typer.Option(None, "--as-of", help="Apply the policy in force on this date (YYYY-MM-DD).",
                          metavar="DATE")


def error(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def exits():
    """Turn engine errors into a message on stderr and the contract's exit code."""
    try:
        yield
    except PolicyError as exc:
        error(exc.render())
        raise typer.Exit(CANNOT_RUN)
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        error("Interrupted.")
        raise typer.Exit(130)
    except Exception as exc:  # a defect in the engine, not bad input
        if os.environ.get("POLICY_DEBUG"):
            traceback.print_exc()
        error(f"internal error: {type(exc).__name__}: {exc}. This is a defect in the engine; "
              "set POLICY_DEBUG=1 to see the traceback and report it.")
        raise typer.Exit(CANNOT_RUN)


def load_engine(policy: Optional[Path]) -> Engine:
    return Engine.load(policy) if policy else Engine.load()


def print_json(data) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def citation_text(citations) -> str:
    return "; ".join(c.short() if hasattr(c, "short") else _short(c) for c in citations)


def _short(c: dict) -> str:
    parts = [c.get("source", "")]
    if c.get("section"):
        parts.append(c["section"])
    return ", ".join(p for p in parts if p)
