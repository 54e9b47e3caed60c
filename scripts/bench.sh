#!/usr/bin/env bash
# `make bench`: every benchmark, each result one line
#   BENCH <name> <value> <unit>
# Go benchmarks run 5 times, interleaved package by package, and report the
# median; harnesses that compare against a baseline measured in the same run
# (TestBench*, on a dev server of their own, one package at a time so they
# do not share the CPU) print their own BENCH lines,
# _ratio lines included. The sentinel's reconciliation and failover
# harnesses use the local stack (Temporal and Neo4j): like `make test`, it
# starts what is not running and stops exactly that afterwards.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"
out=$(mktemp)
record=$RUN_DIR/started-by-bench
"$ROOT/scripts/deps.sh"
trap 'rm -f "$out"; test_neo4j stop || true; "$ROOT/scripts/stack.sh" down --from "$record"' EXIT
# Like `make test`: the tests' own Neo4j, and of the user's stack only
# Temporal (the harnesses' own namespace).
test_neo4j start
export PIPEWATCH_NEO4J_URI=bolt://127.0.0.1:$TEST_NEO4J_BOLT_PORT PIPEWATCH_NEO4J_PASSWORD=pipewatch-dev
STACK_PARTS=temporal "$ROOT/scripts/stack.sh" up --record "$record"
export PIPEWATCH_INTEGRATION=1

export PIPEWATCH_BENCH=1
# PIPEWATCH_BENCH_RUN=regexp runs only the harnesses it matches (and no Go
# benchmark), e.g. '^TestBenchLineage$'.
if [[ -z ${PIPEWATCH_BENCH_RUN:-} ]]; then
  go test -tags integration -run '^$' -bench . -benchmem -count 5 -p 1 ./... | tee "$out" >&2
fi
go test -tags integration -run "${PIPEWATCH_BENCH_RUN:-^TestBench}" -count 1 -p 1 -timeout 60m -v ./... | tee -a "$out" >&2

# BenchmarkInterceptorStep-2  N  3824 ns/op  400 B/op  2 allocs/op
#   -> BENCH interceptor_step_ns 3824 ns, BENCH interceptor_step_allocs 2 allocs (medians)
awk '
function snake(s,   out, i, c) {
  out = ""
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c ~ /[A-Z]/ && i > 1 && substr(s, i - 1, 1) ~ /[a-z0-9]/) out = out "_"
    out = out tolower(c)
  }
  return out
}
function median(key,   n, i, j, t, a) {
  n = split(vals[key], a, " ")
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  return a[int((n + 1) / 2)]
}
/^Benchmark/ {
  name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name); name = snake(name)
  for (i = 3; i < NF; i += 2) {
    if ($(i+1) == "ns/op") k = name "_ns ns"
    else if ($(i+1) == "allocs/op") k = name "_allocs allocs"
    else if ($(i+1) == "B/op") k = name "_bytes B"
    else continue
    if (!(k in vals)) order[++n] = k
    vals[k] = vals[k] " " $i
  }
}
/^BENCH / { lines[++m] = $0 }
END {
  for (i = 1; i <= n; i++) { split(order[i], p, " "); print "BENCH " p[1] " " median(order[i]) " " p[2] }
  for (i = 1; i <= m; i++) print lines[i]
}' "$out"
