# Two commands: `make run` and `make test`. Everything else is what they call.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2

.PHONY: run consumer test setup venv translations db seed docs lint fmt babel-extract babel-update bench bench-load serve-prod clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# Compiles every translations/<locale>/LC_MESSAGES/messages.po; tolerates none yet.
translations: venv
	@if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(VENV)/bin/pybabel compile -f -d translations -D messages; \
	else \
		echo "translations: no catalogues in translations/ yet, nothing to compile"; \
	fi

db: venv
	$(FLASK) db upgrade

seed: db
	$(FLASK) seed

setup: venv translations db seed

# The web server and the job consumer together; Ctrl-C stops both.
run: setup
	@$(FLASK) jobs consumer & consumer=$$!; \
	trap 'kill -INT $$consumer 2>/dev/null; wait $$consumer' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# The job consumer alone (exports, imports, sends, schedules); production runs it as a service.
consumer: venv translations db
	$(FLASK) jobs consumer

test: venv translations
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# docs/workflows.md from the state tables (tests/test_workflow_docs.py keeps it current).
docs: venv
	$(FLASK) workflows

# ruff reads pyproject.toml (migrations/ excluded); "." covers ecqs, tests, seed, bench, app.py.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

babel-extract: venv
	$(VENV)/bin/pybabel extract -F translations/babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o translations/messages.pot .

babel-update: babel-extract
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations -D messages --no-fuzzy-matching --ignore-pot-creation-date

bench: setup
	@if [ -f bench/__main__.py ]; then $(PY) -m bench; else echo "bench: no benchmarks yet (bench/__main__.py)"; fi

# Production-like: reference data only (no demo accounts), gunicorn workers (README: Production).
serve-prod: venv translations db
	$(FLASK) seed --no-demo
	$(VENV)/bin/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) app:app

# Load on the production shape (gunicorn 2/4 workers, PostgreSQL, wrk): bench/RESULTS.md.
bench-load: venv translations
	@command -v wrk >/dev/null || { echo "bench-load: wrk missing (apt-get install wrk)"; exit 1; }
	$(PY) -m bench.load

clean:
	rm -rf instance .pytest_cache
