# Two commands do everything: `make run` (the pipeline on Fashion-MNIST) and `make test`.
# Both create .venv and install the project into it first; nothing else is needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PARAMS ?= params/default.yaml
RUN_DIR ?=
RUN ?= $(shell ls -td reports/runs/*/ 2>/dev/null | head -1)
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: run test test-fast lock lab report reference notebooks data example-data lint clean serve loadtest bench tensorboard

# pyproject.toml says which versions the code accepts; requirements.lock pins every package at
# the version the suite was last run with, so a fresh machine (CI too) installs what was tested,
# not whatever is newest that day. The project itself goes in last, without dependencies: the
# lock already holds them, and `pip check` fails the install if pyproject.toml asks for one
# the lock lacks (then `make lock`). A changed lock re-makes this.
# The lock is resolved for Python 3.11.5 and later 3.11s (soupsieve 4.1.4 needs 3.11.5; Debian
# 12's own python3 is 3.11.2): another Python is refused first, rather than by pip on some wheel.
LOCK := requirements.lock
LAB_LOCK := requirements-lab.lock
LOCK_PYTHON_CHECK := import sys; sys.exit(None if (3, 11, 5) <= sys.version_info[:3] < (3, 12) \
	else f"$(LOCK) holds the versions tested on Python 3.11.5+, not {sys.version.split()[0]}: \
	make PYTHON=path/to/python3.11.5+ (pip install -e .[dev] takes the newest versions, untested)")
$(VENV)/.installed: $(LOCK) pyproject.toml
	@$(PYTHON) -c '$(LOCK_PYTHON_CHECK)'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip check
	touch $@

# Refresh the locks after changing a requirement in pyproject.toml: every pin that pyproject.toml
# still allows is kept (uv reads the old lock as its preferences), so only what the change
# forces moves. `make lock LOCK_FLAGS=--upgrade` moves every package to the newest allowed,
# LOCK_FLAGS="--upgrade-package keras" one; then `make test`, which installs the new lock.
# uv rather than pip-tools: it resolves for a stated target (CI's Linux x86_64, Python 3.11)
# on whatever machine runs it, where pip-compile resolves for its own interpreter and
# platform; and it takes seconds. Only `make lock` needs uv, from a venv of its own, so the
# project's venv stays exactly the lock; pip installs the lock. The lab lock holds the same
# pins plus JupyterLab's (`make lab`). Both take the postgres extra (psycopg), so CI installs
# and tests the driver that `sweep --storage postgresql://...` needs.
UV_VERSION := 0.13.9
UV := .venv-uv/bin/uv
LOCK_TARGET := --python-version 3.11.7 --python-platform x86_64-manylinux_2_28
LOCK_FLAGS ?=
$(UV):
	$(PYTHON) -m venv .venv-uv
	.venv-uv/bin/python -m pip install --quiet uv==$(UV_VERSION)

lock: $(UV)
	$(UV) pip compile pyproject.toml --extra dev --extra postgres $(LOCK_TARGET) $(LOCK_FLAGS) \
		--custom-compile-command "make lock" --quiet -o $(LOCK)
	$(UV) pip compile pyproject.toml --extra dev --extra postgres --extra lab --constraint $(LOCK) \
		$(LOCK_TARGET) $(LOCK_FLAGS) --custom-compile-command "make lock" --quiet -o $(LAB_LOCK)

# Fashion-MNIST from Debian's package where we may install it; otherwise the loader
# looks in data/raw/ and finally downloads it with Keras (see data/README.md).
data:
	@if [ ! -f $(FASHION_MNIST) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get install -y -q dataset-fashion-mnist || \
		 (apt-get update -q && apt-get install -y -q dataset-fashion-mnist)) >/dev/null; \
	fi

# Fashion-MNIST written out as CSV files and as PNG folders: the inputs of params/csv.yaml
# and params/folder.yaml (and an example of each format to copy).
example-data: $(VENV)/.installed data
	@test -f data/raw/fashion-mnist-csv/test.csv || \
		$(PY) -m helpers.data export-csv fashion_mnist data/raw/fashion-mnist-csv
	@test -d data/raw/fashion-mnist-png || \
		$(PY) -m helpers.data export-images fashion_mnist data/raw/fashion-mnist-png

run: $(VENV)/.installed data
	$(PY) -m helpers.runner run -f $(PARAMS) $(if $(RUN_DIR),--run-dir $(RUN_DIR))

# One pytest worker per core. The slow tests are papermill runs that spend much of their time
# starting kernels and importing TensorFlow on one core, so two workers on two cores finish
# the suite sooner than one (docs/testing.md has the figures). A module with module-scoped
# fixtures is one xdist_group, so they are built once; other tests go out one by one.
test: $(VENV)/.installed data
	$(PY) -m pytest -n logical --dist loadgroup

# The edit-test loop: every test that trains, exports and starts nothing (no kernel, server or
# browser): the unit tests, bar those marked slow (docs/testing.md). One process: on 2 cores two
# xdist workers took 31 s where one took 37-39, not worth a second TensorFlow in memory.
test-fast: $(VENV)/.installed data
	$(PY) -m pytest -m "not slow"

lab: $(VENV)/.installed data
	$(PY) -m pip install --quiet -r $(LAB_LOCK)
	$(VENV)/bin/jupyter lab notebooks/

report: $(VENV)/.installed
	@test -n "$(RUN)" || (echo "no run in reports/runs/: make run first, or RUN=DIR" && false)
	$(PY) -m helpers.runner report $(RUN)

# Copy a finished run (default: the newest) to reports/reference/$(NAME)/ for committing.
NAME ?= default
reference: $(VENV)/.installed
	@test -n "$(RUN)" || (echo "no run in reports/runs/: make run first, or RUN=DIR" && false)
	$(PY) -m helpers.runner publish $(RUN) $(NAME)

# Serve a run's model (default: the newest run) as a REST API and web page on
# http://127.0.0.1:$(PORT)/ (HOST=0.0.0.0 to listen on every interface).
HOST ?= 127.0.0.1
PORT ?= 8000
serve: $(VENV)/.installed
	@test -n "$(RUN)" || (echo "no run in reports/runs/: make run first, or RUN=DIR" && false)
	$(PY) -m helpers.serving --run-dir $(RUN) --host $(HOST) --port $(PORT)

# 50 clients for 30 s, 10% malformed requests, against a server started for the run;
# the figures land in the run's loadtest.json.
loadtest: $(VENV)/.installed
	@test -n "$(RUN)" || (echo "no run in reports/runs/: make run first, or RUN=DIR" && false)
	$(PY) -m helpers.serving.loadtest --run-dir $(RUN) --output $(RUN)/loadtest.json

# Time to 0.90 test accuracy: keras.io's simple MNIST convnet against the default profile,
# in one process on the same data (about 5 minutes on 2 cores), then training speed in
# float32 against bfloat16, then oneDNN on against off (each a few minutes); all three write
# JSON to reports/runs/bench/. Last, bench/summary.py prints them as one markdown table (with
# the CPU and its key flags) and writes reports/runs/bench/summary.json.
bench: $(VENV)/.installed data
	$(PY) bench/time_to_accuracy.py
	$(PY) bench/precision.py
	$(PY) bench/onednn.py
	$(PY) bench/summary.py

# Re-execute notebooks/ in place with their default parameters: the outputs nbval checks.
notebooks: $(VENV)/.installed data
	$(PY) -m helpers.runner refresh-notebooks

# Every run's curves side by side (training writes TensorBoard event files into each run).
tensorboard: $(VENV)/.installed
	$(VENV)/bin/tensorboard --logdir reports/runs

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check helpers tests

clean:
	rm -rf $(VENV) .venv-uv .pytest_cache .ruff_cache
