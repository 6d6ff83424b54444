# The README's two commands: `make quickstart` and `make test`. Both set up first.
SWIFT ?= swift
SCENARIO ?= scenarios/quickstart.yaml

.PHONY: setup build release quickstart test bench

setup:
	./.ci/setup

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

quickstart: release
	$(SWIFT) run -c release --skip-build fedarena run $(SCENARIO) --out runs/quickstart

test: setup
	$(SWIFT) test

bench: release
	$(SWIFT) run -c release --skip-build fedarena bench
