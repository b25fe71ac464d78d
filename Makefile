# questlog — see README.md. `make help` lists the targets.

GO        ?= go
GOARCH    ?= amd64
# sam build sets ARTIFACTS_DIR to .aws-sam/build/<LogicalId>; so does the emulator.
ARTIFACTS_DIR ?= $(CURDIR)/.aws-sam/build/manual
# Pinned, run from the module cache; not a dependency in go.mod. Every check
# is on: the code passes them all.
STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Static Linux binary for provided.al2023. lambda.norpc leaves out the
# legacy go1.x RPC mode so the runtime always talks to the Runtime API.
# FUNCTION_TAGS=,pprof adds CPU profiles (make bench PROFILE=dir).
# The emulator is built with the same CGO_ENABLED and -trimpath, so on a
# linux/amd64 host it shares every compiled package with the functions.
GO_BUILD = CGO_ENABLED=0 $(GO) build -trimpath
FUNCTION_FLAGS = -tags lambda.norpc$(FUNCTION_TAGS) -ldflags='-s -w'
BUILD_FUNCTION = GOOS=linux GOARCH=$(GOARCH) $(GO_BUILD) $(FUNCTION_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(1)

.PHONY: help install run build test bench chaos testdeps clean

help: ## List the targets
	@grep -E '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

install: ## Build the questlog command line into bin/questlog
	$(GO_BUILD) -o bin/questlog ./local/cmd/questlog

# exec: Ctrl-C reaches questlog, which drains and exits 0, with no shell or
# `go run` (which exits 1 when interrupted) in between.
run: install ## Start the whole pipeline locally: API on :3000, Kafka on :9092, jobs landing Parquet
	exec bin/questlog start $(ARGS)

build: ## Build every function into .aws-sam/build/<LogicalId>/bootstrap, and .aws-sam/build/template.yaml for sam deploy
	$(GO) run ./local build

test: testdeps ## Run every test (unit, integration, end to end)
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.aws-sam/*' -not -path '*/node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted (run gofmt -w)"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) -checks all ./...
	$(GO) test -count=1 -timeout 15m ./...

# make bench: every benchmark, each beside its baseline in the same run
# (the machines are shared and noisy), then issue 12's table old beside new
# and the breakdowns. Its output is kept in BENCH_OUT. PROFILE=dir also
# writes CPU profiles of every process: the benchmarks (emulator, broker,
# HDFS, loadgen: <name>.pprof) and each function process
# (<Function>-<pid>.cpu.pprof, built with FUNCTION_TAGS=,pprof).
BENCH_OUT ?= .local/bench.txt
BENCH = $(GO) test -run '^$$' -timeout 60m
comma := ,
bench_profile = $(if $(PROFILE),-cpuprofile $(abspath $(PROFILE))/$(1).pprof)
bench: SHELL := /bin/bash
bench: .SHELLFLAGS := -o pipefail -c
bench: testdeps ## Run the benchmarks and print issue 12's table, old beside new (needs wrk: apt-get install wrk)
	@mkdir -p $(dir $(BENCH_OUT)) $(PROFILE); echo "loadavg-start: $$(cat /proc/loadavg)" > $(BENCH_OUT)
	@echo "== batch path, stage by stage, one core"
	$(BENCH) -bench 'BatchPath' -cpu 1 $(call bench_profile,batchpath) ./local/e2e | tee -a $(BENCH_OUT)
	@echo "== Runtime API round trip vs one loopback HTTP request"
	$(BENCH) -bench InvokeOverhead -benchtime 5000x $(call bench_profile,runtimeapi) ./local/lambda | tee -a $(BENCH_OUT)
	@echo "== HDFS 256 MB write vs local disk with fsync"
	$(BENCH) -bench 'Write256MB$$|Write256MBLocalDisk' -benchtime 3x $(call bench_profile,hdfs) ./local/hdfs | tee -a $(BENCH_OUT)
	@echo "== API path, step by step (three rounds: the report takes medians)"
	$(if $(PROFILE),FUNCTION_TAGS=$(comma)pprof) $(BENCH) -bench 'APIPath' -benchtime 1x -count 3 $(call bench_profile,apipath) ./local/e2e | tee -a $(BENCH_OUT)
	@echo "== replay vs DuckDB, whole stack, fresh clone"
	$(if $(PROFILE),FUNCTION_TAGS=$(comma)pprof) $(BENCH) -bench 'Replay|Loadgen|FreshClone' -benchtime 1x $(call bench_profile,e2e) ./local/e2e | tee -a $(BENCH_OUT)
	@echo "== landing one batch into a dataset of 10, 1,000 and 20,000 files (file:// and HDFS)"
	$(BENCH) -bench Land -benchtime 2s ./internal/sink | tee -a $(BENCH_OUT)
	@echo "== questlog sql: a group-by over 1M rows of extracted_events on HDFS (mirror warm), through the engine that stays up and as one command beside a running emulator or alone, vs DuckDB itself on the same files"
	$(BENCH) -bench GroupBy1M -benchtime 10x ./local/lake/lakebench | tee -a $(BENCH_OUT)
	@echo "== loadgen at full speed with the console open in Chromium vs no page open"
	$(BENCH) -bench ConsoleCost -benchtime 1x ./local/console | tee -a $(BENCH_OUT)
	@echo "loadavg-end: $$(cat /proc/loadavg)" >> $(BENCH_OUT)
	$(if $(PROFILE),@for f in .aws-sam/build/*/*.cpu.pprof; do [ -e "$$f" ] && mv "$$f" $(PROFILE)/; done; true)
	@$(GO) run ./local/bench/cmd/benchreport < $(BENCH_OUT)

DURATION ?= 1m
chaos: ## Break the stack on purpose for DURATION (default 1m; make chaos DURATION=10m) and check nothing was lost, duplicated, wrong or leaked
	$(GO_BUILD) -o bin/questlog ./local/cmd/questlog
	bin/questlog chaos --duration $(DURATION) $(ARGS)

# Test tools that are not Go modules: DuckDB (from npm) reads our Parquet
# to prove other engines can.
testdeps: internal/sink/testdata/duckdb/node_modules

internal/sink/testdata/duckdb/node_modules: internal/sink/testdata/duckdb/package-lock.json
	npm ci --prefix internal/sink/testdata/duckdb --no-audit --no-fund
	@touch $@

clean: ## Remove build output and the emulator's data (.local/)
	rm -rf .aws-sam .local bin

# --- sam build targets: one per function in template.yaml.

build-ApiDefaultFunction:
	$(call BUILD_FUNCTION,api-default)
build-ApiPurchaseSwordFunction:
	$(call BUILD_FUNCTION,api-purchase-sword)
build-ApiJoinGuildFunction:
	$(call BUILD_FUNCTION,api-join-guild)
build-ApiPurchaseItemFunction:
	$(call BUILD_FUNCTION,api-purchase-item)
build-ApiPurchaseItemJsonFunction:
	$(call BUILD_FUNCTION,api-purchase-item-json)
build-ApiInventoryFunction:
	$(call BUILD_FUNCTION,api-inventory)
build-InventoryFunction:
	$(call BUILD_FUNCTION,inventory)
build-ExtractFunction:
	$(call BUILD_FUNCTION,extract)
build-MungeFunction:
	$(call BUILD_FUNCTION,munge)
# Every filter job is functions/filter with its own configuration, so a new
# filter job needs only a template entry whose logical ID ends in "Filter".
build-%Filter:
	$(call BUILD_FUNCTION,filter)
