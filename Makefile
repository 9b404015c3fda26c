# One entry point for people and CI. `make demo` and `make test` set up everything they need themselves:
# a Python virtualenv in .venv with the package built into it, and the npm package with its native addon.
#
#   make demo    build, then run the Python and Node demos against the bundled mock authorization server
#   make test    every gate and every suite: Rust, Python, Node

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
# Tests and the demo use the unoptimised build: it compiles in a fraction of the time. Benchmarks build release.
PROFILE ?= debug
export M2M_AUTH_BUILD_PROFILE := $(PROFILE)
# The core's test hooks (a fetch that panics) in the builds the tests use; `make dist` builds without them.
export M2M_AUTH_TEST_HOOKS := 1
export CARGO_TERM_COLOR := never

.PHONY: help setup setup-python setup-node setup-redis demo test lint test-rust test-python test-node test-dist clean bench soak dist

help:
	@echo "make demo   - set up and run the demo (Python and Node) against the bundled mock server"
	@echo "make test   - set up and run every check and test suite"

$(VENV)/.tools: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup-python: $(VENV)/.tools
	VIRTUAL_ENV=$(abspath $(VENV)) PATH=$(abspath $(VENV))/bin:$$PATH \
		maturin develop --quiet --features test-hooks $(if $(filter release,$(PROFILE)),--release,)

setup-node:
	npm install --no-audit --no-fund --loglevel=error

setup: setup-python setup-node

# The shared-cache tests run a real redis-server (started on a free port, stopped by PID). Installed from
# Debian's packages when missing and this is root (CI); otherwise a clear failure, never a skipped test.
setup-redis:
	@command -v redis-server >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing redis-server (Debian package)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null 2>&1 || \
	      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }; \
	  else \
	    echo "redis-server is needed by the shared-cache tests: install it (Debian: apt-get install redis-server)" >&2; \
	    exit 1; \
	  fi; }

demo: setup
	@echo "=== Python ==="
	$(VPY) examples/demo.py
	@echo "=== Node ==="
	node examples/demo.js

lint: setup-python
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	$(VENV)/bin/ruff check python tests/python tests/fleet examples
	$(VENV)/bin/ruff format --check python tests/python tests/fleet examples
	$(VENV)/bin/mypy python/m2m_auth
	$(VPY) -m mypy.stubtest m2m_auth._native

test-rust: setup-redis
	cargo test --workspace --locked

# The fleet test (tests/python/test_fleet.py) runs Node processes too: the npm package must be built.
test-python: setup-python setup-node setup-redis
	$(VPY) -m pytest -q

test-node: setup-node setup-redis
	node --test tests/node/
	npx tsc -p tests/node/tsconfig.json

test: lint test-rust test-python test-node test-dist

clean:
	rm -rf $(VENV) node_modules node/*.node target

# Packages that install without Rust (target/dist/): an abi3 manylinux wheel with the m2m-auth binary, the
# npm package and its per-platform package with the prebuilt addon and binary, the standalone binary.
dist: setup-python
	bash packaging/dist.sh

# Installs what `make dist` built into a fresh virtualenv and an empty npm project, with no cargo on PATH,
# and runs the README's first use and `m2m-auth --help` from each.
test-dist: dist
	bash packaging/test-dist.sh

# Benchmarks against the peers (bench/README.md): its own venv and npm install, release builds, ~5-10 min.
bench:
	PYTHON=$(PYTHON) bash bench/run.sh

# Ten minutes of 1000 Python and 1000 Node callers against 2 s tokens, 503s and dropped connections
# (bench/soak/): 0 errors, 0 expired tokens, flat memory and descriptors; writes bench/soak.md.
soak:
	bash bench/soak/run.sh
