# make run   - set up, then launch Hark
# make test  - set up, then run every test headless
# make check - set up, then lint, format check, type check and import contracts (CI runs it first)
# make bench - set up, then run the benchmarks (by hand; not part of tests)
# make screenshots - render the main window's states under Xvfb into docs/screenshots/
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup run test check bench screenshots clean

setup:
	@bash packaging/setup-dev.sh

run: setup
	$(VENV)/bin/hark $(ARGS)

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

check: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench: setup
	$(PY) -m bench $(ARGS)

screenshots: setup
	xvfb-run -a -s "-screen 0 1400x900x24" $(PY) packaging/screenshots.py docs/screenshots

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache build *.egg-info
