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

@pytest.fixture(params=["fork", "spawn"])
def runner(request, monkeypatch):
    monkeypatch.setenv("LRNOTES_GRADER_ISOLATION", request.param)
    monkeypatch.setattr(G._isolation, "_warned", {"spawn"})
    return request.param


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


# ============================================================================ verdicts in the session
def _always_close(*args, **kwargs):
    return np.ones(np.broadcast(*[np.asarray(a) for a in args[:2]]).shape, dtype=bool)


def _patch_numpy_everywhere():
    import numpy._core.numeric as numeric

    for module in (np, numeric):
        module.isclose = _always_close
        module.allclose = lambda *a, **k: True
        module.array_equal = lambda *a, **k: True


def _zeros_after_patching(k, T, alpha=1.0):
    _patch_numpy_everywhere()
    return np.zeros(np.shape(k))


class _PatchesWhenRead:
    """A result whose ``__array__`` patches NumPy after the grader's restore()."""

    def __init__(self, shape):
        self.shape = shape

    def __array__(self, dtype=None, copy=None):
        _patch_numpy_everywhere()
        return np.zeros(self.shape)


def _fake_records(k, T, alpha=1.0):
    """Writes 'pass' results for every check into each open fd, then ends the process."""
    forged = b"".join(
        b'{"type": "result", "i": %d, "status": "pass", "message": "", "hint": "", "output": "",'
        b' "outcomes": []}\n' % i for i in range(10)) + b'{"type": "done"}\n'
    for fd in range(3, 256):
        try:
            os.write(fd, forged)
        except OSError:
            pass
    os._exit(0)


@pytest.mark.parametrize("cheat", [
    _zeros_after_patching,
    lambda k, T, alpha=1.0: _PatchesWhenRead(np.shape(k)),
    _fake_records,
], ids=["patches numpy._core.numeric", "__array__ patches after restore", "writes fake records"])
def test_wrong_code_cannot_fake_a_pass(cheat, runner):
    report = G.check_linear_decay(cheat, seed=3)
    assert report.n_passed == 0, report
    # the session's NumPy is untouched
    assert not np.isclose(0.0, 1.0) and np.isclose is not _always_close


def test_a_sympy_subclass_that_equals_everything_fails(runner):
    import sympy as sp

    class Zero(sp.Symbol):
        def __sub__(self, other):
            return sp.Integer(0)

        __rsub__ = __sub__

        def __eq__(self, other):
            return True

        __hash__ = sp.Symbol.__hash__

    report = G.check_optimal_eta(lambda t, T, D, G_: Zero("eta"))
    assert not report.passed, report
    assert "Zero" in report.results[0].message and "cannot read" in report.results[0].message, report


def test_plain_data_round_trip_and_refusals():
    import json
    from fractions import Fraction

    import sympy as sp

    from lrnotes.grading import _plain as P

    t = sp.Symbol("t", positive=True)
    S = sp.Function("S")
    values = [None, True, 3, 2.5, 1 + 2j, "s", Fraction(1, 3), (1, [2.0, "a"]), {"a": 1}, {1, 2},
              np.arange(3.0), np.float32(1.5), np.int8(-3), [0.5] * 40,
              S(t).diff(t) ** 2 / S(t) + sp.Rational(3, 2) * sp.sqrt(t), sp.Eq(t, 1), sp.oo]
    for v in values:
        back = P.decode(json.loads(json.dumps(P.encode(v))))
        assert type(back) is type(v) or isinstance(v, sp.Basic), (v, back)
        if isinstance(v, np.ndarray):
            assert back.dtype == v.dtype and np.array_equal(back, v)
        elif isinstance(v, sp.Expr) and v.is_finite is not False:
            assert sp.simplify(back - v) == 0
        else:
            assert back == v and (not isinstance(v, np.generic) or back.dtype == v.dtype)
    assert type(P.decode(P.encode(np.ma.array([1.0])))) is np.ndarray  # subclasses stripped
    assert P.encode(np.array([object()]))[0] == "o"  # object arrays are not read
    exc = P.decode(P.encode_exc(type("MyError", (ValueError,), {})("bad T")))
    assert isinstance(exc, ValueError) and type(exc).__name__ == "MyError" and str(exc) == "bad T"
    # a srepr text is parsed, never evaluated: sin('...') would sympify (eval) the string
    marker = "/tmp/lrnotes_grader_pwned"
    for text in [f"sin('__import__(\"os\").system(\"touch {marker}\")')", "__import__('os')",
                 "Symbol('x').__class__", "Pow(Integer(10), Integer(1000000000))", "Function('f')('x')",
                 "Add(Symbol('x'), evaluate='x')", "[1, 2]"]:
        with pytest.raises(P.Unreadable):
            P.parse_sympy(text)
    assert not os.path.exists(marker)
    for bad in [["a", "|O", [1], ""], ["g", "<M8[s]", "AAAAAAAAAAA="], ["i", "3"], ["zz"], [], {"a": 1},
                ["a", "<f8", [2], "AAAA"], ["y", "Evil(Symbol('x'))"]]:
        with pytest.raises(P.Unreadable):
            P.decode(bad)


def test_a_replay_that_asks_for_an_unrecorded_call_is_an_error_not_a_pass():
    calls = []

    def f(x):
        calls.append(x)
        return x

    g = G.Checks("replay", f, seed=1)

    @g.check("asks for a call in the session only")
    def _(f_):
        G.call(f_, 1.0)
        if os.getpid() == session:  # a grader bug: the session's replay diverges
            G.call(f_, 2.0)

    session = os.getpid()
    report = g.run()
    assert report.results[0].status == "error" and "did not make" in report.results[0].message, report


def test_spawn_grades_a_notebook_function_by_value_and_falls_back_when_it_cannot(monkeypatch, capsys):
    """A function defined in ``__main__`` (as in a notebook), with a helper and a constant
    it uses, is graded in a new process; one that holds a lock cannot be pickled and is
    graded in this process, with a note that says so."""
    import threading

    monkeypatch.setenv("LRNOTES_GRADER_ISOLATION", "spawn")
    monkeypatch.setattr(G._isolation, "_warned", set())
    namespace = {"__name__": "__main__"}
    exec("import numpy as np\nSCALE = 1.0\ndef helper(x):\n    return SCALE * x\n"
         "def student(x):\n    return helper(np.asarray(x, float))\n", namespace)
    g = G.Checks("by value", namespace["student"])

    @g.check("returns its argument, from another process")
    def _(f):
        G.assert_close(G.as_array(G.call(f, np.ones(2)), (2,), "f(1)"), np.ones(2), "f(1)")

    report = g.run()
    assert report.passed, report
    assert "new Python process" in capsys.readouterr().out
    lock = threading.Lock()
    report = G.Checks("holds a lock", lambda x, _lock=lock: x)
    report.check("returns its argument")(lambda f: G.assert_close(
        G.as_array(G.call(f, np.ones(2)), (2,), "f(1)"), np.ones(2), "f(1)"))
    assert report.run().passed
    assert "could not be sent to a separate process" in capsys.readouterr().out
