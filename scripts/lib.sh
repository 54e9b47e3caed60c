#!/usr/bin/env bash
# Shared helpers for the stack scripts. Sourced, never run.

log() { printf '%s\n' "$*" >&2; }

# pid_alive PIDFILE: the process named in PIDFILE is running.
pid_alive() {
  [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# port_in_use PORT: something listens on 127.0.0.1:PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# require_port_free NAME PORT: fail with a message naming the port.
require_port_free() {
  if port_in_use "$2"; then
    log "$1: port $2 is already in use by another process (free it or set the port variable; see scripts/$1.sh)"
    exit 1
  fi
}

# fail_with_log NAME LOGFILE REASON: report a failed start with the log tail.
fail_with_log() {
  log "$1: failed to start: $3; last lines of $2:"
  tail -n 30 "$2" >&2 || true
  exit 1
}

# stop_pid NAME PIDFILE GRACE_SECONDS: SIGTERM, wait, then SIGKILL.
stop_pid() {
  local name=$1 pidfile=$2 grace=$3 pid
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    log "$name: stopped"
    return 0
  fi
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS > deadline)); then
      log "$name: did not stop in ${grace}s, killing pid $pid"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$pidfile"
  log "$name: stopped"
}
