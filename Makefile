# The two commands of the README:  make book   and   make test
# Both create .venv if missing and install the pinned, tested versions first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider
JOBS   ?= 2   # notebooks executed at once before a book build (lrnotes.book_exec)

.PHONY: book test setup lab unit notebooks book-test timings exercises reader clean
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
	$(BIN)/python -m lrnotes.book_exec --jobs $(JOBS)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

## make lab: open the reader's notebooks (notebooks/, what Colab opens) in JupyterLab
lab: setup
	$(BIN)/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir="$(CURDIR)/notebooks"

## make test: every test: units, torch parity, properties, exercises, notebooks (nbval), book, browser
test: setup unit notebooks book-test

unit: setup
	$(PYTEST) -n 2 -m "not book" tests

## nbval over every notebook, one at a time, with each notebook's run time (budget: tests/nbtiming.py)
notebooks: setup
	$(PYTEST) --nbval-lax -p tests.nbtiming chapters exercises

timings: notebooks

book-test: setup
	$(BIN)/python -m lrnotes.book_exec --jobs $(JOBS)
	$(PYTEST) -m book tests

## regenerate the student notebooks from exercises/solutions (never overwrites a student's edits)
exercises: setup
	$(BIN)/python -m lrnotes.exercises

## make reader: regenerate notebooks/ (plain Markdown for Jupyter and Colab) from the built
## book; never overwrites a notebook a reader has edited
reader: book
	$(BIN)/python -m lrnotes.reader

clean:
	rm -rf _build
