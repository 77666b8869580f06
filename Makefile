# make run   - set up, then launch Hark
# make test  - set up, then run every test headless
# make bench - set up, then run the benchmarks (by hand; not part of tests)
VENV ?= .venv
PY := $(VENV)/bin/python
export QT_QPA_PLATFORM ?= offscreen

.PHONY: setup run test bench clean

setup:
	@bash packaging/setup-dev.sh

run: setup
	$(VENV)/bin/hark $(ARGS)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
