# The two commands of the course:
#   make lab    set everything up (first time only) and open the course in JupyterLab
#   make test   set everything up (first time only) and run every test
# and the extras (README says more):
#   make models    train (or find in the cache) every model of the series ahead of time, then
#                  print a table of what was loaded and what trained
#   make site      the course as a static website in build/site/, to publish it
#                  (EDITION=student: without the exercises' solutions, in build/site-student/)
#   make assignments   the student edition, made by nbgrader: build/student/notebooks/ and the
#                  nbgrader course folder build/course/ (tools/assignments.py); `make student` too
#   make grade SUBMISSIONS=folder   autograde students' notebooks: build/course/grades.csv and
#                  feedback per student (ASSIGNMENT=06 grades one notebook; TIMEOUT=60 s per cell)
#   make handout   the zip students get: student notebooks, helpers/, Makefile, ... (tools/handout.py)
#   make pdf       each notebook executed, as a PDF in build/pdf/ (tools/pdf.py)
#   make slides    after editing a notebook: recompute its slide metadata (tools/slides.py)
#   make pack      the class model pack: make models, then every model of the series in one file
#                  (build/autoencoders-models-<version>.zip, or PACK=file) for students
#   make unpack PACK=file   check a pack, then install its models into the cache (tools/pack.py);
#                  CACHE=folder installs into that folder (a class server's shared, read-only one)
#   make hub       (as root) JupyterHub for a class on this machine, on 127.0.0.1:8000: the
#                  students' group, a CPU and memory share each, the student edition copied
#                  into each home, the shared model folder (hub/jupyterhub_config.py)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8888
# Extra JupyterLab options, e.g. LAB_ARGS=--no-browser
LAB_ARGS ?=
# The class model pack's file: where `make pack` writes it (default under build/), what
# `make unpack` installs
PACK ?=
# Where `make unpack` installs (default: the cache, AE_CACHE_DIR or data/cache)
CACHE ?=
# The folder `make lab` serves, e.g. NOTEBOOK_DIR=build/student/notebooks to try the student edition
NOTEBOOK_DIR ?= notebooks
# make site EDITION=student: the website without the exercises' solutions
EDITION ?= instructor
# make grade: the folder of students' notebooks, one notebook to grade (e.g. 06; default: all),
# and the seconds a cell may run before nbgrader stops it
SUBMISSIONS ?=
ASSIGNMENT ?=
TIMEOUT ?= 60
NBGRADER_SERVER_EXTENSIONS := $(addprefix nbgrader.server_extensions.,formgrader assignment_list \
	course_list validate_assignment)
# JupyterLab reads setting defaults from here: the course's key for the slideshow (Alt+R).
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d

# make hub's settings; empty means hub/jupyterhub_config.py's default, e.g.
#   sudo make hub HUB_CPU=2 HUB_MEMORY=3G SHARED_CACHE=/srv/autoencoders/models
HUB_PORT ?=
HUB_GROUP ?=
HUB_ADMINS ?=
HUB_CPU ?=
HUB_MEMORY ?=
STUDENT_EDITION ?=
SHARED_CACHE ?=

.PHONY: install install-hub hub lab test models pack unpack site benchmarks clean-cache student slides \
	assignments grade handout pdf

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml jupyter/autoencoders-course.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	mkdir -p $(LAB_OVERRIDES)
	cp jupyter/autoencoders-course.json $(LAB_OVERRIDES)/
	# nbgrader is used from make (assignments, grade); its JupyterLab parts (assignment list,
	# formgrader, course list, validate button) expect a JupyterHub exchange the course has not
	# got, so the course's JupyterLab leaves them off (`jupyter ... enable` turns them on)
	$(VENV)/bin/jupyter server extension disable --sys-prefix $(NBGRADER_SERVER_EXTENSIONS) >/dev/null
	$(VENV)/bin/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null
	touch $@

# What the hub adds: JupyterHub in .venv, its proxy from npm in hub/node_modules
install-hub: $(VENV)/.installed-hub

$(VENV)/.installed-hub: $(VENV)/.installed hub/requirements.txt hub/package-lock.json
	$(PY) -m pip install -r hub/requirements.txt
	npm ci --prefix hub --no-audit --no-fund
	touch $@

# Without STUDENT_EDITION, the student edition is made first (make student)
hub: install-hub $(if $(STUDENT_EDITION),,student)
	$(if $(HUB_PORT),AE_HUB_PORT=$(HUB_PORT)) $(if $(HUB_GROUP),AE_HUB_GROUP=$(HUB_GROUP)) \
	$(if $(HUB_ADMINS),AE_HUB_ADMINS=$(HUB_ADMINS)) $(if $(HUB_CPU),AE_HUB_CPU=$(HUB_CPU)) \
	$(if $(HUB_MEMORY),AE_HUB_MEMORY=$(HUB_MEMORY)) \
	$(if $(STUDENT_EDITION),AE_HUB_STUDENT_EDITION=$(STUDENT_EDITION)) \
	$(if $(SHARED_CACHE),AE_SHARED_CACHE_DIR=$(SHARED_CACHE)) \
	$(VENV)/bin/jupyterhub -f hub/jupyterhub_config.py

# JupyterLab on 127.0.0.1 with a fresh random token, kept off the command line; the script
# prints the full link that logs in once the server answers (see tools/lab.py).
lab: install
	$(PY) -I tools/lab.py --port="$(PORT)" --notebook-dir="$(NOTEBOOK_DIR)" $(LAB_ARGS)

test: install
	$(PY) -m pytest

models: install
	$(PY) -m helpers.recipes

# pack trains or loads every model first (the same table as make models), then packs them
pack: install
	$(PY) tools/pack.py pack $(if $(PACK),--out "$(PACK)")

unpack: install
	$(PY) tools/pack.py unpack "$(PACK)" $(if $(CACHE),--cache "$(CACHE)")

site: install website/node_modules/.package-lock.json
	$(PY) -m website.build --edition "$(EDITION)"

# KaTeX, which writes the website's maths into its pages (website/package.json): Node.js and npm
website/node_modules/.package-lock.json: website/package.json website/package-lock.json
	@command -v npm >/dev/null || { echo "make site needs Node.js and npm (Debian: apt-get install nodejs npm): KaTeX renders the maths"; exit 1; }
	npm ci --prefix website --no-audit --no-fund


assignments: install
	$(PY) tools/assignments.py generate

# the old name of `make assignments`
student: assignments

# grading runs the notebooks: every model is made (or found in the cache) first
grade: models
	$(PY) tools/assignments.py grade "$(SUBMISSIONS)" $(if $(ASSIGNMENT),--assignment "$(ASSIGNMENT)") --timeout "$(TIMEOUT)"

handout: assignments
	$(PY) tools/handout.py

pdf: models
	$(PY) tools/pdf.py

slides: install
	$(PY) tools/slides.py

benchmarks: install
	$(PY) -m benchmarks

clean-cache:
	rm -rf data/cache
