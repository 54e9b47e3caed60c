#!/usr/bin/env bash
# `make fuzz` (and, briefly, `make test`): every fuzz target, one after the
# other, for FUZZTIME each (default 60s; `make test` passes 3s). Inputs
# that fail are written under <package>/testdata/fuzz/<target>/: commit
# them with the fix, as the corpus the next runs start from.
#
#   scripts/fuzz.sh [FUZZTIME]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
time=${1:-${FUZZTIME:-60s}}
targets=(
  worker:FuzzLoadConfigFile            # configuration parsing
  activities:FuzzReadCohort            # CSV ingest
  lineage:FuzzSpoolRecovery            # spool record decoding and recovery
  lineage:FuzzDatasetRefs              # lineage references and ids
  alerts:FuzzAlertKey                  # alert labels and keys
  alerts:FuzzParseRoutesAndCooldowns   # alert routing configuration
  logging:FuzzParseAuditLine           # audit line parsing
  logging:FuzzVerifyAudit              # audit files
)
for t in "${targets[@]}"; do
  pkg=${t%%:*} fn=${t##*:}
  printf 'fuzz %-34s %s ' "$fn" "$time"
  if out=$(go test "./$pkg" -run '^$' -fuzz "^$fn\$" -fuzztime "$time" 2>&1) ||
    # Go's fuzzer can stop a worker at the deadline and report that as a
    # failure ("context deadline exceeded") with no failing input: not one.
    { grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; }; then
    echo "$out" | grep -Eo 'execs: [0-9]+' | tail -1 || echo
  else
    echo "FAILED"
    echo "$out" >&2
    exit 1
  fi
done
