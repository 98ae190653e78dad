# `make run` and `make test` do their own set-up: a .venv with the project installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The top-level folders, installed as clusterlabel.<folder> (setup.py maps them).
FOLDERS := domain activities workflows projections interfaces tools

.PHONY: run test lint install browser bench bench-quick soak clean messages

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/clusterlabel serve

# Whole modules on TEST_WORKERS workers (a module's engine is started once, by the worker running it),
# the slowest first (tests/conftest.py), not reordered by xdist. A worker that dies (a test past its
# timeout ends its worker: timeout_method "thread") is not replaced: the run fails, naming the test, once
# the other worker has run what it holds. xdist 3.8's replacement of a crashed worker under --dist
# loadfile can wait for ever (pytest-xdist#784, #1323), as a CI run did until its time limit.
TEST_WORKERS ?= 2
test: $(STAMP) browser lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --max-worker-restart=0 \
		--durations=40

# The house keeps itself tidy: formatted, linted and type-checked (settings in pyproject.toml).
# mypy checks the folders under their installed name, laid out as links in .typecheck/clusterlabel/.
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	@mkdir -p .typecheck/clusterlabel
	@for folder in $(FOLDERS); do ln -sfn ../../$$folder .typecheck/clusterlabel/$$folder; done
	$(BIN)/mypy

# The browser tests drive Debian's chromium; as root, install it when missing.
browser:
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# Figures on real servers against bare baselines; writes bench-results.json.
# With a PostgreSQL server answering at BENCH_POSTGRES_URL, every figure again on it (under `postgres`),
# then a 10-minute soak there (under `soak`); `clusterlabel bench --soak MINUTES` runs the soak alone.
BENCH_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
bench: $(STAMP)
	$(BIN)/clusterlabel bench --postgres-url $(BENCH_POSTGRES_URL)

bench-quick: $(STAMP)
	$(BIN)/clusterlabel bench --quick --postgres-url $(BENCH_POSTGRES_URL)

# The long forms of the fault tests that `make test` runs short: a two-minute database outage, a
# two-minute mail server outage, twenty random interleavings of 60 moves, 200 cases scaled out on
# PostgreSQL while PostgreSQL and the Temporal server are each stopped for a minute, a worker is killed
# and the API and the projection runner are killed and started again, and the worker killed after
# every command the fault-injection scenario reaches (not only six).
soak: $(STAMP)
	CLUSTERLABEL_OUTAGE_SECONDS=120 CLUSTERLABEL_INTERLEAVINGS=20 CLUSTERLABEL_SCALE_OUT_CASES=200 \
		CLUSTERLABEL_SCALE_OUT_OUTAGE_SECONDS=60 \
		CLUSTERLABEL_FAULTS=all $(BIN)/python -m pytest tests/workflows/test_database_outage.py \
		tests/e2e/test_mail.py tests/workflows/test_interleavings.py tests/e2e/test_scale_out.py \
		tests/workflows/test_fault_injection.py

clean:
	rm -rf $(VENV) .clusterlabel .pytest_cache .typecheck

# The messages' catalogue (activities/content/locale): extract the strings of the templates and the code,
# bring every translation up to date, compile them. Translate what `pybabel update` left empty or fuzzy in
# the .po files, run this again, and commit the .po and .mo files alike.
CONTENT := activities/content
messages: $(STAMP)
	$(BIN)/pybabel extract -F $(CONTENT)/babel.cfg -k N_ --no-location --omit-header -o $(CONTENT)/locale/messages.pot $(CONTENT)
	$(BIN)/pybabel update -i $(CONTENT)/locale/messages.pot -d $(CONTENT)/locale -D messages --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(CONTENT)/locale -D messages --statistics
