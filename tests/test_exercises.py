"""The exercise pipeline.

CI proves three things about every exercise:

1. the solution notebook runs and every one of its check cells reports *all passed*;
2. the generated student notebook runs from top to bottom without an error (so nbval and
   the book build accept it), and every check cell reports *not passed*;
3. the student notebooks are exactly what the generator makes from the solutions
   (``python -m lrnotes.exercises --check``).

Plus unit tests of the generator, and of its promise never to overwrite a student's work.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lrnotes import exercises as X

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((REPO / "exercises" / "solutions").glob("*.ipynb"))
SUMMARY = re.compile(r"^(?P<title>.+): (?P<n>\d+)/(?P<total>\d+) checks passed \((?P<verdict>[a-z ]+)\)$", re.M)


# ============================================================================ helpers
def _execute(path: Path, extra_cells: list[str] = (), monkeypatch=None):
    """Run a notebook in a fresh kernel (cwd = its folder) and return it with outputs.

    The kernel imports ``lrnotes`` from this working tree (PYTHONPATH), so the test
    checks the code next to it even if another copy is installed.
    """
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.extend(new_code_cell(src) for src in extra_cells)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb


def _reports(nb) -> list[dict]:
    """Every grader report shown in the notebook's outputs, as dicts of the summary line."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/plain", "") if "data" in out else ""
            html = out.get("data", {}).get("text/html", "") if "data" in out else ""
            for m in SUMMARY.finditer(text):
                assert "lrnotes-grade" in html, "a report must render as HTML in Jupyter and the book"
                found.append({**m.groupdict(), "n": int(m["n"]), "total": int(m["total"])})
    return found


def _solution_nb(cells, name="01-demo.ipynb"):
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
    nb = _solution_nb(
        [
            new_markdown_cell(
                "# Demo\n[![badge](x.svg)](https://colab.research.google.com/github/o/r/blob/main/"
                "exercises/solutions/01-demo.ipynb)"
            ),
            new_code_cell(
                "def double(x):\n    \"\"\"Twice x.\"\"\"\n    # BEGIN SOLUTION\n"
                "    # STUB: return 2 * x\n    return 2 * x\n    # END SOLUTION"
            ),
            new_code_cell("assert double(2) == 4", metadata={"tags": ["solution-only"]}),
        ]
    )
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="noise")]
    nb.cells[1].execution_count = 7
    nbformat.write(nb, sol / "01-demo.ipynb")
    return tmp_path


# ============================================================================ the three proofs
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_notebook_runs_and_passes(solution, monkeypatch):
    nb = _execute(solution, monkeypatch=monkeypatch)
    reports = _reports(nb)
    assert reports, "a solution notebook must contain check cells"
    for r in reports:
        assert r["verdict"] == "all passed" and r["n"] == r["total"] > 0, r


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_student_notebook_runs_and_fails(solution, monkeypatch):
    student = solution.parent.parent / solution.name
    # An extra cell (not in the file) checks, in the same kernel, that a time limit stops
    # an endless loop there too: students run the grader inside Jupyter, not pytest.
    probe = (
        "from lrnotes import grading as _G\n"
        "_G.TIME_LIMIT = 0.5\n"
        "def _loop(*args):\n    while True:\n        pass\n"
        "_r = _G.check_linear_decay(_loop)\n"
        "assert _r.results[0].status == 'timeout', _r\n"
        "print('time limit works in the kernel')"
    )
    nb = _execute(student, extra_cells=[probe], monkeypatch=monkeypatch)
    reports = _reports(nb)
    n_solution_checks = sum("G.check_" in c.source for c in nbformat.read(solution, 4).cells)
    assert len(reports) == n_solution_checks > 0
    for r in reports:
        assert r["verdict"] == "not passed yet" and r["n"] == 0 < r["total"], r
    assert "time limit works in the kernel" in nb.cells[-1].outputs[0]["text"]


def test_student_notebooks_are_up_to_date():
    result = subprocess.run(
        [sys.executable, "-m", "lrnotes.exercises", "--check"],
        cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("up to date") == len(SOLUTIONS) > 0


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_notebook_follows_the_conventions(solution):
    nb = nbformat.read(solution, as_version=4)
    student = nbformat.read(solution.parent.parent / solution.name, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    assert nb.cells[0].source.startswith("# ") and "colab-badge.svg" in nb.cells[0].source
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert setup.metadata.get("tags") == ["hide-input"] and "# --- notebook-specific imports below ---" in setup.source
    text = "\n".join(c.source for c in student.cells)
    assert X.BEGIN not in text and X.END not in text and "NotImplementedError(\"Student exercise:" in text
    assert "{solution}" not in text and "exercises/solutions/" not in text
    assert f"blob/main/exercises/{solution.name}" in student.cells[0].source
    assert re.search(r":label: ex-", text), "each task is an {exercise} with a label"
    assert "assert report" not in text, "the final asserts are solution-only"


# ============================================================================ the generator
def test_strip_solutions_keeps_signature_and_indentation():
    src = (
        "import numpy as np\n\n"
        "def f(x):\n    \"\"\"Doc.\"\"\"\n    # BEGIN SOLUTION\n    # STUB: compute the thing;\n"
        "    # STUB: vectorised\n    y = x + 1\n    return y\n    # END SOLUTION\n\n"
        "class A:\n    def g(self):\n        # BEGIN SOLUTION\n        return 1\n        # END SOLUTION\n"
    )
    out = X.strip_solutions(src)
    assert "y = x + 1" not in out and "return 1" not in out
    assert '    raise NotImplementedError("Student exercise: compute the thing; vectorised")' in out
    assert '        raise NotImplementedError("Student exercise: complete `g`")' in out
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


def test_make_student_drops_solution_cells_strips_outputs_and_is_deterministic(tmp_path):
    root = _demo_root(tmp_path)
    sol = nbformat.read(root / "exercises/solutions/01-demo.ipynb", as_version=4)
    kw = dict(solution_path="exercises/solutions/01-demo.ipynb", student_path="exercises/01-demo.ipynb")
    student = X.make_student(sol, **kw)
    assert len(student.cells) == 2
    code = student.cells[1]
    assert code.outputs == [] and code.execution_count is None
    assert 'raise NotImplementedError("Student exercise: return 2 * x")' in code.source
    assert "blob/main/exercises/01-demo.ipynb" in student.cells[0].source
    meta = student.metadata[X.META_KEY]
    assert meta["generated_from"] == "exercises/solutions/01-demo.ipynb"
    assert meta["fingerprint"] == X.fingerprint(student)
    assert X.render(student) == X.render(X.make_student(sol, **kw))  # byte-identical
    assert X.render(student).endswith("}\n")
    # The solution notebook itself is not modified.
    assert "return 2 * x\n" in sol.cells[1].source and sol.cells[1].outputs


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
    # An orphan: a generated notebook whose solution is gone fails --check.
    (root / "exercises" / "02-gone.ipynb").write_text(
        (root / "exercises" / "01-demo.ipynb").read_text().replace("01-demo", "02-gone")
    )
    assert run("--check") == 1 and "ORPHAN" in capsys.readouterr().out
    # A malformed solution is an error (exit 2), not a crash.
    bad = _solution_nb([new_code_cell("def f():\n    # BEGIN SOLUTION\n    return 1\n")])
    nbformat.write(bad, root / "exercises" / "solutions" / "03-bad.ipynb")
    assert run() == 2 and "03-bad.ipynb, cell 0" in capsys.readouterr().err
    assert X.main(["--root", str(tmp_path / "empty")]) == 2
