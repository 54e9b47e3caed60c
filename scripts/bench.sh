#!/usr/bin/env bash
# `make bench`: run the Go benchmarks and print one line per result,
#   BENCH <name> <value> <unit>
# (benchmarks that compare against a baseline print their own _ratio lines).
# Benchmarks needing the real stack run with PIPEWATCH_INTEGRATION=1 after
# `make up`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -tags integration -run '^$' -bench . -benchmem -count 1 ./... | tee "$out" >&2
# BenchmarkFoo/bar-2  1000  1234 ns/op  56 B/op  3 allocs/op  -> BENCH foo/bar_ns 1234 ns ...
awk '/^Benchmark/ {
  name=$1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
  for (i = 3; i < NF; i += 2) {
    unit=$(i+1); v=$i
    if (unit == "ns/op") print "BENCH " name "_ns " v " ns"
    else if (unit == "allocs/op") print "BENCH " name "_allocs " v " allocs"
    else if (unit == "B/op") print "BENCH " name "_bytes " v " B"
    else if (unit !~ /\//) print "BENCH " name " " v " " unit
  }
} /^BENCH / { print }' "$out" | sort -u
grep -qE '^(Benchmark|BENCH )' "$out" || echo "no benchmarks yet"
