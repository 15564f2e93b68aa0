"""The grader's isolation: the worker's whole process tree ends with the check, verdicts
are computed in the session from plain data only, and the spawn runner works where fork
is missing (forced here with LRNOTES_GRADER_ISOLATION=spawn)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from lrnotes import grading as G

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and a subreaper")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@linux_only
@pytest.mark.parametrize("how", ["returns", "loops"])
def test_processes_the_student_starts_end_with_the_check(tmp_path, how):
    """``sleep 60`` started in a session of its own (so not in the worker's process group)
    is gone after the check, whether the function returned or timed out."""
    pidfile = tmp_path / "pid"

    def student(x):
        p = subprocess.Popen(["sleep", "60"], start_new_session=True)
        pidfile.write_text(str(p.pid))
        while how == "loops":
            pass
        return x

    g = G.Checks("tree", student, time_limit=1.0)

    @g.check("calls it")
    def _(f):
        G.call(f, 1.0)

    report = g.run()
    assert report.results[0].status == ("pass" if how == "returns" else "timeout"), report
    pid = int(pidfile.read_text())
    end = time.monotonic() + 1.0
    while _alive(pid) and time.monotonic() < end:
        time.sleep(0.01)
    assert not _alive(pid), f"the student's `sleep 60` (pid {pid}) outlived the check"
