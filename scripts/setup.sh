#!/usr/bin/env bash
# Create (once) the project's virtual environment in .venv and install the engine into it.
# Sourced by demo.sh and test.sh; needs only Python 3.11+ and access to PyPI.
#
# Versions come from requirements.lock (pip constraints written by scripts/lock.sh), so every
# machine tests the same dependency set. The engine is installed again whenever pyproject.toml,
# requirements.lock or the extras asked for change (a fingerprint is kept in .venv/.installed).
# POLICY_EXTRAS chooses the extras (default: test,spark). The engine's bytecode is compiled at the end.
# The spark extra is installed too (pyspark is large, about 450 MB), so that the Spark runner's
# tests run; POLICY_EXTRAS=test leaves it out (those tests then skip and say why).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
EXTRAS="${POLICY_EXTRAS:-test,spark}"
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  "$PYTHON" -m venv "$ROOT/.venv"
fi
# shellcheck disable=SC1091
. "$ROOT/.venv/bin/activate"
FINGERPRINT="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements.lock" 2>/dev/null | python -c \
  "import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())") extras=$EXTRAS"
if [ "$(cat "$ROOT/.venv/.installed" 2>/dev/null)" != "$FINGERPRINT" ] || ! python -c "import engine" 2>/dev/null; then
  CONSTRAINTS=()
  [ -f "$ROOT/requirements.lock" ] && CONSTRAINTS=(--constraint "$ROOT/requirements.lock")
  # Sourced scripts may run with errexit suspended (`. setup.sh || ...`): test the result here,
  # so that a failed install is never recorded as done.
  if ! python -m pip install --quiet --disable-pip-version-check "${CONSTRAINTS[@]}" -e "$ROOT[$EXTRAS]"; then
    echo "setup: pip could not install the engine and its dependencies (see above)." >&2
    return 1 2>/dev/null || exit 1
  fi
  echo "$FINGERPRINT" > "$ROOT/.venv/.installed"
fi
# The engine is installed editable, so its bytecode lives beside the sources; where
# PYTHONDONTWRITEBYTECODE is set (as on CI machines) Python would compile every engine module
# again on every start, about a third of a cold `policy eval`. Compile it here, as `pip install .`
# does for a regular install (Python still reads bytecode under that setting; a module edited
# since is compiled in memory until the next set-up). Quick when nothing changed.
python -m compileall -q -j 0 "$ROOT/engine" >/dev/null || true
