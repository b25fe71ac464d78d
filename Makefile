# questlog — see README.md. `make help` lists the targets.

GO        ?= go
GOARCH    ?= amd64
# sam build sets ARTIFACTS_DIR to .aws-sam/build/<LogicalId>; so does the emulator.
ARTIFACTS_DIR ?= $(CURDIR)/.aws-sam/build/manual
# Static Linux binary for provided.al2023. lambda.norpc leaves out the
# legacy go1.x RPC mode so the runtime always talks to the Runtime API.
# The emulator is built with the same CGO_ENABLED and -trimpath, so on a
# linux/amd64 host it shares every compiled package with the functions.
GO_BUILD = CGO_ENABLED=0 $(GO) build -trimpath
BUILD_FUNCTION = GOOS=linux GOARCH=$(GOARCH) $(GO_BUILD) -tags lambda.norpc -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(1)

.PHONY: help run build test bench testdeps clean

help: ## List the targets
	@grep -E '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

run: ## Start the whole pipeline locally: API on :3000, Kafka on :9092, jobs landing Parquet
	$(GO_BUILD) -o bin/questlog ./local
	bin/questlog start $(ARGS)

build: ## Build every function in template.yaml into .aws-sam/build/<LogicalId>/bootstrap
	$(GO) run ./local build

test: testdeps ## Run every test (unit, integration, end to end)
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.aws-sam/*' -not -path '*/node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted (run gofmt -w)"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

bench: ## Run the benchmarks, each beside its baseline (needs wrk: apt-get install wrk)
	@echo "== sink path (decode+munge+filter+Parquet+landing, one core) vs plain encoding/json decode"
	$(GO) test -run '^$$' -bench 'SinkPath|BaselineJSONDecode' -benchtime 20x -cpu 1 -count 3 ./internal/job
	@echo "== API route: publish with Kafka ack vs a bare net/http handler"
	$(GO) test -run '^$$' -bench 'Publish|BaselineBareHandler' -benchtime 3000x ./internal/api
	@echo "== Runtime API round trip (warm environment) vs one loopback HTTP request"
	$(GO) test -run '^$$' -bench InvokeOverhead -benchtime 5000x ./local/lambda
	@echo "== API Gateway emulation vs a bare handler; Kafka event payload encoding vs encoding/json"
	$(GO) test -run '^$$' -bench 'GatewayOverhead|Payload10k|JSONMarshal10k' -benchtime 2s ./local/apigw ./local/esm
	@echo "== HDFS store: 256 MB write and read vs local disk"
	$(GO) test -run '^$$' -bench '256MB' -benchtime 2x ./local/hdfs
	@echo "== emulated API path (wrk, 16 connections) vs a bare handler; loadgen against the whole emulator"
	$(GO) test -run '^$$' -bench 'APIPath|Loadgen' -benchtime 1x ./local/e2e

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
