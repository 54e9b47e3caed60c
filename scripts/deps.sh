#!/usr/bin/env bash
# Debian packages the stack and the tests use, installed when missing
# (idempotent: nothing happens when all are there). `make run` needs the
# first group; `make test` all:
#   curl; Java 17 and Maven (Neo4j from Maven Central); Prometheus (with
#   promtool) and Alertmanager (with amtool), the local monitoring stack and
#   what deploy/'s tests check with;
#   Graphviz for lineage SVG; a C compiler for go test -race.
set -euo pipefail

want=(curl:curl java:openjdk-17-jre-headless mvn:maven prometheus:prometheus promtool:prometheus
  prometheus-alertmanager:prometheus-alertmanager amtool:prometheus-alertmanager)
if [[ ${1:-} == test ]]; then
  want+=(dot:graphviz gcc:gcc)
fi
need=()
for pkg in "${want[@]}"; do
  command -v "${pkg%%:*}" >/dev/null 2>&1 || [[ " ${need[*]} " == *" ${pkg#*:} "* ]] || need+=("${pkg#*:}")
done
((${#need[@]})) || exit 0

sudo=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    printf 'missing Debian packages: %s\ninstall them as root: apt-get update && apt-get install -y %s\n' "${need[*]}" "${need[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi
printf 'installing Debian packages: %s\n' "${need[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
