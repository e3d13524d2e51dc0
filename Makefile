# Lynx Portal. `make run` to try it, `make test` to check it; see README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

# The web and owner roles' URLs (README, Deploy) on the embedded PostgreSQL in .pgdata, or on
# the server of DATABASE_URL when that names a superuser; otherwise DATABASE_URL as given.
WITH_DB = DB_ENV=$$($(PY) scripts/devdb.py env) || exit 1; eval "$$DB_ENV"
# `make run` is for trying the portal on this machine: debug on, no HTTPS.
DEV_ENV = export DEBUG=$${DEBUG:-true}

.PHONY: run bootstrap test lint db-stop db-reset bench-adoption bench-inserts reliability bench

run: bootstrap
	@$(WITH_DB); $(DEV_ENV); \
	echo "Lynx Portal on http://127.0.0.1:8000/admin/"; \
	exec $(PY) manage.py runserver 127.0.0.1:8000

bootstrap: $(INSTALLED)
	@$(WITH_DB); $(DEV_ENV); \
	$(PY) manage.py migrate --no-input && $(PY) manage.py seed_demo

# The fuzz (tests/test_fuzz.py) is seeded: every run sends the same 2,000 requests, a regression
# check of the inputs it holds; looking for new ones is `make reliability`'s, with 50,000.
test: $(INSTALLED) lint
	@$(WITH_DB); $(PY) -m pytest

# The reliability campaign (figures into bench/reliability.md); `make test` runs its fast part.
# Its live part (bench/reliability.py) restarts a PostgreSQL of its own, in .pgdata-reliability.
RELIABILITY_REPORT := .reliability.jsonl
reliability: $(INSTALLED)
	@rm -f $(RELIABILITY_REPORT); $(WITH_DB); \
	LYNX_RELIABILITY_REPORT=$(CURDIR)/$(RELIABILITY_REPORT) LYNX_FUZZ_REQUESTS=50000 \
	LYNX_RACES=1000 $(PY) -m pytest -q -p no:logging tests/test_fuzz.py \
	tests/test_isolation_sweep.py tests/test_concurrency_campaign.py && \
	$(PY) bench/reliability.py --report $(RELIABILITY_REPORT)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Issue 8's benchmark (bench/README.md): seed `lynx_bench` at BENCH_SCALE unless seeded at it
# already (BENCH_SEED_FLAGS=--reset to replace another scale), then every page in-process
# beside the default admin and the SQL floor, then 50 people against gunicorn for 60 s.
BENCH_SCALE ?= 1
BENCH_SEED_FLAGS ?=
BENCH_RUN_FLAGS ?=
BENCH_LOAD_FLAGS ?=
BENCH_RESULTS := bench/results.md
bench: $(INSTALLED)
	@DB_ENV=$$($(PY) bench/env.py) || exit 1; eval "$$DB_ENV"; \
	export LYNX_BENCH=1 SECRET_KEY=$${SECRET_KEY:-bench-only-not-a-secret} \
		LYNX_REQUEST_STATEMENT_TIMEOUT=$${LYNX_REQUEST_STATEMENT_TIMEOUT:-0}; \
	$(PY) manage.py migrate --no-input -v0 && \
	$(PY) manage.py collectstatic --no-input -v0 && \
	$(PY) manage.py bench_seed --scale $(BENCH_SCALE) $(BENCH_SEED_FLAGS) \
		$${LYNX_BENCH_NEW_DATABASE:+--mark} && \
	$(PY) manage.py bench_run --out $(BENCH_RESULTS) $(BENCH_RUN_FLAGS) && \
	$(PY) manage.py bench_load --out $(BENCH_RESULTS) $(BENCH_LOAD_FLAGS)

# Lynx AI's insert stalls while migrate adopts 1M live audit events (bench/README.md).
bench-adoption: $(INSTALLED)
	@$(WITH_DB); $(PY) bench/adoption_stall.py

# What each of the portal's own indexes costs Lynx AI's inserts, in a scratch database
# (bench/README.md); BENCH_INSERTS_FLAGS="--rounds 10 --seconds 5" for longer rounds.
BENCH_INSERTS_FLAGS ?=
bench-inserts: $(INSTALLED)
	@$(WITH_DB); $(PY) bench/insert_cost.py $(BENCH_INSERTS_FLAGS)

db-stop: $(INSTALLED)
	$(PY) scripts/devdb.py stop

db-reset: $(INSTALLED)
	$(PY) scripts/devdb.py reset

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@
