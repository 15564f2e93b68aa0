"""pytest plugin: keep what nbval executed, so that the book build executes nothing again.

Load it with ``-p tests.nbcache`` next to ``--nbval-lax``.  nbval runs every code cell of a
notebook in one kernel and keeps the outputs it received on the cell item
(``item.test_outputs``).  For every notebook whose cells all passed, this plugin writes the
notebook with those outputs to ``_build/.nbval_executed/<path>`` (the folder is emptied when
the session starts).  ``python -m _ext.book_exec`` then stores each of them in Jupyter
Book's cache, if its code is still the code of the notebook, instead of executing it again:
one execution per ``make test`` feeds both the notebook checks and the book.

Two kernels that start at once (``-n 2``) can race for the same TCP ports, and one then
dies before it answers ("Kernel died before replying to kernel_info").  This plugin makes
nbval try a kernel's start three times before it gives up.

A notebook with a failed, skipped or timed-out cell is not written, so the build executes
it itself (and fails on the same error).  Works under pytest-xdist (``--dist loadfile``):
each worker writes the notebooks it ran.
"""

from __future__ import annotations

import shutil
import time
from collections import defaultdict
from pathlib import Path

import pytest

OUT = Path("_build") / ".nbval_executed"

_cells: dict[str, dict[int, tuple[str, list]]] = defaultdict(dict)
_failed: set[str] = set()
_seconds: dict[str, float] = defaultdict(float)


def _root(config) -> Path:
    return Path(str(config.rootpath))


def _retrying(start, attempts: int = 3):
    def start_new_kernel(*args, **kwargs):
        for attempt in range(1, attempts + 1):
            try:
                return start(*args, **kwargs)
            except RuntimeError:
                if attempt == attempts:
                    raise
                time.sleep(0.5 * attempt)
    start_new_kernel.retries = attempts
    return start_new_kernel


def pytest_configure(config):
    import nbval.kernel

    if not hasattr(nbval.kernel.start_new_kernel, "retries"):
        nbval.kernel.start_new_kernel = _retrying(nbval.kernel.start_new_kernel)
    # Only the controller (or a run without xdist) empties the folder.
    if not hasattr(config, "workerinput"):
        out = _root(config) / OUT
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not hasattr(item, "cell_num") or not str(item.fspath).endswith(".ipynb"):
        return
    path = report.nodeid.split("::")[0]
    _seconds[path] += report.duration
    if report.failed or report.skipped:
        _failed.add(path)
    elif call.when == "call":
        _cells[path][item.cell_num] = (item.cell.source, list(getattr(item, "test_outputs", [])))


def pytest_sessionfinish(session, exitstatus):
    import nbformat

    root = _root(session.config)
    for path, cells in _cells.items():
        if path in _failed:
            continue
        nb = nbformat.read(root / path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        if sorted(cells) != list(range(len(code))):
            continue  # not every cell ran (deselected, interrupted): let the build execute it
        for i, cell in enumerate(code):
            source, outputs = cells[i]
            if source != cell.source:
                break
            cell.outputs = [nbformat.from_dict(dict(o)) for o in outputs]
            cell.execution_count = i + 1
            for out in cell.outputs:
                if out.get("output_type") == "execute_result":
                    out["execution_count"] = i + 1
        else:
            nb.metadata["lrnotes_nbval"] = {"seconds": round(_seconds[path], 3),
                                            "executed": time.strftime("%Y-%m-%dT%H:%M:%S")}
            target = root / OUT / path
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
