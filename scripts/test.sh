#!/usr/bin/env bash
# `make test`: unit and integration tests against the real stack. Starts the
# parts of the stack that are not running and stops exactly those afterwards.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"

"$ROOT/scripts/deps.sh" test
record=$RUN_DIR/started-by-test
"$ROOT/scripts/stack.sh" up --record "$record"
trap '"$ROOT/scripts/stack.sh" down --from "$record"' EXIT

cd "$ROOT"
export PIPEWATCH_INTEGRATION=1
# -race over every package: the worker is concurrent to its core.
go test -race -tags integration -count=1 -timeout 30m "$@" ./...
# Each fuzz target briefly (make fuzz runs them longer).
"$ROOT/scripts/fuzz.sh" 3s
