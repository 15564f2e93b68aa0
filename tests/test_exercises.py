"""The exercise pipeline.

CI proves four things about every exercise:

1. every check the solution notebook calls reports *all passed* on its function-defining
   cells (nbval runs the whole notebook once);
2. the generated student notebook, executed as is, runs to its end and every check
   cell reports *todo* (the stub), with no crash of the grader;
3. the student notebooks are exactly what the generator makes from the solutions;
4. a student notebook whose stubs are replaced by hostile answers (an endless loop that
   catches everything, a C-level endless loop, NaN, a wrong type, ``os._exit``, a flood
   of output, a ``KeyboardInterrupt``) still runs to its end in bounded time, and every
   report says "not passed".

Notebooks run in this process (their code cells, in a fresh namespace each): fast, and
the grader isolates student code anyway. One hostile notebook also runs in a real
Jupyter kernel. Plus the conventions every exercise follows, and unit tests of the
generator and of its promise never to overwrite a student's work.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lrnotes import exercises as X
from lrnotes import grading as G

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((REPO / "exercises" / "solutions").glob("*.ipynb"))
IDS = [p.stem for p in SOLUTIONS]
# a stub: one line, or wrapped over several (adjacent string literals), ending in '")'
STUB = re.compile(r'^(?P<indent>[ \t]+)raise NotImplementedError\(\s*"Student exercise:.*?"\)[ \t]*$', re.M | re.S)
BOX = re.compile(r"```\{exercise\} (?P<title>[^\n]*)\n(?P<options>(?::[^\n]*\n)*)(?P<body>.*?)```", re.S)


def _student(solution: Path) -> Path:
    return solution.parent.parent / solution.name


def run_notebook(nb, where: Path) -> tuple[dict, str]:
    """Execute the notebook's code cells here, in a fresh namespace; return it and stdout."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns: dict = {"__name__": "__main__"}
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(where)
    try:
        with contextlib.redirect_stdout(out):
            for i, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    exec(compile(cell.source, f"{where.name}/cell-{i}", "exec"), ns)
    finally:
        os.chdir(cwd)
        plt.close("all")
    return ns, out.getvalue()


def reports(ns: dict) -> list[G.Report]:
    return [v for k, v in ns.items() if k.startswith("report_") and isinstance(v, G.Report)]


def n_check_cells(nb) -> int:
    return sum("G.check_" in c.source for c in nb.cells if c.cell_type == "code")


# ============================================================================ proof 1
@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_solution_notebook_runs_and_passes(solution):
    # nbval executes each solution notebook once in CI (its solution-only cells assert
    # report.passed); here only the cells that define the student's functions run, and
    # every check the notebook calls is run on them.  The sweep of the reference
    # solutions over many seeds lives in tests/test_answer_bank.py.
    from .test_answer_bank import notebook_checks

    nb = nbformat.read(solution, as_version=4)
    ns, calls = notebook_checks(solution.stem)
    assert calls and len(calls) >= n_check_cells(nb) > 0
    for name, args in calls:
        report = eval(f"G.{name}({args})", ns)
        assert report.passed, (name, report)


# ============================================================================ proof 2
@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_student_notebook_runs_and_reports_todo(solution):
    nb = nbformat.read(_student(solution), as_version=4)
    ns, out = run_notebook(nb, solution.parent.parent)
    found = reports(ns)
    assert len(found) == n_check_cells(nb) == n_check_cells(nbformat.read(solution, 4)) > 0
    for r in found:
        assert not r.passed and r.summary.endswith("(not passed yet)")
        assert r.results[0].status == "todo", r
        assert all(x.status == "skipped" for x in r.results[1:]), r
    assert "Traceback" not in out


# ============================================================================ proof 3
def test_student_notebooks_are_up_to_date():
    result = subprocess.run(
        [sys.executable, "-m", "lrnotes.exercises", "--check"],
        cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("up to date") == len(SOLUTIONS) >= 12


# ============================================================================ proof 4
HOSTILE = {
    "catch-all loop": "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        continue",
    "C-level loop": "import collections, itertools\ncollections.deque(itertools.count(), maxlen=0)",
    "NaN": "return float('nan')",
    "wrong type": "return 'forty-two'",
    "os._exit": "import os\nos._exit(3)",
    "output flood": "print('spam ' * 10**6)\nreturn None",
    "KeyboardInterrupt": "raise KeyboardInterrupt('x' * 10**6)",
}


def hostile(nb, offset: int = 0):
    """The notebook with each stub replaced by a hostile answer (cycling through them)."""
    kinds = list(HOSTILE)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue

        def swap(m):
            nonlocal count
            body = HOSTILE[kinds[(offset + count) % len(kinds)]]
            count += 1
            return "\n".join(m["indent"] + line for line in body.split("\n"))

        cell.source = STUB.sub(swap, cell.source)
    return nb, count


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_hostile_answers_still_run_to_the_end(solution, monkeypatch):
    monkeypatch.setattr(G, "TIME_LIMIT", 0.5)
    nb, n_stubs = hostile(nbformat.read(_student(solution), as_version=4), offset=IDS.index(solution.stem))
    assert n_stubs >= len(G.EXERCISES[".".join(solution.stem.split("-")[:2])].CHECKS)
    start = time.monotonic()
    ns, out = run_notebook(nb, solution.parent.parent)
    elapsed = time.monotonic() - start
    found = reports(ns)
    assert len(found) == n_check_cells(nb) > 0
    for r in found:
        assert not r.passed and "not passed" in r.summary, r
        assert all(x.status != "error" for x in r.results), r
        assert len(str(r)) < 20_000
    assert "Traceback" not in out and len(out) < 50_000
    assert elapsed < 10 + 3 * len(found), elapsed  # at most one time-out per task


def test_a_hostile_notebook_in_a_real_kernel(monkeypatch):
    """The same in Jupyter: forked workers, display machinery, output streams."""
    from nbclient import NotebookClient

    student = REPO / "exercises" / "1-1-build-a-schedule.ipynb"
    nb, n_stubs = hostile(nbformat.read(student, as_version=4))
    assert n_stubs == 4
    nb.cells.insert(3, new_code_cell("import os\nos.environ['LRNOTES_GRADER_TIME_LIMIT'] = '1'\n"
                                     "from lrnotes import grading as G\nG.TIME_LIMIT = 1.0"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    start = time.monotonic()
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(student.parent)}}).execute()
    assert time.monotonic() - start < 60
    texts = [o.get("data", {}).get("text/plain", "") or o.get("text", "")
             for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    summaries = [t for t in texts if "checks passed" in t]
    assert len(summaries) == 4 and all("not passed yet" in t for t in summaries), summaries
    assert sum(map(len, texts)) < 60_000


# ============================================================================ conventions
def _boxes(nb):
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return [(m["title"], m["options"], m["body"]) for m in BOX.finditer(text)]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_exercise_follows_the_conventions(solution):
    number = ".".join(solution.stem.split("-")[:2])
    chapter, n = number.split(".")
    nb = nbformat.read(solution, as_version=4)
    student = nbformat.read(_student(solution), as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    assert nb.cells[0].source.startswith(f"# Exercise E{number}: ")
    assert f"blob/main/notebooks/exercises/{solution.name})" in student.cells[0].source  # the Colab badge (the twin)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert setup.metadata.get("tags") == ["hide-input"] and "from lrnotes import grading as G" in setup.source
    # one numbering scheme: boxes "EN.Ma: ...", labels ex-N-Ma, unnumbered by Sphinx
    boxes = _boxes(nb)
    assert boxes, "each task is an {exercise} box"
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for title, options, body in boxes:
        m = re.match(rf"E{re.escape(number)}(?P<letter>[a-z]): \S", title)
        assert m, title
        label = f"ex-{chapter}-{n}{m['letter']}"
        assert f":label: {label}\n" in options and ":nonumber:" in options, (title, options)
        assert re.search(rf":::\{{solution\}} {label}\n:class: dropdown\n", markdown), f"no dropdown solution for {label}"
    # every task has a check cell before the next box, or is pen and paper
    cells = nb.cells
    for i, cell in enumerate(cells):
        for title, _, body in _boxes(nbformat.v4.new_notebook(cells=[cell])) if cell.cell_type == "markdown" else []:
            following = []
            for later in cells[i + 1:]:
                if later.cell_type == "markdown" and "{exercise}" in later.source:
                    break
                following.append(later)
            checked = any(c.cell_type == "code" and "G.check_" in c.source for c in following)
            assert checked or "Pen and paper" in body, f"{title}: neither a check nor pen and paper"
    # the grader's titles use the same numbers
    letters = {re.match(rf"E{re.escape(number)}([a-z])", t)[1] for t, _, _ in boxes}
    module = G.EXERCISES[number]
    for check in module.CHECKS:
        title = check(lambda *a, **k: (_ for _ in ()).throw(NotImplementedError("Student exercise: x"))).title
        m = re.match(rf"Exercise E{re.escape(number)}([a-z]): ", title)
        assert m and m[1] in letters, title
    # the student version: stubs, no solution markers, solutions filled in for the dropdowns
    text = "\n".join(c.source for c in student.cells)
    assert X.BEGIN not in text and X.END not in text and X.SOLUTION_CODE not in text
    assert STUB.search(text)
    assert "exercises/solutions/" not in text and "assert report" not in text
    assert text.count(":::{solution}") == len(boxes)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_code_a_reader_sees_fits_the_column(solution):
    """Lines of at most 78 characters in the student notebook: visible code cells, and the
    solutions' code in the dropdowns (the hidden setup cell is exempt)."""
    nb = nbformat.read(_student(solution), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "hide-input" not in cell.metadata.get("tags", []):
            lines = cell.source.splitlines()
        elif cell.cell_type == "markdown":
            lines = [ln for block in re.findall(r"```python\n(.*?)```", cell.source, re.S) for ln in block.splitlines()]
        else:
            continue
        for line in lines:
            assert len(line) <= X.LINE_LENGTH, line


def test_labels_are_unique_across_the_book():
    labels = []
    for solution in SOLUTIONS:
        labels += re.findall(r":label: (\S+)", solution.read_text())
    assert len(labels) == len(set(labels)) > 0


def test_index_lists_every_exercise():
    index = (REPO / "exercises" / "index.md").read_text()
    for solution in SOLUTIONS:
        number = ".".join(solution.stem.split("-")[:2])
        assert f"{{doc}}`{solution.stem}`" in index and f"Exercise E{number}" in index, solution.stem
    assert re.search(r"```\{include\}\s+\S*run-recipe\.md", index), "the book's one run recipe"


# ============================================================================ the generator
def _solution_nb(cells):
    nb = new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nb.cells = cells
    for i, c in enumerate(nb.cells):
        c.id = f"c{i}"
    return nb


def _demo_root(tmp_path: Path) -> Path:
    """A tiny repository with one solution notebook."""
    sol = tmp_path / "exercises" / "solutions"
    sol.mkdir(parents=True)
    nb = _solution_nb([
        new_markdown_cell("# Demo\n[![badge](x.svg)](https://colab.research.google.com/github/o/r/blob/main/"
                          "exercises/solutions/01-demo.ipynb)"),
        new_code_cell("def double(x):\n    \"\"\"Twice x.\"\"\"\n    # BEGIN SOLUTION\n"
                      "    # STUB: return 2 * x\n    return 2 * x\n    # END SOLUTION"),
        new_code_cell("assert double(2) == 4", metadata={"tags": ["solution-only"]}),
        new_markdown_cell(":::{solution} ex-demo\n:class: dropdown\n\nDouble it.\n\n% solution-code: double\n:::"),
    ])
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="noise")]
    nb.cells[1].execution_count = 7
    nbformat.write(nb, sol / "01-demo.ipynb")
    return tmp_path


def test_strip_solutions_keeps_signature_and_indentation():
    src = (
        "import numpy as np\n\n"
        "def f(x):\n    \"\"\"Doc.\"\"\"\n    # BEGIN SOLUTION\n    # STUB: compute the thing;\n"
        "    # STUB: vectorised\n    y = x + 1\n    return y\n    # END SOLUTION\n\n"
        "class A:\n    def g(self):\n        # BEGIN SOLUTION\n        return 1\n        # END SOLUTION\n"
    )
    out = X.strip_solutions(src)
    assert "y = x + 1" not in out and "return 1" not in out
    # a long message is wrapped to the book's line length, a short one stays on one line
    assert '    raise NotImplementedError(\n        "Student exercise: compute the thing; vectorised")' in out
    assert '        raise NotImplementedError("Student exercise: complete `g`")' in out
    assert max(len(line) for line in out.splitlines()) <= X.LINE_LENGTH
    assert out.startswith("import numpy as np\n\ndef f(x):\n    \"\"\"Doc.\"\"\"\n")
    compile(out, "out", "exec")
    assert X.strip_solutions("x = 1\n") == "x = 1\n"  # no markers: unchanged


def test_stub_message_is_quoted_safely():
    out = X.strip_solutions('def f():\n    # BEGIN SOLUTION\n    # STUB: say "hi" \\ there\n    pass\n    # END SOLUTION')
    ns = {}
    exec(out, ns)
    with pytest.raises(NotImplementedError, match=r'Student exercise: say "hi" \\ there'):
        ns["f"]()


@pytest.mark.parametrize(
    "src, words",
    [
        ("def f():\n    # BEGIN SOLUTION\n    pass\n", "without a matching '# END SOLUTION'"),
        ("def f():\n    pass\n    # END SOLUTION\n", "without a matching '# BEGIN SOLUTION'"),
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    # END SOLUTION\n", "nested"),
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "inside a function body"),
    ],
)
def test_malformed_markers_are_errors(src, words):
    with pytest.raises(X.ExerciseError, match=re.escape(words)):
        X.strip_solutions(src, where="demo")


def test_definitions_and_solution_code():
    src = "import x\n\ndef f(a, b=(1,\n        2)):\n    # BEGIN SOLUTION\n    # STUB: it\n    return a\n    # END SOLUTION\n\ny = f(1)\n"
    assert X.definitions(src) == {"f": "def f(a, b=(1,\n        2)):\n    return a"}
    sol = _solution_nb([new_code_cell(src), new_markdown_cell("text\n% solution-code: f\nmore")])
    student = X.make_student(sol, solution_path="s.ipynb", student_path="t.ipynb")
    assert "```python\ndef f(a, b=(1,\n        2)):\n    return a\n```" in student.cells[1].source
    bad = _solution_nb([new_code_cell(src), new_markdown_cell("% solution-code: nope")])
    with pytest.raises(X.ExerciseError, match="nope"):
        X.make_student(bad, solution_path="s.ipynb", student_path="t.ipynb")


def test_make_student_drops_solution_cells_strips_outputs_and_is_deterministic(tmp_path):
    root = _demo_root(tmp_path)
    sol = nbformat.read(root / "exercises/solutions/01-demo.ipynb", as_version=4)
    kw = dict(solution_path="exercises/solutions/01-demo.ipynb", student_path="exercises/01-demo.ipynb")
    student = X.make_student(sol, **kw)
    assert len(student.cells) == 3
    code = student.cells[1]
    assert code.outputs == [] and code.execution_count is None
    assert 'raise NotImplementedError("Student exercise: return 2 * x")' in code.source
    assert "blob/main/exercises/01-demo.ipynb" in student.cells[0].source
    assert "```python\ndef double(x):" in student.cells[2].source
    meta = student.metadata[X.META_KEY]
    assert meta["generated_from"] == "exercises/solutions/01-demo.ipynb"
    assert meta["fingerprint"] == X.fingerprint(student)
    assert X.render(student) == X.render(X.make_student(sol, **kw))  # byte-identical
    assert X.render(student).endswith("}\n")
    assert "return 2 * x\n" in sol.cells[1].source and sol.cells[1].outputs  # the solution is untouched


def test_make_student_rejects_a_stub_that_does_not_compile():
    sol = _solution_nb([new_code_cell("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n  x = (")])
    with pytest.raises(X.ExerciseError, match="does not compile"):
        X.make_student(sol, solution_path="s.ipynb", student_path="t.ipynb")


def test_fingerprint_ignores_outputs_but_not_sources():
    nb = _solution_nb([new_code_cell("x = 1")])
    before = X.fingerprint(nb)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="1")]
    nb.cells[0].execution_count = 3
    assert X.fingerprint(nb) == before
    nb.cells[0].source = "x = 2"
    assert X.fingerprint(nb) != before
    nb.cells[0].source = "x = 1"
    nb.cells.append(new_markdown_cell("my notes"))
    assert X.fingerprint(nb) != before


MALFORMED = {
    "not JSON": ("{not json", "cannot read it as JSON"),
    "cells not a list": (json.dumps({"cells": {"a": 1}, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                         "'cells' must be a list, got dict"),
    "a cell not an object": (json.dumps({"cells": ["print(1)"], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                             "cell 0: a cell must be an object, got str"),
    "an unknown cell type": (json.dumps({"cells": [{"cell_type": "python", "source": ""}], "metadata": {},
                                         "nbformat": 4, "nbformat_minor": 5}), "cell_type must be one of"),
    "a source that is not text": (json.dumps({"cells": [{"cell_type": "code", "source": 42, "metadata": {}}],
                                              "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                                  "source must be text"),
    "not an object": ("[1, 2, 3]", "the top level is list"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_solution_notebook_gets_a_clear_message(case, tmp_path, capsys):
    root = _demo_root(tmp_path)
    text, words = MALFORMED[case]
    (root / "exercises" / "solutions" / "02-bad.ipynb").write_text(text)
    assert X.main(["--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "02-bad.ipynb" in err and words in err and "Traceback" not in err, err


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_student_notebook_is_never_overwritten(case, tmp_path, capsys):
    root = _demo_root(tmp_path)
    student = root / "exercises" / "01-demo.ipynb"
    text, _ = MALFORMED[case]
    student.write_text(text)
    assert X.main(["--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "REFUSED" in err and "Traceback" not in err, err
    assert student.read_text() == text
    assert X.main(["--check", "--root", str(root)]) == 1


def test_cli_creates_checks_updates_and_protects_student_work(tmp_path, capsys):
    root = _demo_root(tmp_path)
    student = root / "exercises" / "01-demo.ipynb"
    solution = root / "exercises" / "solutions" / "01-demo.ipynb"
    run = lambda *args: X.main([*args, "--root", str(root)])  # noqa: E731

    assert run("--check") == 1 and "MISSING" in capsys.readouterr().out
    assert run() == 0 and student.exists()
    first = student.read_bytes()
    assert run("--check") == 0
    assert run() == 0 and student.read_bytes() == first  # regeneration: byte-identical

    # The author edits the solution: the student notebook is stale, and gets updated.
    sol = nbformat.read(solution, as_version=4)
    sol.cells[0].source += "\n\nMore text."
    nbformat.write(sol, solution)
    assert run("--check") == 1 and "OUT OF DATE" in capsys.readouterr().out
    assert run() == 0 and "More text." in student.read_text()

    # Running the notebook (outputs only) is not an edit: it may be regenerated.
    nb = json.loads(student.read_text())
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
    student.write_text(json.dumps(nb))
    assert run() == 0 and "hi\\n" not in student.read_text()

    # A student types into a cell: the generator refuses, leaves the file alone, says why.
    nb = json.loads(student.read_text())
    nb["cells"][1]["source"] = "def double(x):\n    return x + x  # my answer\n"
    student.write_text(json.dumps(nb))
    edited = student.read_bytes()
    sol.cells[0].source += "\n\nEven more."
    nbformat.write(sol, solution)
    capsys.readouterr()
    assert run() == 1
    err = capsys.readouterr().err
    assert "REFUSED" in err and "changed after it was generated" in err and "--force" in err
    assert student.read_bytes() == edited
    assert run("--check") == 1 and "EDITED" in capsys.readouterr().out
    # ... unless forced.
    assert run("--force") == 0 and "my answer" not in student.read_text()
    assert run("--check") == 0

    # A notebook the generator did not write is protected the same way.
    student.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert run() == 1 and "not written by this generator" in capsys.readouterr().err


def test_cli_names_orphans_and_errors(tmp_path, capsys):
    root = _demo_root(tmp_path)
    run = lambda *args: X.main([*args, "--root", str(root)])  # noqa: E731
    assert run("01-demo") == 0
    assert run("nope") == 2 and "no solution notebook named nope" in capsys.readouterr().err
    (root / "exercises" / "02-gone.ipynb").write_text(
        (root / "exercises" / "01-demo.ipynb").read_text().replace("01-demo", "02-gone")
    )
    assert run("--check") == 1 and "ORPHAN" in capsys.readouterr().out
    bad = _solution_nb([new_code_cell("def f():\n    # BEGIN SOLUTION\n    return 1\n")])
    nbformat.write(bad, root / "exercises" / "solutions" / "03-bad.ipynb")
    assert run() == 2 and "03-bad.ipynb, cell 0" in capsys.readouterr().err
    assert X.main(["--root", str(tmp_path / "empty")]) == 2


def test_exercise_titles_keep_the_books_numbers():
    """The Sphinx extension turns sphinx-exercise's "Exercise (E1.4b: ...)" into
    "Exercise E1.4b: ...", and leaves other titles alone, including a bare "1.4b: ..."
    that a reader could take for a section number."""
    from docutils import nodes

    from _ext.sphinx_exercise_titles import drop_parentheses

    def title(*texts):
        node = nodes.title()
        for t in texts:
            node += nodes.Text(t)
        return node

    box = title("Exercise", " (", "E1.4b: the critical ", "learning rate", ")")
    assert drop_parentheses(box) and box.astext() == "Exercise E1.4b: the critical learning rate"
    ref = nodes.reference()
    for t in (" Exercise", " (", "E12.3: x", ")"):
        ref += nodes.Text(t)
    assert drop_parentheses(ref) and ref.astext() == " Exercise E12.3: x"
    other = title("Exercise", " (", "a warm-up", ")")
    assert not drop_parentheses(other) and other.astext() == "Exercise (a warm-up)"
    old = title("Exercise", " (", "1.4b: x", ")")
    assert not drop_parentheses(old) and old.astext() == "Exercise (1.4b: x)"
