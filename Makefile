# Throughline: two commands. `make run` starts the whole system; `make test` checks all of it.
# Both create the virtualenv under .venv and install pinned dependencies on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PACKAGES := -e shared/events -e shared/platform -e shared/messaging -e services/crm -e services/erp -e services/gateway -e .

.PHONY: run test lint typecheck audit unit reset install lock clean-check bench bench-smoke

$(STAMP): requirements/constraints.txt requirements/dev.txt pyproject.toml */*/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -c requirements/constraints.txt $(PACKAGES) -r requirements/dev.txt
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@sh tests/ensure_pango.sh
	@$(PY) -m devstack.stack

test: $(STAMP) lint typecheck audit
	@sh tests/web/ensure_chromium.sh
	@sh tests/ensure_pango.sh
	@mark=pytest-$$$$; THROUGHLINE_STACK=$$mark $(PY) -m pytest && THROUGHLINE_STACK=$$mark $(PY) -m devstack.leftovers
	@$(MAKE) --no-print-directory bench-smoke

# ESLint (and axe-core for the browser tests) pinned in tests/web/package-lock.json; Node from Debian when missing.
lint: $(STAMP)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/lint-imports --no-cache
	@sh tests/web/ensure_node.sh
	@tests/web/node_modules/.bin/eslint -c tests/web/eslint.config.js --max-warnings 0 services/gateway/gateway/web/assets

typecheck: $(STAMP)
	@$(VENV)/bin/mypy

# Every pinned dependency against PyPI's advisory data (devstack/audit.py says how, and what it cannot see).
audit: $(STAMP)
	@$(PY) -m devstack.audit

unit: $(STAMP)
	@$(PY) -m pytest tests/unit tests/contract

# The benchmark suite (issue 7): starts the system itself, runs every scenario, prints a table and writes
# the figures into docs/benchmarks.md. Separate from `make test`, which runs only the few-second smoke variant.
bench: $(STAMP)
	@$(PY) -m bench

bench-smoke: $(STAMP)
	@$(PY) -m bench --smoke

reset:
	rm -rf var

# Re-pin every dependency to what is installed now (after changing a pyproject.toml or requirements/dev.txt).
lock: $(STAMP)
	@$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > requirements/constraints.txt
