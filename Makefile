# krmfn: common tasks. `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON     ?= python3
VENV       ?= .venv
VERSION    ?= $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' pyproject.toml)
TAG        := v$(VERSION)
FUNCTIONS  := set-namespace ipam-inject vlan-assign site-specialize policy-validate nfdeploy
REGISTRY   ?= ghcr.io/krmfn
LOCAL      := localhost/krmfn
WHEELHOUSE := .cache/wheelhouse
PYTEST_ARGS ?=
FUZZ_SECONDS ?= 60

# Container runtime: podman when installed, else a reachable Docker engine, else podman
# (which `make images` then installs with scripts/setup-podman.sh).
ifeq ($(origin RUNTIME),undefined)
RUNTIME := $(shell if command -v podman >/dev/null 2>&1; then echo podman; \
	elif docker info >/dev/null 2>&1; then echo docker; else echo podman; fi)
endif

# Builds never touch the network: dependencies come from the wheelhouse, and with podman
# the base is the local stand-in for python:3.11-slim (never pulled).
BUILD_FLAGS := --network=none
ifeq ($(RUNTIME),podman)
BUILD_FLAGS += --pull=never
endif

.PHONY: help images runtime base-image image-base $(addprefix image-,$(FUNCTIONS)) \
	wheelhouse venv test demo demo-day2 demo-sites docs lint clean bench bench-quick fuzz

help: ## list the targets
	@grep -E '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-16s %s\n", $$1, $$2}'

# --- images ----------------------------------------------------------------------------

images: $(addprefix image-,$(FUNCTIONS)) ## build the function images (localhost/krmfn/<fn>, ghcr.io/krmfn/<fn>)

runtime: ## install and configure podman when no container engine is available
	@if ! command -v podman >/dev/null 2>&1 && ! docker info >/dev/null 2>&1; then \
		echo "no container engine found: setting up podman"; \
		scripts/setup-podman.sh; \
	fi

base-image: runtime ## provide python:3.11-slim (podman: a stand-in built or loaded from cache)
	@if [ "$(RUNTIME)" = podman ]; then scripts/build-base-image.sh; fi

wheelhouse: $(WHEELHOUSE)/.complete ## download the image's dependencies as wheels

$(WHEELHOUSE)/.complete: pyproject.toml scripts/build-wheelhouse.sh
	@echo "downloading dependencies into $(WHEELHOUSE)"
	@PYTHON=$(PYTHON) scripts/build-wheelhouse.sh $(WHEELHOUSE)
	@touch $@

image-base: base-image wheelhouse ## build the shared base image with the project installed
	@echo "building $(LOCAL)/base:$(TAG) with $(RUNTIME)"
	@$(RUNTIME) build $(BUILD_FLAGS) --quiet -f Dockerfiles/base.Dockerfile \
		--build-arg VERSION=$(VERSION) \
		-t $(LOCAL)/base:$(TAG) -t $(REGISTRY)/base:$(TAG) . >/dev/null

$(addprefix image-,$(FUNCTIONS)): image-%: image-base
	@echo "building $(LOCAL)/$*:$(TAG)"
	@$(RUNTIME) build $(BUILD_FLAGS) --quiet -f Dockerfiles/$*.Dockerfile \
		--build-arg BASE_IMAGE=$(LOCAL)/base:$(TAG) --build-arg VERSION=$(VERSION) \
		-t $(LOCAL)/$*:$(TAG) -t $(REGISTRY)/$*:$(TAG) . >/dev/null

# --- development -----------------------------------------------------------------------

venv: $(VENV)/.installed ## create $(VENV) with the project (editable), its test and docs tools

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -e '.[test,docs]'
	touch $@

test: venv ## run the test suite (container tests need `make images` first)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# Benchmarks run on a regular (not editable) install, as users and the images have it.
BENCH_VENV ?= .venv-bench

$(BENCH_VENV)/.installed: pyproject.toml $(shell find sdk functions fleet -name '*.py')
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet '.[bench]'
	touch $@

bench: $(BENCH_VENV)/.installed ## run every benchmark (ratios against baselines measured in the same run)
	$(BENCH_VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

bench-quick: $(BENCH_VENV)/.installed ## the 1,000-resource benchmarks and cold start only
	$(BENCH_VENV)/bin/python benchmarks/run.py --quick

fuzz: venv ## fuzz the reader and every function with atheris, FUZZ_SECONDS (60) per harness
	@$(VENV)/bin/python -c "import atheris" 2>/dev/null || \
		$(VENV)/bin/python -m pip install --quiet atheris
	@for harness in fuzz/fuzz_parse.py fuzz/fuzz_functions.py; do \
		echo "== $$harness ($(FUZZ_SECONDS)s; corpus and crashes under .cache/fuzz/)"; \
		$(VENV)/bin/python $$harness -max_total_time=$(FUZZ_SECONDS) -timeout=30 \
			-rss_limit_mb=4096 -print_final_stats=1 2>&1 | grep -v '^#[0-9]' ; \
	done

demo: venv ## render examples/fleet (PackageVariantSets, 3 regions) into demo-fleet-out/: what each cluster got, each SMF's UPFs, the plan for one more site
	$(VENV)/bin/python scripts/demo_fleet.py

demo-day2: venv ## day two of examples/fleet in demo-day2-out/: publish to git, a hand edit, a UPF blueprint upgrade merged with it, a conflict
	$(VENV)/bin/python examples/fleet/day2.py --work demo-day2-out

demo-sites: venv ## render examples/blueprint/upf-lite for every site of examples/sites.yaml with real kpt (demo-out/)
	$(VENV)/bin/python scripts/demo.py

docs: venv ## the API reference and the tutorial, from the docstrings, into site/ (warnings fail)
	$(VENV)/bin/python docs/build.py site

lint: venv ## ruff and mypy
	$(VENV)/bin/python -m ruff check .
	$(VENV)/bin/python -m mypy

clean: ## remove build outputs and caches (keeps $(VENV) and the images)
	rm -rf $(WHEELHOUSE) build dist .pytest_cache .mypy_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
