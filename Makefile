# Two commands do everything: `make run` (set up and start the platform) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install aggregation-env run worker web test lint bench-quick clean

# lie_learn (needed by escnn, the equivariant classifier) is rebuilt against numpy 2 from its
# wheel's Cython sources: tools/build_lie_learn.py explains why; it needs a C compiler.
$(VENV)/.installed: requirements.txt requirements-nodeps.txt tools/build_lie_learn.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -r requirements-nodeps.txt
	$(PY) tools/build_lie_learn.py
	touch $@

install: $(VENV)/.installed

# panoptes_aggregation (Zooniverse's own aggregation tool) pins numpy < 2.3 and scikit-learn < 1.7,
# so it lives in a virtualenv of its own; the tests run its command line on the platform's exports.
AGG_VENV ?= .venv-aggregation
$(AGG_VENV)/.installed:
	$(PYTHON) -m venv $(AGG_VENV)
	$(AGG_VENV)/bin/python -m pip install -q "panoptes_aggregation==5.3.1"
	touch $@

aggregation-env: $(AGG_VENV)/.installed

# Embedded defaults: SQLite and a file-based Celery broker under var/; nothing to install by hand.
# Starts a Celery worker and the web app, loads the demo survey with a progress bar, and
# stops both on Ctrl-C.
run: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py ensure_admin
	$(PY) manage.py run_embedded --host $(HOST) --port $(PORT)

worker: install
	$(VENV)/bin/celery -A rgzplatform worker --loglevel INFO -Q default,training

test: install aggregation-env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench-quick: install
	$(PY) bench/queue_load.py --quick

clean:
	rm -rf var tests/artifacts
