# chat: build, run, test and benchmark. `make` alone lists the targets.
# GNU make. Every target is phony: Swift's own build system decides what is out of date.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Overridable: `make run LISTEN=0.0.0.0:9000 DATA_DIR=/tmp/chat`, `make migrate-down N=2`.
SWIFT ?= swift
DATA_DIR ?= data
LISTEN ?= 127.0.0.1:8080
CONFIG ?=
N ?=
name ?=
PYTEST_ARGS ?=

RELEASE_BIN := .build/release/chat
DEBUG_BIN := .build/debug/chat
FORMAT_PATHS := Sources Tests Plugins Tools

# Flags for `chat serve` / `chat migrate`. Without CONFIG, DATA_DIR and LISTEN are always passed. With CONFIG,
# they are passed only when given on the make command line or in the environment, so that the config file's
# own values are not silently overridden by make's defaults.
ifeq ($(strip $(CONFIG)),)
DATA_FLAGS := --data-dir '$(DATA_DIR)'
LISTEN_FLAGS := --listen '$(LISTEN)'
else
DATA_FLAGS := --config '$(CONFIG)' $(if $(filter file,$(origin DATA_DIR)),,--data-dir '$(DATA_DIR)')
LISTEN_FLAGS := $(if $(filter file,$(origin LISTEN)),,--listen '$(LISTEN)')
endif

.PHONY: help deps deps-bench build debug run dev test lint fmt \
	migrate-up migrate-down migrate-status create-migration rand-user bench swagger clean

help: ## List the targets (this text)
	@echo "usage: make TARGET [DATA_DIR=$(DATA_DIR)] [LISTEN=$(LISTEN)] [CONFIG=file] [SWIFT=$(SWIFT)]"
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z0-9_-]*:.*## / { printf "  %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

deps: ## Install missing Debian build packages and Python test tools (apt-get as root; else prints the command)
	@scripts/deps.sh base test

deps-bench: ## Install missing packages for `make bench` (nginx, wrk) as well as the base ones
	@scripts/deps.sh base bench

build: ## Release build (static Swift stdlib) -> .build/release/chat, copied to ./chat
	$(SWIFT) build -c release --static-swift-stdlib
	cp -f $(RELEASE_BIN) chat

debug: ## Debug build -> .build/debug/chat
	$(SWIFT) build

run: deps build ## Build (release), migrate DATA_DIR and start `chat serve` on LISTEN
	$(RELEASE_BIN) migrate up $(DATA_FLAGS)
	exec $(RELEASE_BIN) serve $(DATA_FLAGS) $(LISTEN_FLAGS)

dev: deps ## Debug build, serve with --log-level debug; rebuild and restart when Sources/migrations/static change
	@SWIFT='$(SWIFT)' scripts/dev.sh $(DATA_FLAGS) $(LISTEN_FLAGS)

# Suites that drive a real server over sockets run in a process of their own: beside 700 other tests, the
# server's async handlers wait in the cooperative pool's queue behind them (CI once saw more than 30 s).
SOCKET_SUITES := HTTPServerTests\.HTTPServerTests/

test: deps ## Build, run the Swift unit tests, then the end-to-end suite (pytest Tests/EndToEndTests)
	$(SWIFT) build --build-tests
	@unit=0; e2e=0; \
	echo "==> swift test (all but the socket suites)"; \
	$(SWIFT) test --skip-build --skip '$(SOCKET_SUITES)' || unit=$$?; \
	echo "==> swift test (socket suites, on their own)"; \
	$(SWIFT) test --skip-build --filter '$(SOCKET_SUITES)' || unit=$$?; \
	echo "==> python3 -m pytest -q Tests/EndToEndTests (CHAT_BIN=$(CURDIR)/$(DEBUG_BIN))"; \
	CHAT_BIN='$(CURDIR)/$(DEBUG_BIN)' python3 -m pytest -q $(PYTEST_ARGS) Tests/EndToEndTests || e2e=$$?; \
	if [ "$$e2e" -eq 5 ]; then echo "make test: pytest collected no end-to-end tests: that counts as a failure"; fi; \
	if [ "$$unit" -ne 0 ] || [ "$$e2e" -ne 0 ]; then \
		echo "make test: FAILED (swift test exit $$unit, pytest exit $$e2e)"; exit 1; \
	fi; \
	echo "make test: unit and end-to-end tests passed"

lint: ## Check formatting with swift-format (strict)
	$(SWIFT) format lint --strict --recursive $(FORMAT_PATHS)

fmt: ## Reformat the Swift sources in place with swift-format
	$(SWIFT) format format --in-place --recursive $(FORMAT_PATHS)

migrate-up: build ## Apply pending migrations to DATA_DIR (all, or N=count)
	$(RELEASE_BIN) migrate up $(N) $(DATA_FLAGS)

migrate-down: build ## Roll back the last N=1 migrations in DATA_DIR
	$(RELEASE_BIN) migrate down $(or $(N),1) $(DATA_FLAGS)

migrate-status: build ## Show which migrations DATA_DIR has applied
	$(RELEASE_BIN) migrate status $(DATA_FLAGS)

rand-user: build ## Create N random users in DATA_DIR for demos and benchmarks (make rand-user N=10000)
	$(RELEASE_BIN) seed --users $(or $(N),1000) $(DATA_FLAGS)

create-migration: export MIGRATION_NAME = $(name)
create-migration: ## Create migrations/NNNN_<name>.up.sql and .down.sql (make create-migration name=add_rooms)
	@scripts/create-migration.sh "$$MIGRATION_NAME"

bench: deps-bench build ## Benchmarks: /healthz vs nginx, cold start, RSS (bench/http.sh); logins and JWT (bench/auth.sh); chat data (bench/chat.sh); WebSocket fan-out, latency, idle memory vs a Go hub (bench/ws.sh)
	$(SWIFT) build -c release --static-swift-stdlib --product chat-bench
	$(SWIFT) build -c release --static-swift-stdlib --product chat-wsbench
	bench/http.sh
	bench/auth.sh
	bench/chat.sh
	bench/ws.sh
	bench/blobs.sh

swagger: ## Build, save /openapi.json and /asyncapi.json of a briefly started server to docs/, validate them
	@SWIFT='$(SWIFT)' scripts/swagger.sh

clean: ## Remove build products, ./chat and bench/out
	$(SWIFT) package clean
	rm -f chat
	rm -rf bench/out
