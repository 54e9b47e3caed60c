#!/usr/bin/env bash
# `make test`: unit and integration tests against the real stack. Starts the
# parts of the stack that are not running and stops exactly those afterwards.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"

"$ROOT/scripts/deps.sh" test

# The user's stack, if it runs (`make run`), is fingerprinted before and
# after the tests: they must leave it as they found it.
USER_NEO4J_URI=${PIPEWATCH_NEO4J_URI:-bolt://127.0.0.1:7687} USER_NEO4J_PASSWORD=$PIPEWATCH_NEO4J_PASSWORD
user_before=""
if "$ROOT/scripts/stack.sh" status >/dev/null 2>&1; then
  (cd "$ROOT" && go build -o "$RUN_DIR/stackprint" ./internal/cmd/stackprint)
  user_before=$(PIPEWATCH_NEO4J_URI=$USER_NEO4J_URI "$RUN_DIR/stackprint")
fi

record=$RUN_DIR/started-by-test
cleanup() {
  test_neo4j stop || true
  "$ROOT/scripts/stack.sh" down --from "$record"
}
trap cleanup EXIT
test_neo4j start
export PIPEWATCH_NEO4J_URI=bolt://127.0.0.1:$TEST_NEO4J_BOLT_PORT PIPEWATCH_NEO4J_PASSWORD=pipewatch-dev
# Of the user's stack only Temporal is used (the tests' own namespace).
STACK_PARTS=temporal "$ROOT/scripts/stack.sh" up --record "$record"

cd "$ROOT"
export PIPEWATCH_INTEGRATION=1
# -race over every package: the worker is concurrent to its core.
go test -race -tags integration -count=1 -timeout 30m "$@" ./...
if [[ -n $user_before ]]; then
  user_after=$(PIPEWATCH_NEO4J_URI=$USER_NEO4J_URI PIPEWATCH_NEO4J_PASSWORD=$USER_NEO4J_PASSWORD "$RUN_DIR/stackprint")
  if [[ $user_before != "$user_after" ]]; then
    echo "the tests changed the user's stack (lineage graph or workflows of namespace ${PIPEWATCH_TEMPORAL_NAMESPACE:-default}):" >&2
    diff <(echo "$user_before") <(echo "$user_after") >&2 || true
    exit 1
  fi
  echo "the user's stack is as the tests found it ($(echo "$user_before" | grep -c '^    "') graph counts and workflows compared)"
fi
# Each fuzz target briefly (make fuzz runs them longer).
"$ROOT/scripts/fuzz.sh" 3s
