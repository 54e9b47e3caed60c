#!/usr/bin/env bash
# The local stack's defaults, shared by the scripts and the Makefile targets.
# Sourced, never run. Every value can be overridden from the environment.

# Dev-only Neo4j password, documented in the README; set your own for anything real.
export PIPEWATCH_NEO4J_PASSWORD=${PIPEWATCH_NEO4J_PASSWORD:-pipewatch-dev}
export PIPEWATCH_HTTP_ADDR=${PIPEWATCH_HTTP_ADDR:-127.0.0.1:9464}
RUN_DIR=${PIPEWATCH_RUN_DIR:-$ROOT/.run}
export PIPEWATCH_LOG_DIR=${PIPEWATCH_LOG_DIR:-$RUN_DIR/logs}
mkdir -p "$RUN_DIR"

# build_pipewatch: (re)build bin/pipewatch; go's build cache makes this quick.
build_pipewatch() {
  (cd "$ROOT" && go build -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" \
    -o bin/pipewatch ./cmd/pipewatch)
}

# test_neo4j start|stop: the tests' own Neo4j, beside the user's (which
# tests and benchmarks never touch): its own ports and data folder
# (PIPEWATCH_TEST_* move it, e.g. for a second checkout testing beside
# this one). `make test` and `make bench` start it and stop it at the end.
TEST_NEO4J_BOLT_PORT=${PIPEWATCH_TEST_NEO4J_BOLT_PORT:-7688}
test_neo4j() {
  PIPEWATCH_NEO4J_BOLT_PORT=$TEST_NEO4J_BOLT_PORT PIPEWATCH_NEO4J_HTTP_PORT=${PIPEWATCH_TEST_NEO4J_HTTP_PORT:-7475} \
    PIPEWATCH_NEO4J_PASSWORD=pipewatch-dev PIPEWATCH_DATA_DIR=${PIPEWATCH_DATA_DIR:-$ROOT/.data}/test \
    PIPEWATCH_RUN_DIR=${PIPEWATCH_TEST_RUN_DIR:-$RUN_DIR/test} PIPEWATCH_NEO4J_HEAP=384m "$ROOT/scripts/neo4j.sh" "$@"
}
