#!/usr/bin/env bash
# Set up, then run the whole test suite: pytest (unit tests and YAML cases), `policy check`,
# and `policy test`. Exits non-zero when anything fails.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
python -m pytest
policy check policy
policy test tests/cases
