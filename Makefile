# The two commands the README leads with: `make demo` and `make test`.
# Every target installs what it needs first, and skips work already done.

SHELL := /bin/bash
NODE  ?= node
CLI   := $(NODE) bin/cis490
DATA  ?= data
EPISODES ?= 2000
SEED  ?= 490
PROCESSED := $(DATA)/processed
SPLIT := $(PROCESSED)/split_host.parquet
ARTIFACTS ?= artifacts
REPORTS ?= reports
# Fixed work, never a wall-clock cap, so timings and results can be compared
# across machines: the demo's GRU epochs, and the epochs of every neural
# model in `make bench-models` (the README's table).
DEMO_EPOCHS ?= 20
MODEL_EPOCHS ?= 20

.PHONY: all setup build native engines ts doctor corpus demo test test-rust test-ts bench bench-models bench-demo bench-scale clean

all: build

setup:
	@bash scripts/setup.sh

native: setup
	@bash scripts/build-native.sh

engines: setup
	@bash scripts/build-engines.sh

ts: setup
	@npx tsc -p tsconfig.json

build: native engines ts

# Which BLAS, threads and addons this machine trains with; exits 1 (and
# stops the demo) when an addon does not load or libtorch is on the
# reference BLAS.
doctor: build
	$(CLI) doctor

# The default corpus up to the host split (each step skips work already done).
corpus: build
	$(CLI) synth --out $(DATA)/corpus --episodes $(EPISODES) --seed $(SEED)
	$(CLI) validate --store $(DATA)/corpus --out $(DATA)/acceptance.parquet
	$(CLI) features --store $(DATA)/corpus --acceptance $(DATA)/acceptance.parquet --out $(PROCESSED) --tensors
	$(CLI) split --features $(PROCESSED)/features_window.parquet --recipe host --out $(SPLIT)

demo: doctor
	$(CLI) synth --out $(DATA)/corpus --episodes $(EPISODES) --seed $(SEED)
	$(CLI) validate --store $(DATA)/corpus --out $(DATA)/acceptance.parquet
	$(CLI) prune --store $(DATA)/corpus
	$(CLI) features --store $(DATA)/corpus --acceptance $(DATA)/acceptance.parquet --out $(PROCESSED) --tensors
	$(CLI) split --features $(PROCESSED)/features_window.parquet --recipe host --out $(SPLIT)
	$(CLI) train --model gbt --mode realistic,oracle --features $(PROCESSED)/features_window.parquet --split $(SPLIT) --out $(ARTIFACTS)
	$(CLI) train --model gru --mode realistic --features $(PROCESSED)/features_window.parquet --tensors $(PROCESSED)/tensors --split $(SPLIT) --out $(ARTIFACTS) --epochs $(DEMO_EPOCHS)
	$(CLI) train --model eif,ae,ensemble --mode realistic,oracle --features $(PROCESSED)/features_window.parquet --split $(SPLIT) --out $(ARTIFACTS)
	$(CLI) eval --artifacts $(ARTIFACTS) --features $(PROCESSED)/features_window.parquet --tensors $(PROCESSED)/tensors --split $(SPLIT) --out $(REPORTS)/eval

test: build test-rust test-ts

# Under `make test` (and so .ci/run) a suite never skips for a missing
# prerequisite: tests/helpers/prerequisites.ts turns the skip into a failure.
test: export CIS490_REQUIRE_NATIVE := 1
test: export CIS490_REQUIRE_BUILD := 1
test: export CIS490_REQUIRE_NUMPY := 1
test: export CIS490_REQUIRE_BROWSER := 1

test-rust:
	cargo test --release --workspace

test-ts:
	npx vitest run

# Native vs the TypeScript twins (and numpy / PyTorch columns where Debian's python3 has them).
bench: build
	$(NODE) bench/decode.mjs
	$(NODE) bench/features.mjs
	$(NODE) bench/stats.mjs
	$(NODE) bench/engines.mjs
	$(NODE) bench/dashboard.mjs
	$(NODE) bench/deploy.mjs
	$(NODE) bench/eif.mjs

# The README's model table: all 12 combinations, $(MODEL_EPOCHS) epochs each, evaluated on the test host.
bench-models: corpus
	$(NODE) bench/models.mjs --features $(PROCESSED)/features_window.parquet --split $(SPLIT) --tensors $(PROCESSED)/tensors --epochs $(MODEL_EPOCHS)

# The README's demo timing: the whole demo from nothing (a fresh corpus,
# checkpoints and report in a temporary directory), timed.
bench-demo: build
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; start=$$(date +%s); \
	$(MAKE) --no-print-directory demo DATA=$$tmp/data ARTIFACTS=$$tmp/artifacts REPORTS=$$tmp/reports && \
	echo "bench-demo: make demo took $$(( $$(date +%s) - start )) s from an empty data directory ($(EPISODES) episodes, GRU $(DEMO_EPOCHS) epochs)"

# The pipeline at corpus scale (issue 10): per stage wall time, throughput,
# peak RSS and disk. Full size is 76,660 episodes; SCALE_EPISODES=5000 for a look.
SCALE_EPISODES ?= 76660
bench-scale: build
	$(NODE) bench/scale.mjs --episodes $(SCALE_EPISODES)

clean:
	rm -rf dist native/*.node target engines/build $(DATA) $(ARTIFACTS) $(REPORTS)
