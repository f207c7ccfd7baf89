# The two commands of the course:
#   make lab    set everything up (first time only) and open the course in JupyterLab
#   make test   set everything up (first time only) and run every test
# and, to publish it:
#   make site   the course as a static website in build/site/ (see README)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8888
# A fresh random token for each `make lab`: only someone holding the printed link gets in.
TOKEN ?= $(shell $(PYTHON) -c 'import secrets; print(secrets.token_hex(24))')
# Extra JupyterLab options, e.g. LAB_ARGS=--no-browser
LAB_ARGS ?=
# Jupyter refuses to run as root unless told to (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test site benchmarks clean-cache

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	touch $@

lab: install
	$(PY) -m jupyterlab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
		--IdentityProvider.token=$(TOKEN) --ServerApp.root_dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

test: install
	$(PY) -m pytest

site: install
	$(PY) -m website.build

benchmarks: install
	$(PY) -m benchmarks

clean-cache:
	rm -rf data/cache
