# IntelliScale: simulate, train, benchmark and deploy autoscaling policies.
# `make bench` reproduces the headline figures; `make test` runs the tests.

GO      ?= go
BIN     := bin/intelliscale
RESULTS ?= results

.PHONY: all build test test-full vet bench bench-real bench-unseen bench-small bench-sim bench-nn bench-learners bench-features bench-traces prometheus clean

all: build

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/intelliscale

vet:
	$(GO) vet ./...

# The test suite. PROMTOOL (a promtool binary) enables the OpenMetrics import check;
# INTELLISCALE_E2E=1 enables the end-to-end test on the Docker engine (.ci/run sets both).
test: vet
	$(GO) test -timeout 30m ./...
	@# Every benchmark once, so that the speed figures stay reproducible (no timing checked).
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 10m ./...

# The learners' CartPole proofs on all five seeds (CI runs fewer).
test-full:
	INTELLISCALE_FULL=1 $(GO) test -timeout 60m -run 'CartPole' -v ./agents/ppo ./agents/dqn

# The main job: the default experiment on the built-in synthetic traces, training
# included; prints the headline table, writes the report under $(RESULTS)/default and
# regenerates the README's Results section (and its plots in docs/bench).
bench: build
	$(BIN) experiment run --config experiments/configs/default.yaml --out $(RESULTS)/default
	$(BIN) report --quiet --readme README.md --figures docs/bench $(RESULTS)/default

# The same experiment on the real traces in ../shared/traces (skipped when absent);
# regenerates the README's bench-real section (and its plots in docs/bench-real).
bench-real: build
	@if [ -d ../shared/traces ]; then \
		$(BIN) experiment run --config experiments/configs/real.yaml --out $(RESULTS)/real && \
		$(BIN) report --quiet --readme README.md --readme-section bench-real --figures docs/bench-real $(RESULTS)/real; \
	else echo "bench-real: ../shared/traces not found; nothing to run"; fi

# The policies and service of bench-real on other days of the same traces, days no
# choice of the project was made on; regenerates the README's bench-unseen section.
bench-unseen: build
	@if [ -d ../shared/traces ]; then \
		$(BIN) experiment run --config experiments/configs/unseen.yaml --out $(RESULTS)/unseen && \
		$(BIN) report --quiet --readme README.md --readme-section bench-unseen --figures docs/bench-unseen $(RESULTS)/unseen; \
	else echo "bench-unseen: ../shared/traces not found; nothing to run"; fi

# The small-service preset (demand of 1 to 5 replicas, the benchmark before realistic scale).
bench-small: build
	$(BIN) experiment run --config experiments/configs/small.yaml --out $(RESULTS)/small
	$(BIN) report $(RESULTS)/small

# Speed figures (go test benchmarks that print their own units).
bench-sim:
	$(GO) test -run '^$$' -bench . -benchmem ./sim

bench-nn:
	$(GO) test -run '^$$' -bench . -benchmem ./agents/nn

bench-learners:
	$(GO) test -run '^$$' -bench . -benchmem ./agents/ppo ./agents/dqn ./env

bench-features:
	$(GO) test -run '^$$' -bench . -benchmem ./env/features

bench-traces:
	$(GO) test -run '^$$' -bench . -benchmem ./traces

# Prometheus server and promtool built from the pinned Go module.
prometheus:
	bash deploy/build-prometheus.sh bin

clean:
	rm -rf bin $(RESULTS)

-include deploy/live.mk
-include deploy/k8s.mk
