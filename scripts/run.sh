#!/usr/bin/env bash
# `make run`: provision and start the stack, start the worker, run the demo
# through it and print where to look. The worker keeps running afterwards so
# its /metrics can be browsed; `make down` stops it with the rest.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"

"$ROOT/scripts/deps.sh"
"$ROOT/scripts/stack.sh" up
# Closed workflows, alerts among them, stay PIPEWATCH_TEMPORAL_RETENTION (30d).
"$ROOT/scripts/temporal.sh" namespace

# The worker's state follows the run folder (PIPEWATCH_RUN_DIR) as the
# stack's does; without a config file of yours, its alerts also go to the
# local Alertmanager (scripts/alertmanager.sh).
export PIPEWATCH_LINEAGE_SPOOL_DIR=${PIPEWATCH_LINEAGE_SPOOL_DIR:-$RUN_DIR/spool}
export PIPEWATCH_ML_STORE_DIR=${PIPEWATCH_ML_STORE_DIR:-$RUN_DIR/artifacts}
export PIPEWATCH_ML_SOURCE_ROOTS=${PIPEWATCH_ML_SOURCE_ROOTS:-$ROOT,$RUN_DIR/data}
PROMETHEUS_URL=http://127.0.0.1:${PIPEWATCH_PROMETHEUS_PORT:-9090}
ALERTMANAGER_URL=http://127.0.0.1:${PIPEWATCH_ALERTMANAGER_PORT:-9093}
if [[ -z ${PIPEWATCH_CONFIG:-} ]]; then
  export PIPEWATCH_ALERTS_CHANNELS=${PIPEWATCH_ALERTS_CHANNELS:-log,alertmanager}
  export PIPEWATCH_ALERTS_ALERTMANAGER_URL=${PIPEWATCH_ALERTS_ALERTMANAGER_URL:-$ALERTMANAGER_URL}
fi

PIDFILE=$RUN_DIR/worker.pid
started_worker=""
cleanup() {
  # Interrupted before the demo finished: stop the worker this run started.
  if [[ -n $started_worker ]]; then stop_pid worker "$PIDFILE" 40; fi
}
trap cleanup INT TERM

if pid_alive "$PIDFILE"; then
  log "worker: restarting to pick up the fresh build"
  stop_pid worker "$PIDFILE" 40
fi
require_port_free worker "${PIPEWATCH_HTTP_ADDR##*:}"
nohup "$ROOT/bin/pipewatch" worker >"$RUN_DIR/worker.out" 2>&1 </dev/null &
echo $! >"$PIDFILE"
started_worker=1
deadline=$((SECONDS + 60))
until curl -fsS "http://$PIPEWATCH_HTTP_ADDR/readyz" >/dev/null 2>&1; do
  if ! pid_alive "$PIDFILE" || ((SECONDS > deadline)); then
    fail_with_log worker "$RUN_DIR/worker.out" "not ready on http://$PIPEWATCH_HTTP_ADDR/readyz"
  fi
  sleep 0.3
done
log "worker: ready (pid $(cat "$PIDFILE"), logs in $PIPEWATCH_LOG_DIR)"

"$ROOT/bin/pipewatch" run demo

# The reference ML pipeline on generated data, then a drifted batch through
# the drift monitor (it raises a data_drift alert).
DATA_DIR="$RUN_DIR/data"
mkdir -p "$DATA_DIR"
"$ROOT/bin/pipewatch" data generate --rows 2000 --seed 1 --out "$DATA_DIR/cohort.csv"
"$ROOT/bin/pipewatch" data generate --rows 500 --seed 2 --shift 1 --out "$DATA_DIR/cohort-drifted.csv"
"$ROOT/bin/pipewatch" run pipeline --data "$DATA_DIR/cohort.csv" --follow | tail -n 22
"$ROOT/bin/pipewatch" run drift --batch "$DATA_DIR/cohort-drifted.csv"
"$ROOT/bin/pipewatch" alerts list --type data_drift --limit 3
echo
# The sentinel: the namespace's one watcher of every pipeline, through
# Temporal's own records (it alerts on what no worker sees).
"$ROOT/bin/pipewatch" sentinel status --wait 60s
echo
started_worker=""
echo "  Metrics       http://$PIPEWATCH_HTTP_ADDR/metrics (Grafana dashboards: deploy/grafana/dashboards/)"
# Debian's Prometheus serves the classic UI only, under /classic/.
ui=$PROMETHEUS_URL
if curl -fsS -o /dev/null "$PROMETHEUS_URL/classic/targets" 2>/dev/null; then ui=$PROMETHEUS_URL/classic; fi
echo "  Prometheus    $ui/targets (scrapes the worker and Temporal; rules: $ui/rules, graphs: $ui/graph)"
echo "  Alertmanager  $ALERTMANAGER_URL/#/alerts (pipewatch's alerts and Prometheus' rules)"
echo "  Grafana       not on this machine (no Docker engine): docker compose up -d runs it with the dashboards"
echo "  Neo4j Browser http://127.0.0.1:${PIPEWATCH_NEO4J_HTTP_PORT:-7474}/browser/ (user neo4j, password \$PIPEWATCH_NEO4J_PASSWORD)"
echo "  Worker logs   $PIPEWATCH_LOG_DIR/pipewatch.log (audit: audit.log)"
echo "  Stop all      make down"
