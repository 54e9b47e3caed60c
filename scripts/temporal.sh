#!/usr/bin/env bash
# Provision and run the Temporal dev server (with its Web UI) for pipewatch.
#
#   scripts/temporal.sh provision   build the pinned Temporal CLI into bin/ (once)
#   scripts/temporal.sh start       start the dev server, register search attributes
#   scripts/temporal.sh stop        stop it
#   scripts/temporal.sh status      report it (exit 0 running, 3 stopped)
#   scripts/temporal.sh namespace   create pipewatch's namespace or set its retention
#
# Environment (defaults in brackets):
#   PIPEWATCH_TEMPORAL_PORT [7233]   gRPC frontend
#   PIPEWATCH_TEMPORAL_UI_PORT [8233] Web UI
#   PIPEWATCH_TEMPORAL_HTTP_PORT [7243] HTTP API
#   PIPEWATCH_TEMPORAL_METRICS_PORT [7235] the server's own /metrics
#   PIPEWATCH_TEMPORAL_NAMESPACE [default] the namespace `namespace` sets up
#   PIPEWATCH_TEMPORAL_RETENTION [30d]     how long it keeps closed workflows
#                                         (alert history included): Nd, Nh, Nm or Ns
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

# retention_seconds DURATION: Nd, Nh, Nm or Ns in seconds.
retention_seconds() {
  [[ $1 =~ ^([0-9]+)([dhms])$ ]] || return 1
  local n=$((10#${BASH_REMATCH[1]}))
  case ${BASH_REMATCH[2]} in
  d) echo $((n * 86400)) ;;
  h) echo $((n * 3600)) ;;
  m) echo $((n * 60)) ;;
  s) echo "$n" ;;
  esac
}

# namespace: the namespace pipewatch uses keeps closed workflows (alerts
# among them) for PIPEWATCH_TEMPORAL_RETENTION; the dev server's default is
# one day. Created when missing, updated only when its retention differs.
namespace() {
  local ns=${PIPEWATCH_TEMPORAL_NAMESPACE:-default} want=${PIPEWATCH_TEMPORAL_RETENTION:-30d}
  local secs have
  secs=$(retention_seconds "$want") || {
    log "temporal: PIPEWATCH_TEMPORAL_RETENTION=$want is not a duration like 30d, 720h, 90m or 86400s"
    exit 1
  }
  local addr=(--address "127.0.0.1:$PORT")
  if ! have=$("$BIN" operator namespace describe --namespace "$ns" "${addr[@]}" -o json 2>/dev/null); then
    "$BIN" operator namespace create --namespace "$ns" --retention "${secs}s" "${addr[@]}" >/dev/null
    # The frontend knows a new namespace once its registry refreshes (~10 s).
    local deadline=$((SECONDS + 60))
    until "$BIN" operator search-attribute list --namespace "$ns" "${addr[@]}" >/dev/null 2>&1; do
      ((SECONDS <= deadline)) || { log "temporal: namespace $ns created but not served within 60s"; exit 1; }
      sleep 1
    done
    # --search-attribute at start registers them in the default namespace only.
    local sa
    for sa in "${SEARCH_ATTRIBUTES[@]}"; do
      "$BIN" operator search-attribute create --namespace "$ns" --name "$sa" --type Keyword "${addr[@]}" >/dev/null
    done
    log "temporal: namespace $ns created, retention $want, pipewatch's search attributes registered"
    return 0
  fi
  have=$(sed -n 's/.*"workflowExecutionRetentionTtl": *"\([0-9]*\)s".*/\1/p' <<<"$have")
  if [[ $have == "$secs" ]]; then
    log "temporal: namespace $ns keeps closed workflows $want"
    return 0
  fi
  "$BIN" operator namespace update --namespace "$ns" --retention "${secs}s" "${addr[@]}" >/dev/null
  log "temporal: namespace $ns retention set to $want (was ${have:-unknown}s)"
}

status() {
  if pid_alive "$PIDFILE"; then
    echo "temporal: running (pid $(cat "$PIDFILE"), grpc 127.0.0.1:$PORT, ui http://127.0.0.1:$UI_PORT)"
    return 0
  fi
  echo "temporal: stopped"
  return 3
}

case ${1:-} in
provision | start | stop | status | namespace) "$1" ;;
*)
  echo "usage: $0 provision|start|stop|status|namespace" >&2
  exit 2
  ;;
esac
