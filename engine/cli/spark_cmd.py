"""``--runner spark`` for ``policy batch`` and ``policy change --cases``: start (or join) a Spark
session, ship the rulebooks, run, and turn whatever stops Spark into one clear message.

pyspark is an optional extra (``pip install ".[spark]"``), so it is imported only when a command
asks for Spark; without it the command says how to install it and exits 2.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError, PolicyError, codes
from ..io.paths import default_policy_dir



def _runner():
    try:
        from ..tools import spark_runner
    except ImportError as exc:
        raise InputError(f"--runner spark needs pyspark, which is not installed ({exc}). Install "
                         "the extra with: pip install \".[spark]\" (it also needs Java 17 or "
                         "newer).", code=codes.SPARK_UNAVAILABLE, field="--runner") from None
    return spark_runner


@contextmanager
def _spark_errors():
    """A failure of Spark itself (a JVM that does not start, a job that fails) becomes one
    paragraph, not a Java stack trace."""
    try:
        yield
    except (PolicyError, KeyboardInterrupt):
        raise
    except Exception as exc:
        text = str(exc).strip().splitlines()
        first = next((line for line in text if line.strip()), type(exc).__name__)
        cause = next((line.strip() for line in reversed(text)
                      if line.strip().startswith(("RuntimeError", "ValueError", "OSError"))), "")
        raise InputError(f"The Spark run failed: {first[:400]}{' ' + cause[:400] if cause else ''}"
                         " (set POLICY_DEBUG=1 for Spark's own report).", code=codes.SPARK_UNAVAILABLE,
                         field="--runner") from exc


def _bundle(runner, policy: Path | None) -> bytes:
    """The rulebooks the driver's engine was loaded from: ``--policy``, else ``POLICY_BUNDLE``
    (as :meth:`Engine.load` chooses), else the default directory."""
    if policy is None and os.environ.get("POLICY_BUNDLE"):
        return runner.bundle_bytes(bundle=os.environ["POLICY_BUNDLE"])
    return runner.bundle_bytes([policy or default_policy_dir()])


def spark_batch(tasks, write, *, engine, policy: Path | None, master: str | None, as_of, names,
                citations: str, because: bool, ids, nulls: bool | None = None):
    runner = _runner()
    blob = _bundle(runner, policy)
    with _spark_errors(), runner.owned_session(master) as spark:
        return runner.run_batch(tasks, write, engine=engine, blob=blob, spark=spark, as_of=as_of,
                                names=names, citations=citations, because=because, ids=ids,
                                nulls=nulls)


def spark_caseload(pairs, write, options, *, engine, policy: Path | None, master: str | None,
                   citations):
    runner = _runner()
    blob = _bundle(runner, policy)
    with _spark_errors(), runner.owned_session(master) as spark:
        return runner.run_caseload(pairs, write, options, engine=engine, blob=blob, spark=spark,
                                   citations=citations)
