# pipewatch — the two commands a user needs are `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go

.PHONY: help run test unit bench fuzz lint build up down status clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-7s %s\n", $$1, $$2}'

run: ## provision and start the stack, start the worker, run the demo, print where to look
	@scripts/run.sh

test: ## unit + integration tests against the real stack (starts and stops what it needs)
	@scripts/test.sh

unit: ## unit tests only; no stack needed
	$(GO) test -count=1 ./...

bench: ## benchmarks; each result is a line `BENCH <name> <value> <unit>`
	@scripts/bench.sh

fuzz: ## every fuzz target for FUZZTIME each (default 60s)
	@scripts/fuzz.sh $(FUZZTIME)

lint: ## gofmt, go vet, staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet -tags integration ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags integration ./...

build: ## build bin/pipewatch
	@ROOT=$(CURDIR); . scripts/env.sh; build_pipewatch

up: ## start Temporal (UI :8233), Neo4j (Bolt :7687), Alertmanager (:9093) and Prometheus (:9090), waiting until healthy
	@scripts/stack.sh up

down: ## stop the worker, Prometheus, Alertmanager, Neo4j and Temporal
	@scripts/stack.sh down

status: ## report each part of the stack
	@scripts/stack.sh status

clean: down ## stop everything and delete local state (.data, .run); keeps bin/ and caches
	rm -rf .data .run
