"""One execution per ``make test``: nbval's outputs feed the book's cache (tests/nbcache.py)."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# A page")] + [nbformat.v4.new_code_cell(s) for s in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _nbval(where: Path, *paths: str) -> subprocess.CompletedProcess:
    (where / "conftest.py").write_text("")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax", "-p", "tests.nbcache",
         "--rootdir", str(where), *paths],
        cwd=where, capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "PYTHONPATH": str(REPO)})


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    where = tmp_path_factory.mktemp("book")
    _notebook(where / "chapters" / "ok.ipynb",
              "x = 6 * 7\nprint('x is', x)",
              "from IPython.display import display, Markdown\ndisplay(Markdown('**bold**'))\nx",
              "assert x == 42")
    _notebook(where / "chapters" / "bad.ipynb", "y = 1", "assert y == 2, 'the science broke'")
    proc = _nbval(where, "chapters")
    return where, proc


def test_a_passing_notebook_is_kept_with_its_outputs(executed):
    where, proc = executed
    assert "1 failed" in proc.stdout, proc.stdout  # bad.ipynb
    nb = nbformat.read(where / "_build" / ".nbval_executed" / "chapters" / "ok.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].outputs[0].output_type == "stream" and code[0].outputs[0].text == "x is 42\n"
    kinds = [o.output_type for o in code[1].outputs]
    assert kinds == ["display_data", "execute_result"], kinds
    assert code[1].outputs[0].data["text/markdown"] == "**bold**"
    assert code[1].outputs[1].data["text/plain"] == "42"
    assert nb.metadata["lrnotes_nbval"]["seconds"] >= 0
    nbformat.validate(nb)


def test_a_failing_notebook_is_not_kept(executed):
    where, _ = executed
    assert not (where / "_build" / ".nbval_executed" / "chapters" / "bad.ipynb").exists()


def test_book_exec_caches_the_copy_and_refuses_a_stale_one(executed, tmp_path):
    from jupyter_cache import get_cache

    from _ext import book_exec

    where, _ = executed
    cache = get_cache(str(tmp_path / "cache"))
    ok = where / "chapters" / "ok.ipynb"
    assert book_exec._reuse(cache, where, ok, where / "_build" / ".nbval_executed")
    cached = cache.match_cache_notebook(nbformat.read(ok, as_version=4))  # a hit: the build runs nothing
    code = [c for c in cache.get_cache_bundle(cached.pk).nb.cells if c.cell_type == "code"]
    assert code[0].outputs[0].text == "x is 42\n"
    # the notebook's code changed after nbval ran: the copy is not used
    nb = nbformat.read(ok, as_version=4)
    nb.cells[1].source = "x = 6 * 9\nprint('x is', x)"
    edited = where / "chapters" / "edited.ipynb"
    nbformat.write(nb, edited)
    copy = where / "_build" / ".nbval_executed" / "chapters" / "edited.ipynb"
    copy.write_bytes((where / "_build" / ".nbval_executed" / "chapters" / "ok.ipynb").read_bytes())
    assert not book_exec._reuse(cache, where, edited, where / "_build" / ".nbval_executed")
    assert not book_exec._reuse(cache, where, ok, None)


def test_a_kernel_that_dies_at_start_is_started_again():
    from tests import nbcache

    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) < 3:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return "km", "kc"

    assert nbcache._retrying(flaky)(kernel_name="python3") == ("km", "kc") and len(calls) == 3
    calls.clear()
    with pytest.raises(RuntimeError):
        nbcache._retrying(lambda **k: (calls.append(k), (_ for _ in ()).throw(RuntimeError("dead")))[1])()
    assert len(calls) == 3
