# The two commands of the README:  make book   and   make test
# Both create .venv if missing and install the pinned, tested versions first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider
JOBS   ?= 2   # notebooks executed at once before a book build (_ext.book_exec)

.PHONY: book test setup lab unit notebooks book-test bench timings exercises reader clean
# Jupyter refuses to run as root without --allow-root (containers, Docker, cloud notebooks)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

## make book: build the HTML book, executing every notebook, $(JOBS) at a time, into the
## build's cache first (a warm rebuild runs nothing)
book: setup
	$(BIN)/python -m _ext.book_exec --jobs $(JOBS)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

## make lab: open the reader's notebooks (notebooks/, what Colab opens) in JupyterLab
lab: setup
	$(BIN)/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir="$(CURDIR)/notebooks"

## make test: every test: units, torch parity, properties, exercises, notebooks (nbval), book, browser.
## Each notebook is executed once: nbval runs it, and the book is built from what nbval ran.
test: setup unit notebooks book-test

unit: setup
	$(PYTEST) -n 2 -m "not book" tests

## nbval over every notebook, $(JOBS) at a time; each notebook's outputs are kept for the book
## (tests/nbcache.py) and its run time is recorded, not asserted (tests/nbtiming.py)
notebooks: setup
	$(PYTEST) -n $(JOBS) --dist loadfile --nbval-lax -p tests.nbcache -p tests.nbtiming chapters exercises

## the book's tests: the book is built (warnings are errors) from the notebooks that nbval has
## just executed (nothing runs twice), then the build, browser, JupyterLab and install tests
## run $(JOBS) at a time
book-test: setup
	$(BIN)/python -m _ext.book_exec --jobs $(JOBS) --from-nbval _build/.nbval_executed
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(PYTEST) -n $(JOBS) --dist loadfile -m book tests

## make bench: time every notebook alone, one at a time, against its budget (chapter <= 60 s,
## all chapters <= 600 s, exercise <= 15 s); the table goes to _build/timings.md. A benchmark,
## not a test: only a runaway (3x its budget) fails it.
bench: setup
	$(PYTEST) --nbval-lax -p tests.nbtiming chapters exercises

timings: bench

## regenerate the student notebooks from exercises/solutions (never overwrites a student's edits)
exercises: setup
	$(BIN)/python -m lrnotes.exercises

## make reader: regenerate notebooks/ (plain Markdown for Jupyter and Colab) from the built
## book; never overwrites a notebook a reader has edited
reader: book
	$(BIN)/python -m _ext.reader

clean:
	rm -rf _build
