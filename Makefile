# chorus: make demo | make test | make bench | make lint | make messages
# (lint also checks that imports go down the layers: lint-imports, [tool.importlinter]
# in pyproject.toml)
#
# The venv is created from scratch when missing; pip runs again only when
# pyproject.toml is newer than the stamp file of that install.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: demo test bench bench-sirene-scale bench-million lint messages system-deps bench-deps

demo: $(VENV)/.installed
	$(BIN)/chorus demo

# One pytest worker per core (pytest-xdist), each with its own PostgreSQL cluster and
# worlds; a file's tests stay on one worker (module-scoped worlds are built once). The
# tests' files (SQLite stores, the clusters) go to /dev/shm when there is one: on disk,
# SQLite's fsync at each commit (synchronous=FULL) is ~40 % of a SQLite test's time.
TEST_TMPDIR ?= $(shell test -d /dev/shm -a -w /dev/shm && echo /dev/shm || echo $${TMPDIR:-/tmp})

test: system-deps $(VENV)/.installed-dev
	TMPDIR=$(TEST_TMPDIR) $(BIN)/pytest -q -n auto --dist loadfile $(PYTEST_ARGS)

bench: system-deps bench-deps $(VENV)/.installed
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/sirene.py
	$(BIN)/python benchmarks/bulk.py
	$(BIN)/python benchmarks/sheets.py
	$(BIN)/python benchmarks/scripting.py
	$(BIN)/python benchmarks/listings.py
	$(BIN)/python benchmarks/serve.py

# STR-2, opt-in (not in `make bench`): the national stock at SCALE_ROWS establishments
# beside the 1-million-row run, and PostgreSQL's import at both sizes; the generated files
# (~3 GB per 10 million rows, 40 million: ~12 GB and the stores) go to SCALE_DIR.
# 10 million rows: about 28 minutes on 2 shared cores (4 of them generating the files).
SCALE_ROWS ?= 10000000
SCALE_DIR  ?= $${TMPDIR:-/tmp}/chorus-sirene-scale
bench-sirene-scale: system-deps bench-deps $(VENV)/.installed-dev
	$(BIN)/python benchmarks/sirene.py --scale $(SCALE_ROWS) --dir $(SCALE_DIR)
	rm -rf $(SCALE_DIR)

# Opt-in, not in `make bench` (issue 21): the flows at 1,000,000 rows against 100,000,
# per row and in memory, SQLite and PostgreSQL (bulk.py, 2 rounds: 8 to 35 min on 2
# shared cores, quiet to loaded), and `chorus seed --accounts 1000000` against a raw
# insert of as many rows (scripting.py, 2 rounds: ~15 min). Their files (a few GB with the PostgreSQL
# cluster) go to BENCH_TMPDIR.
BENCH_TMPDIR ?= $${TMPDIR:-/tmp}
bench-million: system-deps bench-deps $(VENV)/.installed
	TMPDIR=$(BENCH_TMPDIR) $(BIN)/python benchmarks/bulk.py --scale 1000000
	TMPDIR=$(BENCH_TMPDIR) $(BIN)/python benchmarks/scripting.py --scale 1000000

# SET-5: extract the message keys and help texts, update each language's .po (new
# entries empty, to fill), compile the .mo files the package ships (Babel, dev only).
messages: $(VENV)/.installed-dev
	$(BIN)/python -m chorus_cli.tools.catalogues all

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# The tests start their own PostgreSQL cluster with initdb/pg_ctl, run as the
# `postgres` user: install the server only when those binaries are missing.
system-deps:
	@missing=; for b in initdb pg_ctl; do \
	  command -v $$b >/dev/null || ls /usr/lib/postgresql/*/bin/$$b >/dev/null 2>&1 || missing=1; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "PostgreSQL server (initdb/pg_ctl) not found: installing it"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	fi
	@id postgres >/dev/null 2>&1 || $(SUDO) useradd --system --user-group \
	  --home-dir /var/lib/postgresql --shell /bin/bash postgres
	@# The MFA tests check our QR codes and TOTP codes with independent tools:
	@# zbarimg (zbar-tools) decodes the QR code drawn in the terminal, oathtool computes codes;
	@# the README tour (tests/test_readme_tour.py) reads the outbox with jq and calls
	@# `chorus serve` with curl («Intégrateurs»).
	@missing=; for b in zbarimg oathtool jq curl; do command -v $$b >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  echo "zbarimg/oathtool/jq/curl not found: installing zbar-tools, oathtool, jq and curl"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y zbar-tools oathtool jq curl; \
	fi
	@# OUT-4: the spreadsheet round trip tests save exports with LibreOffice, headless.
	@command -v soffice >/dev/null || { \
	  echo "soffice not found: installing libreoffice-calc-nogui"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y libreoffice-calc-nogui; }

# The benchmarks' floors use SQLite's own shell (sqlite3 .import, sqlite3 -csv).
bench-deps:
	@command -v sqlite3 >/dev/null || { \
	  echo "sqlite3 shell not found: installing it"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y sqlite3; }
	@# benchmarks/serve.py loads `chorus serve` with wrk (50 connections, latency percentiles).
	@command -v wrk >/dev/null || { \
	  echo "wrk not found: installing it"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
