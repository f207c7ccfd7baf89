# The two commands of the course:
#   make lab    set everything up (first time only) and open the course in JupyterLab
#   make test   set everything up (first time only) and run every test
# and, to publish it:
#   make site   the course as a static website in build/site/ (see README)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8888
# Extra JupyterLab options, e.g. LAB_ARGS=--no-browser
LAB_ARGS ?=

.PHONY: install lab test site benchmarks clean-cache

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	touch $@

# JupyterLab on 127.0.0.1 with a fresh random token, kept off the command line; the script
# prints the full link that logs in once the server answers (see helpers/lab.py).
lab: install
	$(PY) -I helpers/lab.py --port=$(PORT) $(LAB_ARGS)

test: install
	$(PY) -m pytest

site: install
	$(PY) -m website.build

benchmarks: install
	$(PY) -m benchmarks

clean-cache:
	rm -rf data/cache
