#!/usr/bin/env bash
# Provision and run the Temporal dev server (with its Web UI) for pipewatch.
#
#   scripts/temporal.sh provision   build the pinned Temporal CLI into bin/ (once)
#   scripts/temporal.sh start       start the dev server, register search attributes
#   scripts/temporal.sh stop        stop it
#   scripts/temporal.sh status      report it (exit 0 running, 3 stopped)
#
# Environment (defaults in brackets):
#   PIPEWATCH_TEMPORAL_PORT [7233]   gRPC frontend
#   PIPEWATCH_TEMPORAL_UI_PORT [8233] Web UI
#   PIPEWATCH_TEMPORAL_HTTP_PORT [7243] HTTP API
#   PIPEWATCH_TEMPORAL_METRICS_PORT [7235] the server's own /metrics
#   PIPEWATCH_DATA_DIR [<repo>/.data]  persistent state (temporal/temporal.db)
#   PIPEWATCH_RUN_DIR [<repo>/.run]    pid and log files
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

CLI_VERSION=v1.5.1 # newer tags cannot be built with go install
PORT=${PIPEWATCH_TEMPORAL_PORT:-7233}
UI_PORT=${PIPEWATCH_TEMPORAL_UI_PORT:-8233}
HTTP_PORT=${PIPEWATCH_TEMPORAL_HTTP_PORT:-7243}
METRICS_PORT=${PIPEWATCH_TEMPORAL_METRICS_PORT:-7235}
DATA=${PIPEWATCH_DATA_DIR:-$ROOT/.data}/temporal
RUN=${PIPEWATCH_RUN_DIR:-$ROOT/.run}/temporal
BIN=$ROOT/bin/temporal
PIDFILE=$RUN/temporal.pid
LOG=$RUN/temporal.log

# Search attributes pipewatch writes (pipelines and alerts), all Keyword.
SEARCH_ATTRIBUTES=(PipelineName PipelineStep PipelineStatus ModelName DatasetVersion
  AlertType AlertSeverity AlertState)

provision() {
  if [[ -x $BIN && $(cat "$BIN.version" 2>/dev/null) == "$CLI_VERSION" ]]; then
    return 0
  fi
  log "temporal: building CLI $CLI_VERSION into bin/ (first time only, ~5 min)"
  mkdir -p "$ROOT/bin"
  GOBIN=$ROOT/bin go install "github.com/temporalio/cli/cmd/temporal@$CLI_VERSION"
  echo "$CLI_VERSION" >"$BIN.version"
}

start() {
  provision
  if pid_alive "$PIDFILE"; then
    log "temporal: already running (pid $(cat "$PIDFILE"), grpc 127.0.0.1:$PORT, ui http://127.0.0.1:$UI_PORT)"
    return 0
  fi
  for p in "$PORT" "$UI_PORT" "$HTTP_PORT" "$METRICS_PORT"; do
    require_port_free temporal "$p"
  done
  mkdir -p "$DATA" "$RUN"
  local args=(server start-dev --ip 127.0.0.1 --port "$PORT" --ui-port "$UI_PORT"
    --http-port "$HTTP_PORT" --metrics-port "$METRICS_PORT"
    --db-filename "$DATA/temporal.db" --log-level warn
    # One partition per task queue: with the default four, a local worker's
    # tasks wait to be forwarded between partitions (seconds per step).
    --dynamic-config-value matching.numTaskqueueReadPartitions=1
    --dynamic-config-value matching.numTaskqueueWritePartitions=1)
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa=Keyword"); done
  local t0=$SECONDS
  nohup "$BIN" "${args[@]}" >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local deadline=$((SECONDS + ${PIPEWATCH_TEMPORAL_START_TIMEOUT:-90}))
  until "$BIN" operator namespace describe --namespace default --address "127.0.0.1:$PORT" >/dev/null 2>&1; do
    if ! pid_alive "$PIDFILE"; then
      fail_with_log temporal "$LOG" "the dev server exited during start"
    fi
    if ((SECONDS > deadline)); then
      fail_with_log temporal "$LOG" "no answer to a namespace describe on 127.0.0.1:$PORT"
    fi
    sleep 0.5
  done
  log "temporal: ready in $((SECONDS - t0))s (grpc 127.0.0.1:$PORT, ui http://127.0.0.1:$UI_PORT)"
}

stop() { stop_pid temporal "$PIDFILE" 30; }

status() {
  if pid_alive "$PIDFILE"; then
    echo "temporal: running (pid $(cat "$PIDFILE"), grpc 127.0.0.1:$PORT, ui http://127.0.0.1:$UI_PORT)"
    return 0
  fi
  echo "temporal: stopped"
  return 3
}

case ${1:-} in
provision | start | stop | status) "$1" ;;
*)
  echo "usage: $0 provision|start|stop|status" >&2
  exit 2
  ;;
esac
