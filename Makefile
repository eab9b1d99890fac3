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
# Demo training budget: a few minutes on 2 cores.
DEMO_EPOCHS ?= 20

.PHONY: all setup build native engines ts demo test test-rust test-ts bench bench-scale clean

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

demo: build
	$(CLI) synth --out $(DATA)/corpus --episodes $(EPISODES) --seed $(SEED)
	$(CLI) validate --store $(DATA)/corpus --out $(DATA)/acceptance.parquet
	$(CLI) prune --store $(DATA)/corpus
	$(CLI) features --store $(DATA)/corpus --acceptance $(DATA)/acceptance.parquet --out $(PROCESSED) --tensors
	$(CLI) split --features $(PROCESSED)/features_window.parquet --recipe host --out $(SPLIT)
	$(CLI) train --model gbt --mode realistic,oracle --features $(PROCESSED)/features_window.parquet --split $(SPLIT) --out artifacts
	$(CLI) train --model gru --mode realistic --features $(PROCESSED)/features_window.parquet --tensors $(PROCESSED)/tensors --split $(SPLIT) --out artifacts --epochs $(DEMO_EPOCHS)
	$(CLI) eval --artifacts artifacts --features $(PROCESSED)/features_window.parquet --tensors $(PROCESSED)/tensors --split $(SPLIT) --out reports/eval

test: build test-rust test-ts

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

# The pipeline at corpus scale (issue 10): per stage wall time, throughput,
# peak RSS and disk. Full size is 76,660 episodes; SCALE_EPISODES=5000 for a look.
SCALE_EPISODES ?= 76660
bench-scale: build
	$(NODE) bench/scale.mjs --episodes $(SCALE_EPISODES)

clean:
	rm -rf dist native/*.node target engines/build $(DATA) artifacts reports
