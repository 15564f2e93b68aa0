"""_ext.book_exec fills Jupyter Book's cache the way myst-nb does, in parallel."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from _ext import book_exec


def _book(tmp_path, cells_by_name):
    toc = "format: jb-book\nroot: intro\nchapters:\n" + "".join(f"  - file: {n}\n" for n in cells_by_name)
    (tmp_path / "_toc.yml").write_text(toc)
    (tmp_path / "intro.md").write_text("# Intro\n")
    for name, source in cells_by_name.items():
        nb = new_notebook(cells=[new_markdown_cell(f"# {name}"), new_code_cell(source)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, tmp_path / f"{name}.ipynb")


def test_toc_notebooks_lists_the_toc_order(tmp_path):
    _book(tmp_path, {"b": "1", "a": "2"})
    (tmp_path / "stray.ipynb").write_text((tmp_path / "a.ipynb").read_text())
    assert [p.name for p in book_exec.toc_notebooks(tmp_path)] == ["b.ipynb", "a.ipynb"]


def test_executes_into_the_cache_once_and_reports_failures(tmp_path, capsys):
    from jupyter_cache import get_cache

    _book(tmp_path, {"ok": "x = 6 * 7\nprint(x)", "bad": "raise RuntimeError('science broke')"})
    assert book_exec.execute_into_cache(tmp_path, jobs=2) == 1
    err = capsys.readouterr().err
    assert "FAILED bad.ipynb" in err and "science broke" in err
    cache = get_cache(str(tmp_path / "_build" / ".jupyter_cache"))
    record = cache.match_cache_notebook(nbformat.read(tmp_path / "ok.ipynb", as_version=4))
    (cell,) = cache.get_cache_bundle(record.pk).nb.cells   # the cache keeps code cells only
    outputs = cell.outputs
    assert outputs[0]["text"].strip() == "42"
    # a second run finds "ok" cached and tries only "bad" again
    assert book_exec.execute_into_cache(tmp_path, jobs=1) == 1
    assert "1 notebook(s) to execute" in capsys.readouterr().out
