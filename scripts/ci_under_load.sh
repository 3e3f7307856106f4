#!/usr/bin/env bash
# .ci/run on a loaded machine: a fresh clone of this repository's HEAD, run as CI runs it
# (CI=true, no standard input, a copy of ../shared beside it), while two CPU-bound busy
# loops take the cores. Prints each stage's wall time (the "ci: STAGE N s" lines of
# .ci/run) and the whole run's, for every run.
#
#   scripts/ci_under_load.sh [RUNS]      # RUNS: how many runs in a row (default 1)
#
# Exit status: 0 when every run passed, else that of the last failed run. The clone and
# each run's log stay in the printed directory; the busy loops are always stopped.
set -euo pipefail

runs=${1:-1}
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/depotctl-ci-load.XXXXXX")
busy=()

stop_busy() {
  for pid in "${busy[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${busy[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  busy=()
}
trap stop_busy EXIT

git clone --quiet "$repo" "$work/depotctl"
if [[ -d "$repo/../shared" ]]; then
  cp -r "$repo/../shared" "$work/shared"  # CI's copy of shared/, beside the clone
fi
head=$(git -C "$work/depotctl" rev-parse --short HEAD)
echo "ci under load: $head in $work/depotctl, $runs run(s), 2 busy loops on $(nproc) cores"

for _ in 1 2; do
  python3 -c 'while True: pass' &
  busy+=("$!")
done

status=0
for run in $(seq 1 "$runs"); do
  log="$work/run-$run.log"
  began=$SECONDS
  if (cd "$work/depotctl" && CI=true bash .ci/run </dev/null >"$log" 2>&1); then
    verdict=passed
  else
    status=$?
    verdict="FAILED (exit $status)"
  fi
  echo "run $run: $verdict in $((SECONDS - began)) s (log: $log)"
  sed -n 's/^ci: \(.*\) \([0-9]*\) s$/  \1: \2 s/p' "$log"
  # pytest's closing line, e.g. "=== 1612 passed, 4 skipped in 301.2s ==="
  grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "$log" | tail -n 1 | sed 's/^/  /' || true
  (cd "$work/depotctl" && git clean -qfdx -e .venv)  # the next run starts from the clone
done

stop_busy
exit "$status"
