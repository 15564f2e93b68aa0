"""The autograder: correct answers pass; broken ones get feedback, never an exception.

The correct answers are the ones in the solution notebooks (the single source of truth):
their function-defining cells are executed here, so the grader is tested against exactly
what the notebooks ship.
"""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lrnotes import grading as G
from lrnotes import schedules as S

SOLUTIONS = Path(__file__).resolve().parents[1] / "exercises" / "solutions"


def _solution_namespace(name: str) -> dict:
    """Execute the cells of a solution notebook that define functions (no plots)."""
    nb = nbformat.read(SOLUTIONS / name, as_version=4)
    ns: dict = {"np": np, "S": S, "G": G}
    for cell in nb.cells:
        if cell.cell_type == "code" and "def " in cell.source and "plt." not in cell.source:
            exec(compile(cell.source, name, "exec"), ns)
    return ns


@pytest.fixture(scope="module")
def ex1():
    return _solution_namespace("01-build-a-schedule.ipynb")


@pytest.fixture(scope="module")
def ex2():
    return _solution_namespace("02-critical-learning-rate.ipynb")


@pytest.fixture(autouse=True)
def short_time_limit(monkeypatch):
    monkeypatch.setattr(G, "TIME_LIMIT", 2.0)


def _stub(*args, **kwargs):
    raise NotImplementedError("Student exercise: do it")


def _assert_feedback(report: G.Report):
    """A failed report that explains itself: no exception escaped, each failure has a message."""
    assert isinstance(report, G.Report)
    assert not report.passed
    assert report.n_passed < report.n_total
    for r in report.failed:
        assert r.status in ("fail", "error", "todo", "timeout", "skipped")
        assert r.message, r
    text, page = str(report), report._repr_html_()
    assert "checks passed" in text and "not passed yet" in text
    assert "lrnotes-grade" in page and "Traceback" not in text


# ============================================================================ machinery
def test_report_counts_and_renders():
    ok = G.CheckResult("a", "pass")
    bad = G.CheckResult("b <x>", "fail", "wrong at k=3", "divide by T+1")
    report = G.Report("Part X", [ok, bad])
    assert (report.n_passed, report.n_total, report.passed) == (1, 2, False)
    assert report.failed == [bad]
    text = str(report)
    assert text.splitlines()[0] == "Part X: 1/2 checks passed (not passed yet)"
    assert "[FAIL] b <x>: wrong at k=3" in text and "hint: divide by T+1" in text
    page = report._repr_html_()
    assert "b &lt;x&gt;" in page and "<x>" not in page  # escaped
    assert G.Report("Part X", [ok]).passed
    assert not G.Report("empty", []).passed  # nothing checked is not a pass


def test_checks_turn_every_kind_of_breakage_into_results():
    def looping(x):
        while True:  # an endless loop that even swallows ordinary exceptions
            try:
                x = x + 1
            except Exception:
                pass

    cases = {
        "raises": (lambda x: 1 / 0, "fail", "ZeroDivisionError"),
        "none": (lambda x: None, "fail", "returned None"),
        "text": (lambda x: "hello", "fail", "not a number"),
        "shape": (lambda x: np.sum(x), "fail", "shape ()"),
        "nan": (lambda x: x * np.nan, "fail", "non-finite"),
        "exit": (lambda x: exit(3), "fail", "SystemExit"),
        "loop": (looping, "timeout", "stopped after"),
        "stub": (_stub, "todo", "Student exercise: do it"),
    }
    for key, (fn, status, words) in cases.items():
        g = G.Checks(key, fn, time_limit=0.3)

        @g.check("first")
        def _(f):
            x = np.arange(3.0)
            G.assert_close(G.as_array(G.call(f, x), x.shape, "f(x)"), x, "f(x)")

        @g.check("second")
        def _(f):
            raise AssertionError("never reached when the first check is a todo or a time-out")

        report = g.run()
        first = report.results[0]
        assert first.status == status, (key, first)
        assert words in first.message, (key, first.message)
        if status in ("todo", "timeout"):
            assert report.results[1].status == "skipped"
        _assert_feedback(report)


def test_a_grader_bug_is_reported_not_raised():
    g = G.Checks("broken grader", lambda x: x)

    @g.check("uses a missing name")
    def _(f):
        raise KeyError("oops")

    report = g.run()
    assert report.results[0].status == "error" and "KeyError" in report.results[0].message


def test_not_a_function():
    report = G.check_wsd(np.arange(3))
    assert report.results[0].status == "error"
    assert "expected a function" in report.results[0].message
    _assert_feedback(report)


def test_expect_value_error_wants_the_argument_named():
    def vague(T):
        raise ValueError("bad input")

    def named(T):
        raise ValueError(f"T must be >= 1, got {T}")

    def lenient(T):
        return 1.0

    G.expect_value_error(named, 0, names=("T",))
    with pytest.raises(G.CheckFailed, match="does not name"):
        G.expect_value_error(vague, 0, names=("T",))
    with pytest.raises(G.CheckFailed, match="returned normally"):
        G.expect_value_error(lenient, 0, names=("T",))
    with pytest.raises(G.CheckFailed, match="TypeError instead of ValueError"):
        G.expect_value_error(lambda: None, 0, names=("T",))


def test_assert_close_names_the_first_wrong_element():
    k = np.arange(1, 6)
    with pytest.raises(G.CheckFailed, match=r"wrong at k=4: expected 4, got 5 \(1 of 5"):
        G.assert_close([1, 2, 3, 5, 5], k, "eta", at=("k", k))
    G.assert_close(k + 1e-13, k, "eta")


def test_try_it_never_raises(capsys):
    G.try_it(_stub, 1)
    G.try_it(lambda t: 1 / 0, 1)
    G.try_it(lambda t: (np.int64(3), np.float64(0.5)), 1)
    out = capsys.readouterr().out
    assert "not implemented yet" in out
    assert "ZeroDivisionError" in out
    assert "= (3, 0.5)" in out


# ============================================================================ exercise 1
def test_solutions_of_exercise_1_pass(ex1):
    for check, name in [
        (G.check_linear_decay, "linear_decay"),
        (G.check_wsd, "wsd"),
        (G.check_largest_jump, "largest_jump"),
        (G.check_fixed_wsd, "fixed_wsd_schedule"),
    ]:
        report = check(ex1[name])
        assert report.passed, report


def _linear_broken():
    def divides_by_T(k, T, alpha=1.0):
        return alpha * (1 - np.asarray(k) / T)

    def no_validation(k, T, alpha=1.0):
        return alpha * (1 - np.asarray(k) / (T + 1))

    def loops_and_appends(k, T, alpha=1.0):
        return [alpha * (1 - kk / (T + 1)) for kk in np.ravel(k)]

    return {
        "divides by T": (divides_by_T, "divided by T"),
        "no validation": (no_validation, "should raise ValueError"),
        "flattens": (loops_and_appends, "shape"),
        "stub": (_stub, "not implemented"),
        "nan": (lambda k, T, alpha=1.0: np.full(np.shape(k), np.nan), "non-finite"),
    }


@pytest.mark.parametrize("case", list(_linear_broken()))
def test_check_linear_decay_feedback(case):
    fn, words = _linear_broken()[case]
    report = G.check_linear_decay(fn)
    _assert_feedback(report)
    assert words in str(report), str(report)


def test_check_wsd_feedback(ex1):
    good = ex1["wsd"]

    def negative_after_total(t, total, peak=1.0, warmup=0, decay_frac=0.1):
        t = np.asarray(t, dtype=float)
        rise = t / warmup if warmup else np.ones_like(t)
        return peak * np.minimum(np.minimum(rise, 1.0), (total - t) / (decay_frac * total))

    def scalar_only(t, total, peak=1.0, warmup=0, decay_frac=0.1):
        if t < warmup:
            return peak * t / warmup
        return peak

    report = G.check_wsd(negative_after_total)
    _assert_feedback(report)
    assert "clip" in str(report)
    report = G.check_wsd(scalar_only)
    _assert_feedback(report)
    assert "ambiguous" in str(report)
    report = G.check_wsd(lambda *a, **k: good(*a, **k) * 1.01)
    _assert_feedback(report)
    assert "wrong at t=" in str(report)
    # The grader's own reference is lrnotes.schedules: a WSD that misses the floor-at-zero
    # end is caught at t = total.
    assert G.check_wsd(lambda t, total, *a: np.asarray(good(t, total, *a)) + (np.asarray(t) >= total)).failed


def test_check_largest_jump_feedback():
    def off_by_one(schedule, T):
        values = np.array([schedule(t) for t in range(T + 1)])
        i = int(np.argmax(np.abs(np.diff(values))))
        return i, float(np.diff(values)[i])

    def absolute(schedule, T):
        values = np.array([schedule(t) for t in range(T + 1)])
        d = np.abs(np.diff(values))
        return int(d.argmax()) + 1, float(d.max())

    for fn, words in [(off_by_one, "new value starts"), (absolute, "keep the sign"), (lambda s, T: 17000, "pair")]:
        report = G.check_largest_jump(fn)
        _assert_feedback(report)
        assert words in str(report), str(report)


def test_check_fixed_wsd_rejects_the_source_snippet():
    report = G.check_fixed_wsd(G.buggy_wsd_schedule)
    _assert_feedback(report)
    assert "max is 1.5 at step 17000" in str(report)
    assert "duration" in str(report)


def test_buggy_snippet_really_is_buggy():
    assert G.buggy_wsd_schedule(16_999) == 1.0 and G.buggy_wsd_schedule(17_000) == 1.5
    fixed = S.wsd(20_000, warmup=1_000, decay_frac=0.1)
    assert fixed(17_000) == 1.0 and math.isclose(fixed(19_000), 0.5)


# ============================================================================ exercise 2
def test_solutions_of_exercise_2_pass(ex2):
    for check, name in [
        (G.check_critical_lr, "critical_lr"),
        (G.check_final_norms, "final_norms"),
        (G.check_empirical_threshold, "empirical_threshold"),
    ]:
        report = check(ex2[name])
        assert report.passed, report


def test_check_critical_lr_feedback(ex2):
    good = ex2["critical_lr"]

    def max_diagonal(H):
        H = np.asarray(H, dtype=float)
        if H.ndim != 2 or H.shape[0] != H.shape[1]:
            raise ValueError("H must be square")
        return 2 / np.max(np.diag(H))

    def one_over_L(H):
        return good(H) / 2

    def in_place(H):
        value = good(H)
        H *= 0
        return value

    def eigvals_complex(H):
        return 2 / np.max(np.linalg.eigvals(np.asarray(H)).astype(complex))

    for fn, words in [
        (max_diagonal, "diagonal"),
        (one_over_L, "not 1/L"),
        (in_place, "changed its input"),
        (eigvals_complex, "not a number"),
        (lambda H: np.array([good(H)]), "single number"),
        (_stub, "not implemented"),
    ]:
        report = G.check_critical_lr(fn)
        _assert_feedback(report)
        assert words in str(report), (words, str(report))


def test_check_final_norms_feedback(ex2):
    good = ex2["final_norms"]
    for fn, words in [
        (lambda H, etas, x0, n: good(H, etas, x0, n) ** 2, "squared norm"),
        (lambda H, etas, x0, n: good(H, etas, x0, n + 1), "one step too many"),
        (lambda H, etas, x0, n: good(H, etas, x0, n)[:, None], "shape"),
        (lambda H, etas, x0, n: float(good(H, etas, x0, n)[0]), "shape"),
    ]:
        report = G.check_final_norms(fn)
        _assert_feedback(report)
        assert words in str(report), (words, str(report))


def test_check_empirical_threshold_feedback(ex2):
    good, norms = ex2["empirical_threshold"], ex2["final_norms"]

    def theory(H, etas, x0, n):
        return 2 / np.linalg.eigvalsh(H)[-1]  # the right number, but it does not diverge

    def off_grid(H, etas, x0, n):
        return good(H, etas, x0, n) * 1.0001

    def one_too_early(H, etas, x0, n):
        v = good(H, etas, x0, n)
        i = int(np.searchsorted(etas, v))
        return float(etas[max(i - 2, 0)]) if np.isfinite(v) else v

    def never_inf(H, etas, x0, n):
        v = good(H, etas, x0, n)
        return v if np.isfinite(v) else float(etas[-1])

    def huge_cutoff(H, etas, x0, n):  # "diverged" only when astronomically large
        d = np.flatnonzero(norms(H, etas, x0, n) > 1e30)
        return float(etas[d[0]]) if d.size else np.inf

    for fn, words in [
        (theory, "did not diverge"),
        (off_grid, "not one of the grid"),
        (one_too_early, "did not diverge"),
        (never_inf, "expected inf"),
        (huge_cutoff, "expected"),
    ]:
        report = G.check_empirical_threshold(fn)
        _assert_feedback(report)
        assert words in str(report), (words, str(report))


def test_random_spd_has_the_requested_spectrum():
    rng = np.random.default_rng(0)
    H = G._random_spd(rng, 12, cond=1e4, top=3.0)
    eig = np.linalg.eigvalsh(H)
    assert np.allclose(H, H.T)
    assert math.isclose(eig[-1], 3.0, rel_tol=1e-10)
    assert math.isclose(eig[-1] / eig[0], 1e4, rel_tol=1e-6)
