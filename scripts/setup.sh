#!/usr/bin/env bash
# Create (once) the project's virtual environment in .venv and install the engine into it.
# Sourced by demo.sh and test.sh; needs only Python 3.11+ and access to PyPI. The spark extra is
# installed too (pyspark is large, about 450 MB), so that the Spark runner's tests run; set
# POLICY_EXTRAS=test to leave it out (those tests then skip and say why).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  "$PYTHON" -m venv "$ROOT/.venv"
fi
# shellcheck disable=SC1091
. "$ROOT/.venv/bin/activate"
EXTRAS="${POLICY_EXTRAS:-test,spark}"
if ! python -c "import engine, pytest" 2>/dev/null || [ "$ROOT/pyproject.toml" -nt "$ROOT/.venv/.installed" ]; then
  python -m pip install --quiet --disable-pip-version-check -e "$ROOT[$EXTRAS]"
  touch "$ROOT/.venv/.installed"
fi
