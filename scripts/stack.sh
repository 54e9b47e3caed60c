#!/usr/bin/env bash
# Start, stop and report pipewatch's local stack: the Temporal dev server,
# Neo4j, Alertmanager and Prometheus, plus the worker that `make run` starts.
#
#   scripts/stack.sh up [--record FILE]   provision and start what is not running,
#                                         wait until healthy; with --record, list
#                                         in FILE what this call started
#   scripts/stack.sh down [--from FILE]   stop everything, or only what FILE lists
#   scripts/stack.sh status               report each part (exit 3 if Temporal
#                                         or Neo4j is down)
#
# STACK_PARTS (default "temporal neo4j alertmanager prometheus") names the
# parts `up` starts, in order: Alertmanager before the Prometheus that sends
# to it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"

up() {
  local record=${1:-}
  [[ -n $record ]] && : >"$record"
  build_pipewatch
  local part
  for part in ${STACK_PARTS:-temporal neo4j alertmanager prometheus}; do
    if "$ROOT/scripts/$part.sh" status >/dev/null 2>&1; then
      log "$part: already running"
      continue
    fi
    "$ROOT/scripts/$part.sh" start
    [[ -n $record ]] && echo "$part" >>"$record"
  done
  # Health as the worker sees it: a namespace describe and a Bolt RETURN 1.
  "$ROOT/bin/pipewatch" doctor --wait 60s
}

down() {
  local from=${1:-} parts=(worker prometheus alertmanager neo4j temporal)
  if [[ -n $from ]]; then
    [[ -s $from ]] || return 0
    mapfile -t parts <"$from"
  fi
  local part
  for part in "${parts[@]}"; do
    case $part in
    worker) stop_pid worker "$RUN_DIR/worker.pid" 40 ;;
    *) "$ROOT/scripts/$part.sh" stop ;;
    esac
  done
  [[ -n $from ]] && rm -f "$from"
  return 0
}

status() {
  local rc=0
  "$ROOT/scripts/temporal.sh" status || rc=3
  "$ROOT/scripts/neo4j.sh" status || rc=3
  # The monitoring parts are reported; the worker needs neither.
  "$ROOT/scripts/alertmanager.sh" status || true
  "$ROOT/scripts/prometheus.sh" status || true
  if pid_alive "$RUN_DIR/worker.pid"; then
    echo "worker: running (pid $(cat "$RUN_DIR/worker.pid"), http://$PIPEWATCH_HTTP_ADDR/metrics)"
  else
    echo "worker: stopped"
  fi
  return $rc
}

cmd=${1:-}
shift || true
case $cmd in
up | down)
  file=""
  if [[ ${1:-} == --record || ${1:-} == --from ]]; then file=${2:?missing file}; fi
  "$cmd" "$file"
  ;;
status) status ;;
*)
  echo "usage: $0 up [--record FILE] | down [--from FILE] | status" >&2
  exit 2
  ;;
esac
