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
