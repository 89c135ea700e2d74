"""``--runner spark`` for ``policy batch`` and ``policy change --cases``: start (or join) a Spark
session, ship the rulebooks, run, and turn whatever stops Spark into one clear message.

pyspark is an optional extra (``pip install ".[spark]"``), so it is imported only when a command
asks for Spark; without it the command says how to install it and exits 2.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..io.paths import default_policy_dir

E_SPARK = "E114"


def _runner():
    try:
        from ..tools import spark_runner
    except ImportError as exc:
        raise InputError(f"--runner spark needs pyspark, which is not installed ({exc}). Install "
                         "the extra with: pip install \".[spark]\" (it also needs Java 17 or "
                         "newer).", code=E_SPARK, field="--runner") from None
    return spark_runner


def _run(call):
    """Run a Spark job; a failure of Spark itself becomes one paragraph, not a Java stack."""
    try:
        return call()
    except InputError:
        raise
    except Exception as exc:
        text = str(exc).strip().splitlines()
        first = next((line for line in text if line.strip()), type(exc).__name__)
        cause = next((line.strip() for line in reversed(text)
                      if line.strip().startswith(("RuntimeError", "ValueError", "OSError"))), "")
        raise InputError(f"The Spark run failed: {first[:400]}{' ' + cause[:400] if cause else ''}"
                         " (set POLICY_DEBUG=1 for Spark's own report).", code=E_SPARK,
                         field="--runner") from exc


def spark_batch(tasks, write, *, engine, policy: Path | None, master: str | None, as_of, names,
                citations: str, because: bool, ids):
    runner = _runner()
    spark = _run(lambda: runner.session(master))
    blob = runner.bundle_bytes([policy or default_policy_dir()])
    return _run(lambda: runner.run_batch(tasks, write, engine=engine, blob=blob, spark=spark,
                                         as_of=as_of, names=names, citations=citations,
                                         because=because, ids=ids))


def spark_caseload(pairs, write, options, *, engine, policy: Path | None, master: str | None,
                   citations):
    runner = _runner()
    spark = _run(lambda: runner.session(master))
    blob = runner.bundle_bytes([policy or default_policy_dir()])
    return _run(lambda: runner.run_caseload(pairs, write, options, engine=engine, blob=blob,
                                            spark=spark, citations=citations))
