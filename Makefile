# The two commands of the course:
#   make lab    set everything up (first time only) and open the course in JupyterLab
#   make test   set everything up (first time only) and run every test
# and, for teachers:
#   make student   the notebooks without their worked solutions, in build/student/notebooks/
#   make slides    after editing a notebook: recompute its slide metadata (tools/slides.py)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8888
# A fresh random token for each `make lab`: only someone holding the printed link gets in.
TOKEN ?= $(shell $(PYTHON) -c 'import secrets; print(secrets.token_hex(24))')
# Extra JupyterLab options, e.g. LAB_ARGS=--no-browser
LAB_ARGS ?=
# The folder `make lab` serves, e.g. NOTEBOOK_DIR=build/student/notebooks to try the student edition
NOTEBOOK_DIR ?= notebooks
# JupyterLab reads setting defaults from here: the course's key for the slideshow (Alt+R).
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d
# Jupyter refuses to run as root unless told to (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test benchmarks clean-cache student slides

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml jupyter/autoencoders-course.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	mkdir -p $(LAB_OVERRIDES)
	cp jupyter/autoencoders-course.json $(LAB_OVERRIDES)/
	touch $@

lab: install
	$(PY) -m jupyterlab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
		--IdentityProvider.token=$(TOKEN) --ServerApp.root_dir=$(NOTEBOOK_DIR) $(ROOT_FLAG) $(LAB_ARGS)

test: install
	$(PY) -m pytest

student: install
	$(PY) tools/student.py

slides: install
	$(PY) tools/slides.py

benchmarks: install
	$(PY) -m benchmarks

clean-cache:
	rm -rf data/cache
