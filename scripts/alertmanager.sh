#!/usr/bin/env bash
# Run Debian's Prometheus Alertmanager on loopback for the local stack: it
# receives pipewatch's own alerts (the worker's alertmanager channel, set up
# by scripts/run.sh) and those of Prometheus' alerting rules.
#
#   scripts/alertmanager.sh start    check the configuration, start, wait for /-/ready
#   scripts/alertmanager.sh stop     stop it
#   scripts/alertmanager.sh status   report it (exit 0 running, 3 stopped)
#
# Environment (defaults in brackets):
#   PIPEWATCH_ALERTMANAGER_PORT [9093]  HTTP API and UI on 127.0.0.1
#   PIPEWATCH_ALERTMANAGER_CONFIG [<repo>/deploy/alertmanager/alertmanager.yml]
#   PIPEWATCH_ALERTMANAGER_START_TIMEOUT [30]  seconds to wait for /-/ready
#   PIPEWATCH_DATA_DIR [<repo>/.data]  silences and notification log (alertmanager/)
#   PIPEWATCH_RUN_DIR [<repo>/.run]    pid and log files (alertmanager/)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

PORT=${PIPEWATCH_ALERTMANAGER_PORT:-9093}
CONFIG=${PIPEWATCH_ALERTMANAGER_CONFIG:-$ROOT/deploy/alertmanager/alertmanager.yml}
START_TIMEOUT=${PIPEWATCH_ALERTMANAGER_START_TIMEOUT:-30}
DATA=${PIPEWATCH_DATA_DIR:-$ROOT/.data}/alertmanager
RUN=${PIPEWATCH_RUN_DIR:-$ROOT/.run}/alertmanager
BIN=/usr/bin/prometheus-alertmanager
PIDFILE=$RUN/alertmanager.pid
LOG=$RUN/alertmanager.log

# alertmanager_alive: the pid file names a running Alertmanager (not a recycled pid).
alertmanager_alive() {
  pid_alive "$PIDFILE" && [[ $(head -z -n1 "/proc/$(cat "$PIDFILE")/cmdline" 2>/dev/null | tr -d '\0') == "$BIN" ]]
}

start() {
  if alertmanager_alive; then
    log "alertmanager: already running (pid $(cat "$PIDFILE"), http://127.0.0.1:$PORT)"
    return 0
  fi
  [[ -x $BIN ]] || { log "alertmanager: $BIN not found (Debian package prometheus-alertmanager; scripts/deps.sh installs it)"; exit 1; }
  require_port_free alertmanager "$PORT"
  mkdir -p "$DATA" "$RUN"
  amtool check-config "$CONFIG" >"$RUN/check-config.out" 2>&1 ||
    fail_with_log alertmanager "$RUN/check-config.out" "amtool check-config rejected $CONFIG"
  # --cluster.listen-address= turns off the gossip port (9094 on every
  # interface by default): one local Alertmanager needs no peers.
  local args=(--config.file="$CONFIG" --storage.path="$DATA"
    --web.listen-address="127.0.0.1:$PORT" --web.external-url="http://127.0.0.1:$PORT/"
    --cluster.listen-address= --log.level=warn)
  local t0=$SECONDS
  nohup "$BIN" "${args[@]}" >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local deadline=$((SECONDS + START_TIMEOUT))
  until curl -fsS "http://127.0.0.1:$PORT/-/ready" >/dev/null 2>&1; do
    alertmanager_alive || fail_with_log alertmanager "$LOG" "it exited during start"
    if ((SECONDS > deadline)); then
      stop >/dev/null 2>&1
      fail_with_log alertmanager "$LOG" "http://127.0.0.1:$PORT/-/ready did not answer within ${START_TIMEOUT}s"
    fi
    sleep 0.3
  done
  log "alertmanager: ready in $((SECONDS - t0))s (pid $(cat "$PIDFILE"), http://127.0.0.1:$PORT)"
}

stop() {
  if ! alertmanager_alive; then
    rm -f "$PIDFILE"
    log "alertmanager: stopped"
    return 0
  fi
  stop_pid alertmanager "$PIDFILE" 20
}

status() {
  if alertmanager_alive; then
    echo "alertmanager: running (pid $(cat "$PIDFILE"), http://127.0.0.1:$PORT)"
    return 0
  fi
  echo "alertmanager: stopped"
  return 3
}

case ${1:-} in
start | stop | status) "$1" ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 2
  ;;
esac
