# The two commands the README leads with: `make demo` and `make test`.
# Every target installs what it needs first, and skips work already done.

SHELL := /bin/bash
NODE  ?= node
CLI   := $(NODE) bin/cis490
DATA  ?= data
EPISODES ?= 2000
SEED  ?= 490

.PHONY: all setup build native ts demo test test-rust test-ts bench clean

all: build

setup:
	@bash scripts/setup.sh

native: setup
	@bash scripts/build-native.sh

ts: setup
	@npx tsc -p tsconfig.json

build: native ts

demo: build
	$(CLI) synth --out $(DATA)/corpus --episodes $(EPISODES) --seed $(SEED)
	$(CLI) validate --store $(DATA)/corpus --out $(DATA)/acceptance.parquet
	$(CLI) prune --store $(DATA)/corpus

test: build test-rust test-ts

test-rust:
	cargo test --release --workspace

test-ts:
	npx vitest run

bench: build
	$(NODE) bench/run.mjs

clean:
	rm -rf dist native/*.node target $(DATA)
