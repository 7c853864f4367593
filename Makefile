# SPDX-License-Identifier: GPL-3.0-or-later
# Two entry points (see README): `make demo` and `make test`. Each creates .venv when needed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.paksatalker-installed

.PHONY: demo test lint bench clean-venv

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/paksatalker render --script-file docs/demo_script.txt --out demo.mp4 \
	    --resolution 640x360 --fps 24 --engine cycles --samples 4

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP) lint
	$(PY) -m pytest -q tests

bench: $(STAMP)
	$(PY) bench/pipeline_bench.py

clean-venv:
	rm -rf $(VENV)
