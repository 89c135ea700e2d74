#!/usr/bin/env bash
# Set up, then run every stage of the test suite: pytest (unit tests, YAML cases, the hostile
# corpus and the fuzzing properties), `policy check`, `policy test` and `policy fmt --check`.
#
# Every stage runs even when an earlier one fails. The end of the output is one summary line per
# stage and then a closing line `N passed, N failed` that adds up the stages' own counts (pytest's
# tests, policy test's cases, and policy check as one check); a stage that fails without a
# count of its own counts as one failure. The exit code is non-zero when any stage failed.
# Arguments are passed on to pytest (for example -x, or -k NAME).
#
# To add a stage, add a line to STAGES: "label|command".
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/scripts/setup.sh" || { echo "set-up failed"; echo "0 passed, 1 failed"; exit 1; }
set +e
cd "$ROOT"

PYTEST_ARGS=""
[ $# -gt 0 ] && PYTEST_ARGS="$(printf '%q ' "$@")"
STAGES=(
  "pytest|python -m pytest -p no:cacheprovider $PYTEST_ARGS"
  "policy check|policy check policy"
  "policy test|policy test tests/cases"
  "policy fmt|policy fmt --check policy"
)

LOG="$(mktemp -d)"
trap 'rm -rf "$LOG"' EXIT
summary=()
total_passed=0
total_failed=0
total_skipped=0
any_failed=0
for i in "${!STAGES[@]}"; do
  label="${STAGES[$i]%%|*}"
  command="${STAGES[$i]#*|}"
  echo "== $label: $command"
  start=$SECONDS
  bash -c "$command" 2>&1 | tee "$LOG/$i"
  code=${PIPESTATUS[0]}
  # The stage's own closing counts (pytest: "3 failed, 900 passed, 2 skipped in 95s"; policy
  # test: "120 passed, 0 failed"), read from its last line that has any.
  closing="$(grep -E '[0-9]+ (passed|failed)' "$LOG/$i" | tail -n 1)"
  count() { echo "$closing" | grep -oE "[0-9]+ $1" | tail -n 1 | grep -oE '^[0-9]+' || echo 0; }
  passed=$(count passed)
  failed=$(( $(count failed) + $(count "errors?") ))
  skipped=$(count skipped)
  if [ -z "$closing" ]; then          # a stage without counts (policy check) is one check
    if [ "$code" -eq 0 ]; then passed=1; else failed=1; fi
  elif [ "$code" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1                          # it failed after counting nothing failed (a crash)
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + skipped))
  if [ "$code" -eq 0 ]; then status="ok"; else status="FAILED (exit $code)"; any_failed=1; fi
  summary+=("$(printf '%-13s %-18s %s passed, %s failed, %s skipped, %ss' \
    "$label" "$status" "$passed" "$failed" "$skipped" "$((SECONDS - start))")")
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
if [ "$total_skipped" -gt 0 ]; then
  echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
else
  echo "$total_passed passed, $total_failed failed"
fi
exit "$any_failed"
