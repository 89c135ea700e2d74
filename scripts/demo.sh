#!/usr/bin/env bash
# Set up, then evaluate the bundled example: the Jones family from the MAGI manual (2018).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
policy eval examples/jones.yaml "$@"
