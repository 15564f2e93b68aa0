"""pytest plugin: each notebook's run time under nbval, against the book's speed budget.

Load it with ``-p tests.nbtiming`` next to ``--nbval-lax``.  It prints one line per
notebook (kernel start-up included) against the book's budget, in quick mode on two CPU
cores, and writes the table to ``_build/timings.md``.  A timing is a benchmark, not a
test: a loaded machine runs slower, so a notebook over its budget is reported, and the
session fails only for a runaway, ``LRNOTES_RUNAWAY`` (3) times its budget or more.
The budgets:

- a chapter notebook (``chapters/``): ``LRNOTES_NB_LIMIT`` seconds (60);
- all chapter notebooks together: ``LRNOTES_BOOK_LIMIT`` seconds (600);
- an exercise notebook (``exercises/``, solutions included): ``LRNOTES_EXERCISE_LIMIT``
  seconds (15).
"""

from __future__ import annotations

import os
from collections import defaultdict

_durations: dict[str, float] = defaultdict(float)
_over: list[str] = []


def _runaway() -> float:
    return float(os.environ.get("LRNOTES_RUNAWAY", 3))


def _limits():
    env = os.environ.get
    return (float(env("LRNOTES_NB_LIMIT", 60)), float(env("LRNOTES_BOOK_LIMIT", 600)),
            float(env("LRNOTES_EXERCISE_LIMIT", 15)))


def _limit_for(path: str) -> float:
    per_chapter, _, per_exercise = _limits()
    return per_exercise if path.replace("\\", "/").startswith("exercises/") else per_chapter


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _durations[path] += report.duration


def pytest_sessionfinish(session, exitstatus):
    _, book_limit, _ = _limits()
    k = _runaway()
    _over[:] = [f"{nb} ({sec:.0f} s > {k:g} x {_limit_for(nb):.0f} s)" for nb, sec in _durations.items()
                if sec > k * _limit_for(nb)]
    chapters = sum(sec for nb, sec in _durations.items() if not nb.startswith("exercises/"))
    if chapters > k * book_limit:
        _over.append(f"all chapter notebooks together ({chapters:.0f} s > {k:g} x {book_limit:.0f} s)")
    if _over and session.exitstatus == 0:
        session.exitstatus = 1
    _write_table(session)


def _parallel(config) -> int:
    """How many notebooks ran at once (pytest-xdist's ``-n``; 1 without it)."""
    n = getattr(getattr(config, "option", None), "numprocesses", None)
    return int(n) if isinstance(n, int) and n > 1 else 1


def _how(config) -> str:
    n = _parallel(config)
    return ("each notebook alone, one at a time (make bench)" if n == 1 else
            f"{n} notebooks at a time on a shared machine (make test): slower than alone; "
            "`make bench` times them one at a time")


def _write_table(session) -> None:
    from pathlib import Path

    if not _durations:
        return
    _, book_limit, _ = _limits()
    chapters = sum(sec for nb, sec in _durations.items() if not nb.startswith("exercises/"))
    lines = [f"Run times in quick mode, {_how(session.config)}.", "",
             "| notebook | seconds | budget | within |", "|:---|---:|---:|:---:|"]
    for nb, sec in sorted(_durations.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {nb} | {sec:.1f} | {_limit_for(nb):.0f} | {'yes' if sec <= _limit_for(nb) else 'NO'} |")
    lines.append(f"| all chapter notebooks | {chapters:.1f} | {book_limit:.0f} | "
                 f"{'yes' if chapters <= book_limit else 'NO'} |")
    out = Path(str(session.config.rootpath)) / "_build" / "timings.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


def pytest_terminal_summary(terminalreporter):
    if not _durations:
        return
    tr = terminalreporter
    tr.section("notebook run times (quick mode)")
    tr.write_line(f"measured with {_how(tr.config)}")
    for nb, sec in sorted(_durations.items(), key=lambda kv: -kv[1]):
        flag = "  <-- over its budget" if sec > _limit_for(nb) else ""
        tr.write_line(f"{sec:7.1f} s  {nb}{flag}")
    chapters = sum(sec for nb, sec in _durations.items() if not nb.startswith("exercises/"))
    exercises = sum(_durations.values()) - chapters
    tr.write_line(f"{chapters:7.1f} s  chapter notebooks together")
    tr.write_line(f"{exercises:7.1f} s  exercise notebooks together")
    over = [nb for nb, sec in _durations.items() if sec > _limit_for(nb)]
    if over:
        tr.write_line(f"over budget (reported, not failed; a loaded machine is slower): {len(over)}")
    for what in _over:
        tr.write_line(f"RUNAWAY NOTEBOOK: {what}", red=True)
