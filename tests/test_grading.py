"""The autograder: correct answers pass; broken, hostile or sneaky ones get feedback,
never a traceback, a hang or a flood of output.

The correct answers are the solution notebooks' own functions (the single source of
truth): their function-defining cells are executed here.
"""

from __future__ import annotations

import collections
import itertools
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lrnotes import grading as G
from lrnotes import schedules as S
from lrnotes import snippets

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "exercises" / "solutions"


def solution_functions(stem: str) -> dict:
    """Execute a solution notebook's code cells that define its functions and constants
    (not its checks, try-it calls or solution-only experiments)."""
    nb = nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)
    ns: dict = {"__name__": "__main__"}
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type != "code" or "solution-only" in tags:
            continue
        if any(w in cell.source for w in ("report", "G.try_it", "assert ")):
            continue
        exec(compile(cell.source, stem, "exec"), ns)
    return ns


@pytest.fixture(scope="module")
def ex():
    cache: dict = {}

    def get(stem):
        if stem not in cache:
            cache[stem] = solution_functions(stem)
        return cache[stem]

    return get


@pytest.fixture(autouse=True)
def short_time_limit(monkeypatch):
    monkeypatch.setattr(G, "TIME_LIMIT", 1.0)


@pytest.fixture(params=["fork", "spawn"])
def runner(request, monkeypatch):
    """The default runner on Linux and macOS (fork), and the one used where os.fork is
    missing (spawn: a new Python process), forced here so that CI tests both."""
    monkeypatch.setenv("LRNOTES_GRADER_ISOLATION", request.param)
    monkeypatch.setattr(G._isolation, "_warned", {"spawn"})
    return request.param


def _stub(*args, **kwargs):
    raise NotImplementedError("Student exercise: do it")


def assert_feedback(report: G.Report, *words: str):
    """A failed report that explains itself: no exception escaped, each failure has a message."""
    assert isinstance(report, G.Report)
    assert not report.passed and report.n_passed < report.n_total
    for r in report.failed:
        assert r.status in ("fail", "error", "todo", "timeout", "skipped") and r.message, r
    text, page = str(report), report._repr_html_()
    assert "checks passed" in text and "not passed yet" in text
    assert "lrnotes-grade" in page and "Traceback" not in text
    assert len(text) < 40_000, "the report must stay short"
    for w in words:
        assert w in text, (w, text)
    return text


# ============================================================================ reports
def test_report_counts_and_renders():
    ok = G.CheckResult("a", "pass")
    bad = G.CheckResult("b <x>", "fail", "wrong at k=3", "divide by T+1", "printed\nlines")
    report = G.Report("Exercise 9.9a", [ok, bad], seed=7)
    assert (report.n_passed, report.n_total, report.passed) == (1, 2, False)
    assert report.failed == [bad]
    text = str(report)
    assert text.splitlines()[0] == "Exercise 9.9a: 1/2 checks passed (not passed yet)"
    assert "[FAIL] b <x>: wrong at k=3" in text and "hint: divide by T+1" in text
    assert "your code printed: printed" in text
    page = report._repr_html_()
    assert "b &lt;x&gt;" in page and "<x>" not in page  # escaped
    assert G.Report("x", [ok]).passed
    assert not G.Report("empty", []).passed  # nothing checked is not a pass


def test_results_are_bounded_and_well_formed():
    r = G.CheckResult("n", "weird-status", "m" * 10**6, "h" * 10**5, "o" * 10**5)
    assert r.status == "error"
    assert len(r.message) < 2_000 and len(r.hint) < 1_000 and len(r.output) < 2_000
    assert G.CheckResult.from_event({"status": ["x"], "message": 3}, "n").message == ""


# ============================================================================ hostile code
def _checks_of(fn, time_limit=0.5):
    g = G.Checks("Exercise 0.0a: machinery", fn, time_limit=time_limit, seed=1)

    @g.check("first")
    def _(f):
        x = np.arange(3.0)
        for _ in range(2):
            G.assert_close(G.as_array(G.call(f, x), x.shape, "f(x)"), x, "f(x)")

    @g.check("second")
    def _(f):
        G.assert_close(G.as_array(G.call(f, np.ones(2)), (2,), "f(1)"), np.ones(2), "f(1)")

    return g


class _Boom(BaseException):
    pass


class _BadRepr:
    def __repr__(self):
        raise RuntimeError("no repr for you")

    __str__ = __repr__

    def __array__(self, *args, **kwargs):
        raise RuntimeError("not an array either")


def _catch_all_loop(x):
    while True:
        try:
            while True:
                pass
        except BaseException:  # noqa: BLE001 - the point of the test
            continue


def _c_loop(x):
    collections.deque(itertools.count(), maxlen=0)


def _raises(exc):
    def f(x):
        raise exc

    return f


HOSTILE = {
    # name: (function, expected status of the first check, words in the report)
    "catch-all loop": (_catch_all_loop, "timeout", "did not return within 0.5 s"),
    "C-level loop": (_c_loop, "timeout", "`_c_loop`"),
    "os._exit": (lambda x: os._exit(3), "fail", "exit status 3"),
    "sys.exit": (lambda x: sys.exit(2), "fail", "SystemExit"),
    "KeyboardInterrupt": (_raises(KeyboardInterrupt("k" * 10**6)), "fail", "KeyboardInterrupt"),
    "GeneratorExit": (_raises(GeneratorExit()), "fail", "GeneratorExit"),
    "BaseException subclass": (_raises(_Boom("boom")), "fail", "_Boom"),
    "1 MB message": (_raises(ValueError("m" * 10**6)), "fail", "more characters"),
    "repr raises": (lambda x: _BadRepr(), "fail", "not a number"),
    "NaN": (lambda x: x * np.nan, "fail", "NaN"),
    "None": (lambda x: None, "fail", "returned None"),
    "a string": (lambda x: "hello", "fail", "not a number"),
    "a generator": (lambda x: (i for i in x), "fail", "not a number"),
    "complex": (lambda x: x + 1j, "fail", "complex"),
    "prints megabytes": (lambda x: print("x" * 10**7), "fail", "more characters not shown"),
    "stub": (_stub, "todo", "Student exercise: do it"),
    "too slow": (lambda x: (time.sleep(0.3), x)[1], "timeout", "too slow"),
    "allocates 4 GiB": (lambda x: np.ones(2**29) + x, "fail", "MemoryError"),
}


# where os.fork is missing, the cases that end or hang a process (the rest are alike in both)
SPAWN_CASES = ("catch-all loop", "C-level loop", "os._exit", "KeyboardInterrupt", "prints megabytes",
               "too slow", "stub", "allocates 4 GiB")


@pytest.mark.parametrize("case, how", [(c, "fork") for c in HOSTILE] + [(c, "spawn") for c in SPAWN_CASES])
def test_hostile_code_becomes_feedback(case, how, monkeypatch):
    monkeypatch.setenv("LRNOTES_GRADER_ISOLATION", how)
    monkeypatch.setattr(G._isolation, "_warned", {"spawn"})
    fn, status, words = HOSTILE[case]
    start = time.monotonic()
    report = _checks_of(fn).run()
    assert time.monotonic() - start < 5
    assert report.results[0].status == status, (case, report)
    text = assert_feedback(report, words)
    if status in ("todo", "timeout"):
        assert report.results[1].status == "skipped"
    assert len(text) < 8_000


def test_a_timeout_names_the_line_and_leaves_the_session_usable(runner):
    report = _checks_of(_catch_all_loop).run()
    assert "It was running line" in report.results[0].message and "`_catch_all_loop`" in report.results[0].message
    # a slow import in the worker dies with the worker; the session's modules are untouched
    before = set(sys.modules)

    def imports_forever(x):
        import json  # noqa: F401 - the import is the point

        while True:
            pass

    _checks_of(imports_forever).run()
    assert set(sys.modules) == before
    assert _checks_of(lambda x: x).run().passed


def test_patched_globals_and_error_state_do_not_change_the_verdict(monkeypatch, ex, runner):
    good = ex("1-4-critical-learning-rate")["critical_lr"]
    old = np.seterr(all="raise")
    try:
        monkeypatch.setattr(np.linalg, "eigvalsh", lambda *a, **k: 1 / 0)
        monkeypatch.setattr(math, "cos", lambda x: 0.0)
        monkeypatch.setattr(G.ex1_4, "ref_critical_lr", lambda H: 42.0)
        monkeypatch.setattr(np.random, "default_rng", lambda *a: None)
        report = G.check_critical_lr(lambda H: good(H))
    finally:
        np.seterr(**old)
    assert report.passed, report


def test_student_code_cannot_patch_the_reference(runner):
    def cheat(H):
        G.ex1_4.ref_critical_lr = lambda H: 1.0
        np.linalg.eigvalsh = lambda H: np.array([2.0])
        return 1.0

    report = G.check_critical_lr(cheat)
    assert_feedback(report, "expected 0.5")
    assert G.ex1_4.ref_critical_lr([[4.0]]) == 0.5  # the session is unchanged too


def test_values_that_break_the_graders_own_code(runner):
    assert_feedback(G.check_largest_jump(lambda s, T: (float("inf"), 1.0)), "returned inf")
    assert_feedback(G.check_largest_jump(lambda s, T: (np.nan, _BadRepr())), "NaN")
    assert_feedback(G.check_largest_jump(lambda s, T: {"t": 1}), "pair")
    assert_feedback(G.check_wsd(lambda *a, **k: [[1, 2], [3]]), "not a number")


def test_not_a_function():
    report = G.check_wsd(np.arange(3))
    assert report.results[0].status == "error" and "expected a function" in report.results[0].message


def test_a_grader_bug_is_reported_not_raised():
    g = G.Checks("broken grader", lambda x: x)

    @g.check("uses a missing name")
    def _(f):
        raise KeyError("oops")

    report = g.run()
    assert report.results[0].status == "error" and "KeyError" in report.results[0].message
    assert "bug in the grader" in report.results[0].hint


def test_try_it_never_raises(capsys):
    G.try_it(_stub, 1)
    G.try_it(lambda t: 1 / 0, 1)
    G.try_it(lambda t: (np.int64(3), np.float64(0.5)), 1)
    G.try_it(_catch_all_loop, 1)
    G.try_it(lambda t: _BadRepr(), 1)
    out = capsys.readouterr().out
    assert "not implemented yet" in out and "ZeroDivisionError" in out
    assert "= (3, 0.5)" in out and "did not return" in out and "repr() failed" in out


def test_jupyter_interrupt_stops_the_worker_and_is_not_swallowed(tmp_path):
    script = tmp_path / "interrupt.py"
    script.write_text(textwrap.dedent("""
        import os, time
        from lrnotes import grading as G
        G.TIME_LIMIT = 60
        def loop(*a):
            while True:
                try:
                    pass
                except BaseException:
                    pass
        t0 = time.time()
        try:
            G.check_linear_decay(loop)
        except KeyboardInterrupt as exc:
            print("interrupted after", round(time.time() - t0, 1), "s:", exc)
        import subprocess
        left = subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True).stdout.split()
        print("children left:", left)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=REPO, stdout=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    time.sleep(3.0)
    os.killpg(proc.pid, signal.SIGINT)  # as jupyter_client interrupts a kernel: its process group
    out, _ = proc.communicate(timeout=30)
    assert "interrupted after" in out and "check was stopped" in out, out
    assert "children left: []" in out, out


@pytest.mark.parametrize("runner", ["thread", "inline"])
def test_fallback_runners(monkeypatch, capsys, runner):
    """Where os.fork is missing: checks run in-process, with a warning; a thread-based limit
    stops slow Python code and says so when it cannot stop a loop."""
    monkeypatch.setenv("LRNOTES_GRADER_ISOLATION", runner)
    monkeypatch.setattr(G._isolation, "_warned", set())
    assert _checks_of(lambda x: x).run().passed
    assert _checks_of(lambda x: x * np.nan).run().results[0].status == "fail"
    assert "os.fork" in capsys.readouterr().out
    if runner == "thread":
        def slow(x):
            s = 0
            for i in range(10**9):
                s += i
            return x

        report = _checks_of(slow).run()
        assert report.results[0].status == "timeout", report

        def stubborn(x):  # swallows the injected stop for 4 s, then ends (not to burn CI)
            end = time.monotonic() + 4
            while time.monotonic() < end:
                try:
                    while time.monotonic() < end:
                        pass
                except BaseException:  # noqa: BLE001 - the point of the test
                    continue
            return x

        report = _checks_of(stubborn).run()
        assert report.results[0].status == "timeout" and "restart the kernel" in report.results[0].message


# ============================================================================ every exercise
STEMS = sorted(p.stem for p in SOLUTIONS.glob("*.ipynb"))


def test_every_exercise_has_a_module_and_a_notebook():
    numbers = sorted(G.EXERCISES)
    assert len(numbers) >= 12
    by_chapter = collections.Counter(n.split(".")[0] for n in numbers)
    assert all(by_chapter[c] >= 2 for c in "123456"), by_chapter
    assert [s.split("-")[0] + "." + s.split("-")[1] for s in STEMS] == numbers
    for number, module in G.EXERCISES.items():
        assert module.CHECKS and all(f.__name__.startswith("check_") for f in module.CHECKS)


@pytest.mark.parametrize("stem", STEMS)
def test_solutions_pass_with_several_seeds(stem, ex, monkeypatch):
    monkeypatch.setattr(G, "TIME_LIMIT", 30.0)  # a loaded CI machine: correctness, not speed
    ns = ex(stem)
    module = G.EXERCISES[".".join(stem.split("-")[:2])]
    names = [c.__name__.removeprefix("check_") for c in module.CHECKS]
    for check, name in zip(module.CHECKS, names):
        for seed in (12345,):  # seed 0 and more: tests/test_answer_bank.py
            report = check(ns[name], seed=seed)
            assert report.passed, report
            assert report.title.startswith(f"Exercise E{module.NUMBER}")


# ============================================================================ cannot be fooled cheaply
def test_a_lookup_table_fails_the_random_probes(ex):
    good = ex("1-1-build-a-schedule")["linear_decay"]
    table = {}
    for case in G.ex1_1.LINEAR_CASES:  # everything fixed in the grader's source
        table[(np.asarray(case.args[0]).tobytes(), case.args[1], case.args[2])] = good(*case.args)

    def lookup(k, T, alpha=1.0):
        key = (np.asarray(k).tobytes(), T, alpha)
        if key in table:
            return table[key]
        return good(k, T, alpha) if np.ndim(k) == 0 else np.zeros(np.shape(k))

    report = G.check_linear_decay(lookup, seed=99)
    text = assert_feedback(report, "[random probe, seed 99]")
    assert report.results[0].passed
    # the seed repeats the same probes: the same message twice
    assert str(G.check_linear_decay(lookup, seed=99)) == text


def test_the_honest_looking_wrong_answers_of_the_issue(ex):
    e1, e4 = ex("1-1-build-a-schedule"), ex("1-4-critical-learning-rate")

    def skips_zero(schedule, T):  # never evaluates schedule(0)
        v = np.array([schedule(t) for t in range(1, T + 1)])
        d = np.diff(v)
        i = int(np.argmax(np.abs(d)))
        return i + 2, float(d[i])

    assert_feedback(G.check_largest_jump(skips_zero), "schedule(0)")

    def accepts_singular(H):
        H = np.asarray(H, float)
        if H.ndim != 2 or H.shape[0] != H.shape[1] or not np.allclose(H, H.T) or not np.isfinite(H).all():
            raise ValueError("H must be square, symmetric and finite")
        eig = np.linalg.eigvalsh(H)
        if eig[0] < 0:
            raise ValueError("H must be positive semi-definite")
        return 2 / eig[-1]

    assert_feedback(G.check_critical_lr(accepts_singular), "singular")
    threshold = e4["empirical_threshold"]
    assert_feedback(G.check_empirical_threshold(lambda *a: -np.inf if np.isinf(threshold(*a)) else threshold(*a)),
                    "-inf")

    linear = e1["linear_decay"]

    def float_budget(k, T, alpha=1.0):  # accepts T=5.0, a float budget
        if T < 1 or T != int(T):
            raise ValueError(f"T must be a whole number >= 1, got {T!r}")
        return linear(k, int(T), alpha)

    assert_feedback(G.check_linear_decay(float_budget), "5.0", "returned normally")

    def infinite_peak(k, T, alpha=1.0):  # accepts alpha=inf
        if not alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {alpha!r}")
        return linear(k, T, 1.0) * alpha

    assert_feedback(G.check_linear_decay(infinite_peak), "inf", "returned normally")
    good_wsd = e1["wsd"]

    def nan_peak(t, total, peak=1.0, *args, **kwargs):  # NaN in, NaN out
        if peak != peak:
            return np.full(np.shape(t), np.nan)
        return good_wsd(t, total, peak, *args, **kwargs)

    assert_feedback(G.check_wsd(nan_peak), "nan", "returned normally")


# ============================================================================ feedback fits the mistake
def test_no_duration_hint_for_nan_and_precision_hint_for_float32(ex):
    text = assert_feedback(G.check_fixed_wsd_schedule(lambda step: float("nan")), "NaN")
    assert "duration" not in text
    text = assert_feedback(G.check_fixed_wsd_schedule(snippets.wsd_6_3.wsd_schedule), "max is 1.5 at step 17000")
    assert "duration" in text
    wsd = ex("1-1-build-a-schedule")["wsd"]
    text = assert_feedback(G.check_wsd(lambda *a, **k: np.float32(wsd(*a, **k))
                                       if np.ndim(a[0]) == 0 else np.asarray(wsd(*a, **k), np.float32)),
                           "float32")
    assert "eigvalsh" not in text
    text = assert_feedback(G.check_wsd(lambda *a, **k: np.asarray(wsd(*a, **k)) + 0j), "complex")
    assert "eigvalsh" not in text


FEEDBACK = [
    # (exercise stem, check, wrong answer built from the solution namespace, words)
    ("1-1-build-a-schedule", "check_linear_decay",
     lambda ns: lambda k, T, alpha=1.0: alpha * (1 - np.asarray(k) / T), "divided by T"),
    ("1-1-build-a-schedule", "check_largest_jump",
     lambda ns: lambda s, T: (ns["largest_jump"](s, T)[0] - 1, ns["largest_jump"](s, T)[1]), "new value starts"),
    ("1-2-cosine-and-restarts", "check_cosine",
     lambda ns: lambda t, total, peak=1.0, floor=0.0: floor + 0.5 * (peak - floor) * (1 + np.cos(np.pi * np.asarray(t, float) / total)),
     "min(t, total)"),
    ("1-2-cosine-and-restarts", "check_sgdr",
     lambda ns: lambda t, period, mult=1.0, peak=1.0, floor=0.0: ns["sgdr"](t, period, 1.0, peak, floor),
     "times longer"),
    ("1-3-double-well", "check_barrier_heights",
     lambda ns: lambda a, b: ns["barrier_heights"](a, b)[::-1], "swapped"),
    ("1-4-critical-learning-rate", "check_critical_lr",
     lambda ns: lambda H: 2 / np.max(np.diag(np.asarray(H, float))), "diagonal"),
    ("1-4-critical-learning-rate", "check_log_growth",
     lambda ns: lambda lrs, lam: np.log(np.maximum(1 - np.outer(lam, lrs), 1e-300)).sum(axis=1),
     "absolute value"),
    ("1-5-momentum-threshold", "check_heavy_ball_critical_lr",
     lambda ns: lambda H, beta: ns["heavy_ball_critical_lr"](H, beta) / (1 + beta), "raises the threshold"),
    ("1-6-batch-size-noise", "check_equal_noise_lr", lambda ns: lambda eta, B, Bn, lam: eta * Bn / B, "linear scaling"),
    ("1-7-adam-scheduled-beta1", "check_bias_correction",
     lambda ns: lambda b: 1 - np.asarray(b) ** np.arange(1, len(b) + 1), "constant beta1 only"),
    ("2-1-euler-lagrange", "check_euler_lagrange", lambda ns: lambda L, S, t: -ns["euler_lagrange"](L, S, t), "sign"),
    ("2-1-euler-lagrange", "check_power_exponent", lambda ns: lambda p: 2.0 / (p + 2), "exact"),
    ("2-2-best-power", "check_best_scale",
     lambda ns: lambda m, D, G_, T: (ns["best_scale"](m, D, G_, T)[0] * 2, ns["best_scale"](m, D, G_, T)[1]), "dJ/dc"),
    ("3-1-weighted-identity", "check_identity_terms",
     lambda ns: lambda w, q: [float(c) for c in ns["identity_terms"](w, q)], "Fraction"),
    ("3-1-weighted-identity", "check_identity_terms_fast", lambda ns: ns["identity_terms"], "[TIMEOUT] T = 10**6"),
    ("3-2-last-iterate-bound", "check_tuned_bound",
     lambda ns: lambda s, D=1.0, G_=1.0: (1 / ns["tuned_bound"](s, D, G_)[0], ns["tuned_bound"](s, D, G_)[1]),
     "sqrt(A/B)"),
    ("4-1-noisy-quadratic", "check_simulate",
     lambda ns: lambda lrs, th, lam, s, n, rng: ns["simulate"](lrs, th, lam, s, n, np.random.default_rng(0)),
     "rng argument"),
    ("4-2-retarget-mid-run", "check_retarget",
     lambda ns: lambda sched, total, at, new: (lambda t: sched(np.asarray(t, float))), "wrong at t="),
    ("5-1-low-precision", "check_format_limits",
     lambda ns: lambda dt: (float(__import__("torch").finfo(dt).tiny),) + ns["format_limits"](dt)[1:], "subnormal"),
    ("5-2-the-cliff", "check_clip_rows", lambda ns: lambda g, c: np.clip(g, -c, c), "np.clip"),
    ("5-2-the-cliff", "check_clip_threshold",
     lambda ns: lambda x, frac: float(np.quantile(x, 1 - frac)), "one of the norms"),
    ("6-1-piecewise-linear", "check_best_three_piece",
     lambda ns: lambda T: ([0.0, 0.3, 0.6, 1.0], [1.0, 0.7, 0.4, 0.1]), "aim for at most"),
    ("6-2-curvature-aware", "check_power_iteration",
     lambda ns: lambda hvp, v0, n: ns["power_iteration"](hvp, v0, 3 * n + 5), "budget"),
]


@pytest.mark.parametrize("stem, check, make, words", FEEDBACK, ids=[f[1] for f in FEEDBACK])
def test_feedback_names_the_mistake(stem, check, make, words, ex, monkeypatch):
    # honest wrong answers finish; some (sympy) take over a second on a busy machine, and a
    # time-out would report "too slow" instead of the mistake this test looks for
    monkeypatch.setattr(G, "TIME_LIMIT", 10.0)
    ns = ex(stem)
    assert_feedback(getattr(G, check)(make(ns)), words)


def test_every_check_reports_todo_for_a_stub():
    for number, module in G.EXERCISES.items():
        for check in module.CHECKS:
            report = check(_stub)
            assert report.results[0].status == "todo", (number, check.__name__, report)
            assert all(r.status == "skipped" for r in report.results[1:])


def test_buggy_snippet_really_is_buggy():
    buggy = snippets.wsd_6_3.wsd_schedule
    assert buggy(16_999) == 1.0 and buggy(17_000) == 1.5
    fixed = S.wsd(20_000, warmup=1_000, decay_frac=0.1)
    assert fixed(17_000) == 1.0 and math.isclose(fixed(19_000), 0.5)


def test_references_agree_with_lrnotes():
    """The grader's own reference maths, held against the package it is independent of."""
    from lrnotes import theory as Th

    t = np.arange(0, 3_000, 0.5)
    for period, mult in [(10, 1.0), (10, 2.0), (7.3, 1.7)]:
        assert np.allclose(G.ex1_2.ref_sgdr(t, period, mult), S.sgdr(period, mult)(t), rtol=1e-12)
        assert np.array_equal(G.ex1_2.ref_restart_steps(period, mult, 3_000), S.sgdr(period, mult).restart_steps(3_000))
    for shape in ("linear", "cosine", "sqrt"):
        ref = G.ex1_1.ref_wsd(t, 2_000, 1.5, 100, 0.3, shape)
        assert np.allclose(ref, S.wsd(2_000, 1.5, 100, 0.3, shape)(t), rtol=1e-12)
    lrs = np.random.default_rng(0).uniform(0.01, 1, (4, 300))
    assert np.allclose(G.ex3_2.ref_bound(lrs, 2.0, 3.0), Th.last_iterate_bound(lrs, 2.0, 3.0), rtol=1e-12)
    w, q = lrs[0], lrs[1]
    assert math.isclose(G.ex3_1.ref_rhs_fast(w, q), Th.identity_rhs(w, q), rel_tol=1e-12)
    assert np.allclose(G.ex3_1.ref_terms_fast(w[:30], q[:30]), np.array(G.ex3_1.ref_terms_exact(w[:30], q[:30]), float),
                       rtol=1e-12, atol=1e-15)
    f = lambda x: G.ex4_2._cosine(100)(x)  # noqa: E731
    assert np.allclose(G.ex4_2.ref_retargeted(f, 100, 40, 70, np.arange(80)),
                       S.retarget(S.cosine(100), 40, 70)(np.arange(80)), rtol=1e-12)


def test_random_spd_has_the_requested_spectrum():
    rng = np.random.default_rng(0)
    H = G.ex1_4.random_spd(rng, 12, cond=1e4, top=3.0)
    eig = np.linalg.eigvalsh(H)
    assert np.allclose(H, H.T)
    assert math.isclose(eig[-1], 3.0, rel_tol=1e-10)
    assert math.isclose(eig[-1] / eig[0], 1e4, rel_tol=1e-6)


def test_the_check_functions_are_named_explicitly():
    """lrnotes.grading imports every check by name: exactly the CHECKS of each module."""
    import ast
    import importlib
    import inspect

    tree = ast.parse(inspect.getsource(G))
    imported = {a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1
                and node.module and node.module.startswith("ex") for a in node.names}
    want = set()
    for module in G.EXERCISES.values():
        want |= {c.__name__ for c in module.CHECKS}
        assert all(getattr(G, c.__name__) is c for c in module.CHECKS)
    assert imported == want
    assert len(G.EXERCISES) == 17 and want <= set(G.__all__)
