"""The autograder behind the book's exercises.

Every exercise notebook ends each part with a *check cell*::

    report = G.check_linear_decay(linear_decay)
    report

The grader calls the student's function on a set of cases, compares with
:mod:`lrnotes.schedules` (or with NumPy's linear algebra) and returns a :class:`Report`
that says what passed, what failed and a hint.  It never lets the student's code crash
the check cell: an exception (``NotImplementedError`` from an untouched stub included),
a wrong type or shape, a NaN, or an endless loop (stopped after a time limit where the
platform allows it) all become feedback.  ``report.passed`` is ``True`` only when every
check passed; the solution notebooks ``assert`` it.

The module has two halves: the machinery (:class:`Report`, :class:`Checks` and the
helpers that call student code safely), then one ``check_*`` function per exercise part.
"""

from __future__ import annotations

import contextlib
import copy
import html
import re
import signal
import threading
import warnings
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

__all__ = [
    "CheckResult",
    "Report",
    "Checks",
    "CheckFailed",
    "GraderTimeout",
    "try_it",
    "check_linear_decay",
    "check_wsd",
    "check_largest_jump",
    "check_fixed_wsd",
    "buggy_wsd_schedule",
    "check_critical_lr",
    "check_final_norms",
    "check_empirical_threshold",
]

#: Seconds one check may run before it is stopped (student code can loop forever).
TIME_LIMIT = 10.0

_STATUS = {
    # status: (plain-text tag, icon, colour)
    "pass": ("PASS", "\u2705", "#1a7f37"),
    "fail": ("FAIL", "\u274c", "#cf222e"),
    "error": ("ERROR", "\U0001f4a5", "#cf222e"),
    "todo": ("TODO", "\u270f\ufe0f", "#9a6700"),
    "timeout": ("TIMEOUT", "\u23f1\ufe0f", "#cf222e"),
    "skipped": ("SKIP", "\u2014", "#6e7781"),
}


# ============================================================================ reports
@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``status`` is one of ``pass``, ``fail``, ``error``
    (the grader met something it could not judge), ``todo`` (the stub still raises
    ``NotImplementedError``), ``timeout`` or ``skipped``."""

    name: str
    status: str
    message: str = ""
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "pass"


class Report:
    """What a grader found: ``.passed``, ``.results`` (a list of :class:`CheckResult`),
    ``.n_passed`` and ``.n_total``.  Shows as a table in Jupyter, as text elsewhere."""

    def __init__(self, title: str, results: list[CheckResult]):
        self.title = title
        self.results = list(results)

    @property
    def n_total(self) -> int:
        return len(self.results)

    @property
    def n_passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def passed(self) -> bool:
        return self.n_total > 0 and self.n_passed == self.n_total

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    @property
    def summary(self) -> str:
        verdict = "all passed" if self.passed else "not passed yet"
        return f"{self.title}: {self.n_passed}/{self.n_total} checks passed ({verdict})"

    def __str__(self) -> str:
        lines = [self.summary]
        for r in self.results:
            tag = _STATUS[r.status][0]
            text = f"  [{tag}] {r.name}"
            if r.message:
                text += f": {r.message}"
            lines.append(text)
            if r.hint and not r.passed and r.status != "skipped":
                lines.append(f"         hint: {r.hint}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = _STATUS["pass" if self.passed else "fail"][2]
        rows = []
        for r in self.results:
            _, icon, c = _STATUS[r.status]
            detail = html.escape(r.message)
            if r.hint and not r.passed and r.status != "skipped":
                detail += f'<br><i style="color:#57606a">Hint: {html.escape(r.hint)}</i>'
            rows.append(
                f'<tr><td style="text-align:center">{icon}</td>'
                f'<td style="text-align:left;color:{c}">{html.escape(r.name)}</td>'
                f'<td style="text-align:left">{detail}</td></tr>'
            )
        return (
            '<div class="lrnotes-grade">'
            f'<p style="font-weight:bold;color:{colour}">{html.escape(self.summary)}</p>'
            '<table><thead><tr><th></th><th style="text-align:left">check</th>'
            '<th style="text-align:left">details</th></tr></thead><tbody>'
            + "".join(rows)
            + "</tbody></table></div>"
        )


# ============================================================================ machinery
class CheckFailed(Exception):
    """Raised inside a check to fail it with a message and an optional hint."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint


class GraderTimeout(BaseException):
    """Raised (by a timer) when a check runs past its time limit.

    A ``BaseException``, so that a student's ``except Exception:`` cannot swallow it.
    """


class _NotImplementedYet(Exception):
    """The student's stub still raises ``NotImplementedError``."""


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`GraderTimeout` after ``seconds`` (POSIX main thread only; else no limit)."""
    usable = (
        seconds
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise GraderTimeout(f"stopped after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)


def _short(value) -> str:
    """A short description of an argument or a result, for messages."""
    if isinstance(value, np.ndarray):
        if value.size <= 4:
            return " ".join(np.array2string(value, precision=4, separator=", ").split())
        return f"array of shape {value.shape}"
    if isinstance(value, float):
        return f"{value:.6g}"
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _fn_name(fn) -> str:
    return getattr(fn, "__name__", "your function")


def call(fn: Callable, *args, copy_args: bool = True, **kwargs):
    """Call student code: copies the arguments (unless ``copy_args=False``), silences
    NumPy warnings, and turns any exception into :class:`CheckFailed`
    (``NotImplementedError`` into a *todo*)."""
    shown = ", ".join([_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()])
    where = f"{_fn_name(fn)}({shown})"
    if copy_args:
        args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise _NotImplementedYet(str(exc) or "NotImplementedError") from None
    except (Exception, SystemExit) as exc:
        hint = ""
        if "truth value of an array" in str(exc):
            hint = (
                "an `if` on a NumPy array is ambiguous: use np.where / np.clip / np.minimum for "
                "arrays, or call a scalar-only function one step at a time"
            )
        raise CheckFailed(f"{where} raised {type(exc).__name__}: {exc}", hint) from None


def try_it(fn: Callable, *args, **kwargs) -> None:
    """Call a student's function once and print the result, or what went wrong.

    For "try it" cells: unlike a plain call, it never raises, so the student notebook
    runs from top to bottom even before the exercise is done.
    """
    shown = ", ".join([_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()])
    where = f"{_fn_name(fn)}({shown})"
    try:
        with _time_limit(TIME_LIMIT):
            value = call(fn, *args, **kwargs)
    except _NotImplementedYet:
        print(f"{_fn_name(fn)} is not implemented yet: fill it in above, run that cell, then this one.")
    except CheckFailed as exc:
        print(exc.message + (f"\nhint: {exc.hint}" if exc.hint else ""))
    except GraderTimeout as exc:
        print(f"{where} {exc}: look for a loop that never ends.")
    else:
        print(f"{where} = {_plain(value)!r}")


def _plain(value):
    """NumPy scalars as Python numbers (and inside tuples/lists), for readable output."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    return value


def expect_value_error(fn: Callable, *args, names: tuple[str, ...] = (), **kwargs) -> None:
    """Fail unless ``fn(*args, **kwargs)`` raises ``ValueError`` whose message names one of
    ``names`` (the offending argument, as the book's convention asks)."""
    shown = ", ".join([_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()])
    where = f"{_fn_name(fn)}({shown})"
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except ValueError as exc:
        if names and not any(re.search(rf"\b{re.escape(n)}\b", str(exc)) for n in names):
            raise CheckFailed(
                f"{where} raised ValueError({str(exc)!r}), but the message does not name "
                f"the argument ({' or '.join(names)})",
                "say which argument is wrong and what is allowed, "
                f"e.g. ValueError(f'{names[0]} must be ..., got {{{names[0]}!r}}')",
            ) from None
        return
    except NotImplementedError as exc:
        raise _NotImplementedYet(str(exc) or "NotImplementedError") from None
    except (Exception, SystemExit) as exc:
        raise CheckFailed(
            f"{where} raised {type(exc).__name__} instead of ValueError: {exc}",
            "check the arguments first and `raise ValueError(...)` with a clear message",
        ) from None
    raise CheckFailed(
        f"{where} returned normally; it should raise ValueError",
        "validate the arguments at the top of the function",
    )


def _numbers(value, what: str) -> np.ndarray:
    """A student's result as a float array: fail on None, text, objects or complex numbers."""
    if value is None:
        raise CheckFailed(f"{what} returned None", "did you forget the `return` statement?")
    try:
        raw = np.asarray(value)
        if np.iscomplexobj(raw):
            raise CheckFailed(
                f"{what} returned complex numbers ({_short(raw)}), not a number",
                "return real numbers; for a symmetric matrix, np.linalg.eigvalsh gives real "
                "eigenvalues (np.linalg.eigvals may return complex ones)",
            )
        return np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(
            f"{what} returned {type(value).__name__} {_short(value)}, not a number ({exc})"
        ) from None


def as_array(value, shape: tuple[int, ...], what: str) -> np.ndarray:
    """Convert a student's result to a float array of the given shape, or fail clearly."""
    arr = _numbers(value, what)
    if arr.shape != tuple(shape):
        raise CheckFailed(
            f"{what} returned shape {arr.shape}, expected {tuple(shape)}",
            "work element-wise on the input array (no loops that append, no reductions), "
            "so the output has the input's shape",
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        raise CheckFailed(
            f"{what} returned a non-finite value ({arr[i]}) at index {i if len(i) != 1 else i[0]}",
            "look for a division by zero or an overflow",
        )
    return arr


def as_scalar(value, what: str) -> float:
    """Convert a student's result to one finite float, or fail clearly."""
    arr = _numbers(value, what)
    if arr.ndim != 0:
        raise CheckFailed(
            f"{what} returned an array of shape {arr.shape}, expected a single number",
            "return a float (e.g. float(x)), not an array",
        )
    v = float(arr)
    if np.isnan(v):
        raise CheckFailed(f"{what} returned NaN", "look for 0/0 or an operation on NaN input")
    return v


def assert_close(got, expected, what: str, *, at=None, rtol: float = 1e-9, atol: float = 1e-12, hint: str = ""):
    """Fail at the first element where ``got`` and ``expected`` differ.

    ``at`` is ``(name, values)`` that labels the elements in the message, e.g.
    ``("k", ks)`` gives "at k=7: expected 0.3, got 0.4".
    """
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    ok = np.isclose(got, expected, rtol=rtol, atol=atol)
    if ok.all():
        return
    if ok.ndim == 0:
        raise CheckFailed(f"{what}: expected {float(expected):.10g}, got {float(got):.10g}", hint)
    idx = tuple(int(i) for i in np.argwhere(~ok)[0])
    label = f"index {idx if len(idx) != 1 else idx[0]}"
    if at is not None:
        name, values = at
        label = f"{name}={_short(np.asarray(values)[idx].item())}"
    raise CheckFailed(
        f"{what}: wrong at {label}: expected {expected[idx]:.10g}, got {got[idx]:.10g} "
        f"({int((~ok).sum())} of {ok.size} values wrong)",
        hint,
    )


def _diagnose(got, candidates: dict[str, np.ndarray], default: str = "") -> str:
    """Return the hint of the first plausible mistake whose values ``got`` matches."""
    got = np.asarray(got, dtype=float)
    for hint, values in candidates.items():
        values = np.asarray(values, dtype=float)
        if values.shape == got.shape and np.allclose(got, values, rtol=1e-9, atol=1e-12):
            return hint
    return default


class Checks:
    """Collect checks for one student function, run them, return a :class:`Report`.

    >>> g = Checks("Part A", my_function)            # doctest: +SKIP
    >>> @g.check("returns floats", hint="...")      # doctest: +SKIP
    ... def _(f):
    ...     ...
    >>> report = g.run()                             # doctest: +SKIP

    A check receives the student's function, calls it through :func:`call` and raises
    :class:`CheckFailed` when something is wrong.  Each check may run for ``time_limit``
    seconds (default: the module's ``TIME_LIMIT``, read when the checks run).  Once a check
    finds the stub untouched (``NotImplementedError``) or times out, the remaining checks
    are skipped.
    """

    def __init__(self, title: str, fn, *, time_limit: float | None = None):
        self.title = title
        self.fn = fn
        self.time_limit = time_limit
        self._checks: list[tuple[str, Callable, str]] = []

    def check(self, name: str, hint: str = ""):
        def register(body: Callable) -> Callable:
            self._checks.append((name, body, hint))
            return body

        return register

    def run(self) -> Report:
        if not callable(self.fn):
            return Report(
                self.title,
                [
                    CheckResult(
                        "a function was given",
                        "error",
                        f"expected a function, got {type(self.fn).__name__} {_short(self.fn)}",
                        "pass the function itself, without calling it: check_xyz(my_function)",
                    )
                ],
            )
        results: list[CheckResult] = []
        todo = stuck = ""
        limit = TIME_LIMIT if self.time_limit is None else self.time_limit
        for name, body, hint in self._checks:
            if todo or stuck:
                why = "waiting for your implementation" if todo else "skipped after the time-out above"
                results.append(CheckResult(name, "skipped", why))
                continue
            try:
                with _time_limit(limit):
                    body(self.fn)
                results.append(CheckResult(name, "pass"))
            except _NotImplementedYet as exc:
                todo = str(exc)
                results.append(
                    CheckResult(
                        name,
                        "todo",
                        f"not implemented yet ({todo})",
                        "replace the `raise NotImplementedError(...)` line with your code, "
                        "run that cell, then run this check again",
                    )
                )
            except CheckFailed as exc:
                results.append(CheckResult(name, "fail", exc.message, exc.hint or hint))
            except GraderTimeout as exc:
                stuck = str(exc)
                results.append(
                    CheckResult(name, "timeout", str(exc), "look for a loop that never ends")
                )
            except Exception as exc:  # the grader could not judge the student's output
                results.append(
                    CheckResult(name, "error", f"{type(exc).__name__}: {exc}", hint)
                )
        return Report(self.title, results)


# ============================================================================ exercise 1
# Build a schedule: linear decay in the sources' convention, WSD, and a bug hunt.


def _ref_linear_decay(k, T, alpha):
    """The reference, through lrnotes.schedules: eta_k = S.linear(T, peak)(k - 1)."""
    from . import schedules as S

    return S.linear(T, peak=alpha * T / (T + 1))(np.asarray(k) - 1)


def check_linear_decay(linear_decay) -> Report:
    r"""Grade ``linear_decay(k, T, alpha)``, which should return
    :math:`\alpha(1 - k/(T+1))` for update indices ``k = 1..T`` (array or int)."""
    g = Checks("Part A: linear decay in the sources' convention", linear_decay)

    def mistakes(k, T, alpha):
        k = np.asarray(k, dtype=float)
        return {
            "you divided by T; the sources divide by T+1, so the last update (k=T) still "
            "has a positive learning rate": alpha * (1 - k / T),
            "off by one: you used k-1 where the formula has k": alpha * (1 - (k - 1) / (T + 1)),
            "you dropped alpha: multiply by it": 1 - k / (T + 1),
            "off by one: the sources use 1 - k/(T+1), not 1 - (k+1)/(T+1)": alpha * (1 - (k + 1) / (T + 1)),
        }

    @g.check("values for T=10, alpha=0.5, k=1..10")
    def _(f):
        k, T, alpha = np.arange(1, 11), 10, 0.5
        got = as_array(call(f, k, T, alpha), k.shape, "linear_decay(k, 10, 0.5)")
        expected = _ref_linear_decay(k, T, alpha)
        assert_close(got, expected, "eta_k", at=("k", k), hint=_diagnose(got, mistakes(k, T, alpha)))

    @g.check("the first and the last update (k=1 and k=T) for several budgets")
    def _(f):
        for T, alpha in [(1, 1.0), (2, 3.0), (100, 0.1), (10_000, 2.0)]:
            k = np.array([1, T])
            got = as_array(call(f, k, T, alpha), (2,), f"linear_decay([1, {T}], {T}, {alpha})")
            expected = _ref_linear_decay(k, T, alpha)
            assert_close(
                got, expected, f"T={T}, alpha={alpha}", at=("k", k),
                hint=_diagnose(got, mistakes(k, T, alpha)),
            )

    @g.check("a plain int k gives one number; a 2-D array keeps its shape")
    def _(f):
        v = as_scalar(call(f, 3, 5, 1.0), "linear_decay(3, 5, 1.0)")
        assert_close(v, 1 - 3 / 6, "linear_decay(3, 5, 1.0)")
        k = np.array([[1, 2, 3], [4, 5, 6]])
        got = as_array(call(f, k, 6, 1.0), k.shape, "linear_decay(<2x3 array>, 6, 1.0)")
        assert_close(got, _ref_linear_decay(k, 6, 1.0), "2-D k", at=("k", k))

    @g.check("agrees with S.linear(T, peak=alpha*T/(T+1)) evaluated at t = k-1, over a long run")
    def _(f):
        T, alpha = 2_000, 0.3
        k = np.arange(1, T + 1)
        got = as_array(call(f, k, T, alpha), k.shape, f"linear_decay(1..{T}, {T}, {alpha})")
        assert_close(got, _ref_linear_decay(k, T, alpha), "eta_k", at=("k", k))
        # The theory's sanity check: the learning rates add up to alpha*T/2.
        if not np.isclose(got.sum(), alpha * T / 2, rtol=1e-9):
            raise CheckFailed(f"sum of eta_k is {got.sum():.6g}, expected alpha*T/2 = {alpha * T / 2:.6g}")

    @g.check(
        "rejects bad input with ValueError (T < 1 or not an int, alpha < 0 or NaN, k outside 1..T)",
        hint="e.g. `if T < 1: raise ValueError(f'T must be an integer >= 1, got {T!r}')`",
    )
    def _(f):
        k = np.arange(1, 4)
        expect_value_error(f, k, 0, 1.0, names=("T",))
        expect_value_error(f, k, 2.5, 1.0, names=("T",))
        expect_value_error(f, k, 5, -1.0, names=("alpha",))
        expect_value_error(f, k, 5, float("nan"), names=("alpha",))
        expect_value_error(f, np.arange(0, 4), 5, 1.0, names=("k",))
        expect_value_error(f, np.arange(1, 8), 5, 1.0, names=("k",))

    return g.run()


def _ref_wsd(t, total, peak, warmup, decay_frac):
    from . import schedules as S

    return S.wsd(total, peak=peak, warmup=warmup, decay_frac=decay_frac)(t)


def check_wsd(wsd) -> Report:
    r"""Grade ``wsd(t, total, peak=1.0, warmup=0, decay_frac=0.1)``: warmup from 0 over
    ``warmup`` steps, stable at ``peak``, then linear to 0 at ``t = total`` starting at
    ``t_d = total*(1 - decay_frac)``; 0 after ``total``.  Must equal
    ``S.wsd(total, peak=peak, warmup=warmup, decay_frac=decay_frac)``."""
    g = Checks("Part B: warmup-stable-decay (WSD)", wsd)

    def compare(f, t, total, peak, warmup, decay_frac, what=None):
        t = np.asarray(t)
        what = what or f"wsd(t, total={total}, peak={peak}, warmup={warmup}, decay_frac={decay_frac})"
        got = as_array(call(f, t, total, peak, warmup, decay_frac), t.shape, what)
        expected = _ref_wsd(t, total, peak, warmup, decay_frac)
        td = total * (1 - decay_frac)
        candidates = {
            "the warmup should start from 0 at t=0 and reach peak at t=warmup: peak*t/warmup":
                np.where(t < warmup, peak * (t + 1) / max(warmup, 1), expected),
            "the cooldown must reach 0 at t=total (not at total-1): peak*(total-t)/(decay_frac*total)":
                np.where(t >= td, peak * np.clip((total - 1 - t) / (total - 1 - td), 0, 1), expected),
            "after t=total the schedule stays at 0; clip it (no negative learning rates)":
                np.where(t > total, peak * (total - t) / (decay_frac * total), expected),
        }
        assert_close(got, expected, what, at=("t", t), hint=_diagnose(got, candidates))
        return got

    @g.check("matches S.wsd on t = 0..total+10 (total=100, peak=2, warmup=10, decay_frac=0.2)")
    def _(f):
        compare(f, np.arange(0, 111), 100, 2.0, 10, 0.2)

    @g.check("phase boundaries: t=0, t=warmup, decay start t_d, the last update t=total-1, t=total")
    def _(f):
        total, peak, W, frac = 1_000, 0.5, 50, 0.25  # t_d = 750
        t = np.array([0, W - 1, W, W + 1, 749, 750, 751, total - 1, total, total + 1])
        got = compare(f, t, total, peak, W, frac)
        if got[0] != 0.0:
            raise CheckFailed(f"wsd(0) = {got[0]}, expected 0 (the warmup starts from zero)")

    @g.check("a non-integer decay start (total=30, decay_frac=0.25, so t_d = 22.5) and fractional t")
    def _(f):
        compare(f, np.linspace(0, 31, 125), 30, 1.0, 3, 0.25)

    @g.check("no warmup (warmup=0) starts at the peak; decay_frac=1 is S.linear(total, peak)")
    def _(f):
        compare(f, np.arange(0, 21), 20, 1.5, 0, 0.5)
        t = np.arange(0, 51)
        got = compare(f, t, 50, 1.5, 0, 1.0)
        from . import schedules as S

        assert_close(got, S.linear(50, peak=1.5)(t), "wsd(..., decay_frac=1) vs S.linear", at=("t", t))

    @g.check("continuous: no jump larger than one step of the warmup or of the cooldown")
    def _(f):
        total, peak, W, frac = 400, 1.0, 40, 0.3
        t = np.arange(0, total + 1)
        got = as_array(call(f, t, total, peak, W, frac), t.shape, "wsd(0..400, 400, 1.0, 40, 0.3)")
        jumps = np.abs(np.diff(got))
        limit = peak * max(1 / W, 1 / (frac * total)) + 1e-12
        if jumps.max() > limit:
            i = int(jumps.argmax())
            raise CheckFailed(
                f"jump of {jumps[i]:.4g} between t={i} and t={i + 1} (allowed: {limit:.4g})",
                "check the boundaries between the phases: each phase should start where the "
                "previous one ended",
            )
        if got.max() > peak + 1e-12 or got.min() < 0:
            raise CheckFailed(f"values must stay in [0, peak]; got range [{got.min():.4g}, {got.max():.4g}]")

    @g.check("a plain int t gives one number; a 2-D t keeps its shape")
    def _(f):
        v = as_scalar(call(f, 95, 100, 1.0, 10, 0.1), "wsd(95, 100, 1.0, 10, 0.1)")
        assert_close(v, 0.5, "wsd(95, 100, 1.0, 10, 0.1)")
        compare(f, np.arange(12).reshape(3, 4), 10, 1.0, 2, 0.5)

    @g.check(
        "rejects bad input with ValueError naming the argument",
        hint="check total (int >= 1), peak (>= 0), warmup (int, 0 <= warmup < total), "
        "decay_frac (in (0, 1]), that the decay fits after the warmup, and t >= 0",
    )
    def _(f):
        t = np.arange(5)
        expect_value_error(f, t, 0, 1.0, 0, 0.1, names=("total",))
        expect_value_error(f, t, 10.5, 1.0, 0, 0.1, names=("total",))
        expect_value_error(f, t, 100, -1.0, 0, 0.1, names=("peak",))
        expect_value_error(f, t, 100, 1.0, -1, 0.1, names=("warmup",))
        expect_value_error(f, t, 100, 1.0, 100, 0.1, names=("warmup",))
        expect_value_error(f, t, 100, 1.0, 0, 0.0, names=("decay_frac",))
        expect_value_error(f, t, 100, 1.0, 0, 1.5, names=("decay_frac",))
        expect_value_error(f, t, 100, 1.0, 50, 0.6, names=("decay_frac", "warmup"))
        expect_value_error(f, np.array([-1, 0, 1]), 100, 1.0, 0, 0.1, names=("t",))

    return g.run()


# The WSD snippet of the source (§6.3), verbatim apart from the name of T.
_SRC_T, _SRC_WARMUP, _SRC_STABLE, _SRC_DECAY = 20_000, 1_000, 17_000, 2_000


def buggy_wsd_schedule(step):
    """The source's WSD schedule (a bug included): LR multiplier for an int ``step``."""
    warmup_steps, stable_steps, decay_steps, T = _SRC_WARMUP, _SRC_STABLE, _SRC_DECAY, _SRC_T
    if step < warmup_steps:
        return step / warmup_steps  # Linear warmup
    elif step < stable_steps:
        return 1.0  # Constant
    else:
        remaining = (T - step) / decay_steps
        return max(0.0, remaining)  # Linear decay


def _ref_largest_jump(schedule, T):
    values = np.array([schedule(t) for t in range(T + 1)], dtype=float)
    d = np.diff(values)
    i = int(np.argmax(np.abs(d)))
    return i + 1, float(d[i])


def check_largest_jump(largest_jump) -> Report:
    """Grade ``largest_jump(schedule, T) -> (t, delta)``: the step ``t`` in ``1..T`` where
    ``delta = schedule(t) - schedule(t - 1)`` is largest in absolute value (the first
    such step on ties), ``schedule`` being a function of one int step."""
    g = Checks("Part C1: find the jump", largest_jump)

    def pair(value, what):
        if value is None:
            raise CheckFailed(f"{what} returned None", "return a pair: `return t, delta`")
        if not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 2:
            raise CheckFailed(f"{what} returned {_short(value)}; expected a pair (t, delta)")
        t = as_scalar(value[0], f"{what}[0] (the step)")
        if t != int(t):
            raise CheckFailed(f"{what}[0] = {t} is not a whole step")
        return int(t), as_scalar(value[1], f"{what}[1] (the jump)")

    def compare(f, schedule, T, what):
        t, delta = pair(call(f, schedule, T), what)
        t_ref, d_ref = _ref_largest_jump(schedule, T)
        if t != t_ref:
            hint = ""
            if t == t_ref - 1:
                hint = "report the step where the new value starts: t with schedule(t) - schedule(t-1)"
            raise CheckFailed(f"{what}: step {t}, expected {t_ref}", hint)
        if not np.isclose(delta, d_ref, rtol=1e-9, atol=1e-12):
            hint = "keep the sign: delta = schedule(t) - schedule(t-1)" if np.isclose(delta, -d_ref) else ""
            raise CheckFailed(f"{what}: jump {delta:.6g}, expected {d_ref:.6g}", hint)

    @g.check("a step function that jumps up by 2 at t=37")
    def _(f):
        compare(f, lambda t: 0.0 if t < 37 else 2.0, 50, "largest_jump(<up at 37>, 50)")

    @g.check("a schedule that jumps down (the sign of delta is kept) and a jump at the very last step")
    def _(f):
        compare(f, lambda t: 1.0 - 0.01 * t - (0.5 if t >= 12 else 0.0), 20, "largest_jump(<down at 12>, 20)")
        compare(f, lambda t: 1.0 if t < 9 else 3.0, 9, "largest_jump(<up at 9>, 9)")

    @g.check("ties: the first of equal jumps")
    def _(f):
        compare(f, lambda t: float(t // 5), 23, "largest_jump(<staircase>, 23)")

    @g.check("finds the bug in the source's WSD snippet")
    def _(f):
        compare(f, buggy_wsd_schedule, _SRC_T, "largest_jump(buggy_wsd_schedule, 20000)")

    return g.run()


def check_fixed_wsd(fixed_wsd_schedule) -> Report:
    """Grade the repaired snippet: same phases as the source intended (1000 warmup steps,
    17000 stable steps, 2000 decay steps, T = 20000), with no jump."""
    from . import schedules as S

    g = Checks("Part C2: the repaired WSD schedule", fixed_wsd_schedule)
    T = _SRC_T
    steps = np.arange(T + 1)

    cache: list[np.ndarray] = []

    def values(f):  # evaluate once, step by step (the source's function takes one int)
        if not cache:
            out = np.empty(T + 1)
            for t in range(T + 1):
                out[t] = as_scalar(call(f, t), f"fixed_wsd_schedule({t})")
            cache.append(out)
        return cache[0]

    @g.check("the largest value is 1 (the peak), not more")
    def _(f):
        v = values(f)
        if abs(v.max() - 1.0) > 1e-12:
            i = int(v.argmax())
            raise CheckFailed(
                f"max is {v.max():.6g} at step {i}",
                "stable_steps is a duration, not the step where the decay starts",
            )

    @g.check("continuous: no jump larger than one warmup step (1/1000)")
    def _(f):
        v = values(f)
        d = np.abs(np.diff(v))
        if d.max() > 1 / _SRC_WARMUP + 1e-12:
            i = int(d.argmax())
            raise CheckFailed(f"jump of {d[i]:.4g} between step {i} and step {i + 1}")

    @g.check("phases: warmup over steps 0..1000, stable for 17000 steps, decay to 0 at step 20000")
    def _(f):
        v = values(f)
        n_stable = int(np.sum(np.abs(v - 1.0) < 1e-12))
        # Value 1 at t = 1000..18000 inclusive: 17000 steps of the stable phase plus the first of the decay.
        if n_stable != _SRC_STABLE + 1:
            raise CheckFailed(f"the schedule equals 1 at {n_stable} steps, expected {_SRC_STABLE + 1} (t = 1000..18000)")
        if v[-1] != 0.0:
            raise CheckFailed(f"the value at step T=20000 is {v[-1]:.4g}, expected 0")

    @g.check("equals S.wsd(20000, warmup=1000, decay_frac=0.1) at every step 0..20000")
    def _(f):
        v = values(f)
        assert_close(v, S.wsd(T, warmup=_SRC_WARMUP, decay_frac=_SRC_DECAY / T)(steps), "fixed_wsd_schedule", at=("step", steps))

    return g.run()


# ============================================================================ exercise 2
# The critical learning rate 2/L of gradient descent on a quadratic.


def _random_spd(rng: np.random.Generator, d: int, cond: float, top: float = 1.0) -> np.ndarray:
    """A symmetric positive definite matrix with largest eigenvalue ``top`` and condition
    number ``cond`` (eigenvalues log-spaced), in a random orthonormal basis."""
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eig = top * np.logspace(-np.log10(cond), 0, d) if d > 1 else np.array([top])
    h = (q * eig) @ q.T
    return (h + h.T) / 2


def _ref_final_norms(H, etas, x0, n_steps):
    H, etas, x = np.asarray(H, float), np.asarray(etas, float), np.asarray(x0, float)
    X = np.broadcast_to(x, (etas.size, x.size)).copy()
    for _ in range(n_steps):
        X -= etas[:, None] * (X @ H)  # H is symmetric
    return np.linalg.norm(X, axis=1)


def _ref_threshold(H, etas, x0, n_steps):
    norms = _ref_final_norms(H, etas, x0, n_steps)
    above = np.flatnonzero(norms > np.linalg.norm(x0))
    return float(etas[above[0]]) if above.size else np.inf


def check_critical_lr(critical_lr) -> Report:
    """Grade ``critical_lr(H)``: ``2 / L`` with ``L`` the largest eigenvalue of the
    symmetric positive definite matrix ``H``; ``ValueError`` for anything else."""
    g = Checks("Part A: the critical learning rate 2/L", critical_lr)

    def compare(f, H, what, rtol=1e-8):
        got = as_scalar(call(f, H), what)
        eig = np.linalg.eigvalsh(H)
        expected = 2.0 / eig[-1]
        if not np.isclose(got, expected, rtol=rtol, atol=0):
            hint = _diagnose(
                np.array(got),
                {
                    "you used the diagonal of H; it holds the eigenvalues only when H is diagonal":
                        np.array(2.0 / np.max(np.diag(H))),
                    "you used the smallest eigenvalue; divergence is set by the largest (steepest) one":
                        np.array(2.0 / eig[0]),
                    "the threshold is 2/L, not 1/L": np.array(1.0 / eig[-1]),
                    "the Frobenius norm only bounds L from above; compute the eigenvalues":
                        np.array(2.0 / np.linalg.norm(H)),
                    "you returned L itself; the learning rate is 2/L": np.array(eig[-1]),
                },
                "np.linalg.eigvalsh returns the eigenvalues of a symmetric matrix in ascending order",
            )
            raise CheckFailed(f"{what} = {got:.10g}, expected 2/L = {expected:.10g}", hint)

    @g.check("1x1 and diagonal matrices")
    def _(f):
        compare(f, np.array([[4.0]]), "critical_lr([[4]])")
        compare(f, np.diag([1.0, 10.0, 3.0]), "critical_lr(diag(1, 10, 3))")

    @g.check("a rotated (non-diagonal) matrix")
    def _(f):
        c, s = np.cos(0.6), np.sin(0.6)
        R = np.array([[c, -s], [s, c]])
        compare(f, R @ np.diag([1.0, 9.0]) @ R.T, "critical_lr(R diag(1, 9) R^T)")

    @g.check("random SPD matrices, d = 2..40")
    def _(f):
        rng = np.random.default_rng(12)
        for d in (2, 5, 13, 40):
            H = _random_spd(rng, d, cond=10.0 ** rng.uniform(0, 3), top=10.0 ** rng.uniform(-2, 3))
            compare(f, H, f"critical_lr(<random SPD {d}x{d}>)")

    @g.check("ill-conditioned SPD matrices (condition number up to 1e8)")
    def _(f):
        rng = np.random.default_rng(34)
        for cond in (1e4, 1e6, 1e8):
            compare(f, _random_spd(rng, 20, cond, top=50.0), f"critical_lr(<20x20, cond {cond:.0e}>)", rtol=1e-6)

    @g.check("a plain nested list works, and H is not modified")
    def _(f):
        compare(f, [[2.0, 1.0], [1.0, 2.0]], "critical_lr([[2, 1], [1, 2]])")
        H = np.array([[3.0, 1.0], [1.0, 2.0]])
        call(f, H, copy_args=False)
        if not np.array_equal(H, [[3.0, 1.0], [1.0, 2.0]]):
            raise CheckFailed("critical_lr changed its input H", "work on a copy, or don't write into H")

    @g.check(
        "rejects bad H with ValueError: not square, not symmetric, not positive definite, NaN",
        hint="np.ndim / H.shape for squareness, np.allclose(H, H.T) for symmetry, "
        "the smallest eigenvalue > 0 for positive definiteness",
    )
    def _(f):
        expect_value_error(f, np.ones((2, 3)), names=("H",))
        expect_value_error(f, np.ones(3), names=("H",))
        expect_value_error(f, np.array([[1.0, 2.0], [0.0, 1.0]]), names=("H",))
        expect_value_error(f, np.diag([1.0, -1.0]), names=("H",))
        expect_value_error(f, np.array([[1.0, np.nan], [np.nan, 1.0]]), names=("H",))

    return g.run()


def check_final_norms(final_norms) -> Report:
    r"""Grade ``final_norms(H, etas, x0, n_steps)``: for each learning rate in ``etas``,
    run ``n_steps`` of gradient descent :math:`x \leftarrow x - \eta H x` from ``x0`` on
    :math:`f(x) = \tfrac12 x^\top H x`, return :math:`\|x_n\|` (shape ``(len(etas),)``)."""
    g = Checks("Part B1: gradient descent on a grid of learning rates", final_norms)

    def compare(f, H, etas, x0, n, what, rtol=1e-8):
        etas = np.asarray(etas, dtype=float)
        got = as_array(call(f, H, etas, x0, n), etas.shape, what)
        expected = _ref_final_norms(H, etas, x0, n)
        hint = _diagnose(
            got,
            {
                "you returned the squared norm; return np.linalg.norm(x)": expected**2,
                "you ran one step too few": _ref_final_norms(H, etas, x0, max(n - 1, 0)),
                "you ran one step too many": _ref_final_norms(H, etas, x0, n + 1),
            },
            "the update is x <- x - eta * (H @ x), once per step, for each eta separately",
        )
        assert_close(got, expected, what, at=("eta", etas), rtol=rtol, hint=hint)

    @g.check("one dimension, H = [[2]]: |1 - 2 eta|^n")
    def _(f):
        etas = np.array([0.1, 0.5, 0.9, 1.2])
        compare(f, np.array([[2.0]]), etas, np.array([1.0]), 3, "final_norms([[2]], etas, [1], 3)")

    @g.check("n_steps = 0 returns |x0| for every eta")
    def _(f):
        compare(f, np.eye(3), np.array([0.1, 1.0, 5.0]), np.array([3.0, 0.0, 4.0]), 0, "final_norms(I, etas, x0, 0)")

    @g.check("random SPD matrices, a grid of 50 learning rates on both sides of 2/L")
    def _(f):
        rng = np.random.default_rng(5)
        for d, cond in [(2, 3.0), (8, 1e2), (25, 1e5)]:
            H = _random_spd(rng, d, cond, top=10.0 ** rng.uniform(-1, 2))
            L = np.linalg.eigvalsh(H)[-1]
            etas = np.linspace(0.05, 1.4, 50) * 2 / L
            compare(f, H, etas, rng.standard_normal(d), 60, f"final_norms(<{d}x{d}>, <50 etas>, x0, 60)", rtol=1e-7)

    @g.check("a single learning rate still gives an array of shape (1,)")
    def _(f):
        compare(f, np.diag([1.0, 3.0]), np.array([0.5]), np.array([1.0, 1.0]), 10, "final_norms(diag(1, 3), [0.5], x0, 10)")

    return g.run()


def check_empirical_threshold(empirical_threshold) -> Report:
    """Grade ``empirical_threshold(H, etas, x0, n_steps)``: the smallest ``eta`` of the
    ascending grid ``etas`` for which ``|x_n| > |x0|`` after ``n_steps`` of gradient
    descent (``np.inf`` if none), which should sit just above ``2/L``."""
    g = Checks("Part B2: the divergence threshold, measured", empirical_threshold)

    def compare(f, H, etas, x0, n, what, tol=0.03):
        got = as_scalar(call(f, H, etas, x0, n), what)
        expected = _ref_threshold(H, etas, x0, n)
        if np.isinf(expected):
            if not np.isinf(got):
                raise CheckFailed(f"{what} = {got:.6g}, expected inf: no eta of this grid diverges",
                                  "return np.inf when no learning rate of the grid diverges")
            return
        if not np.any(np.isclose(got, etas, rtol=1e-12, atol=0)):
            raise CheckFailed(f"{what} = {got:.6g} is not one of the grid's learning rates",
                              "return the first eta of the grid whose run diverged")
        i = int(np.argmin(np.abs(etas - got)))
        ratio = _ref_final_norms(H, etas[i : i + 1], x0, n)[0] / np.linalg.norm(x0)
        if got != expected and abs(ratio - 1) > 1e-9:  # slack only for a run that ends at |x0|
            hint = "compare |x_n| with |x0| (not with 0, and not |x_n| > some big number)"
            if got < expected:
                hint = "this eta did not diverge: |x_n| must end above |x0|"
            raise CheckFailed(f"{what} = {got:.6g}, expected {expected:.6g}", hint)
        L = np.linalg.eigvalsh(np.asarray(H, float))[-1]
        if not (2 / L * (1 - 1e-9) <= got <= 2 / L * (1 + tol) + (etas[1] - etas[0])):
            raise CheckFailed(f"{what} = {got:.6g} is not just above 2/L = {2 / L:.6g}")

    @g.check("H = diag(1, 4): the threshold is just above 2/L = 0.5")
    def _(f):
        compare(f, np.diag([1.0, 4.0]), np.round(np.linspace(0.1, 1.0, 91), 12), np.array([1.0, 1.0]), 200,
                "empirical_threshold(diag(1, 4), 0.10..1.00, [1, 1], 200)")

    @g.check("random SPD matrices, from well- to ill-conditioned (cond up to 1e6)")
    def _(f):
        rng = np.random.default_rng(8)
        for d, cond in [(3, 1.0), (10, 1e2), (30, 1e4), (30, 1e6)]:
            H = _random_spd(rng, d, cond, top=10.0 ** rng.uniform(-1, 2))
            L = np.linalg.eigvalsh(H)[-1]
            etas = np.linspace(0.5, 1.5, 201) * 2 / L
            compare(f, H, etas, rng.standard_normal(d), 300, f"empirical_threshold(<{d}x{d}, cond {cond:.0e}>, ...)")

    @g.check("a grid entirely below 2/L returns inf; a grid entirely above returns its first eta")
    def _(f):
        H, x0 = np.diag([0.5, 2.0]), np.array([1.0, -1.0])
        compare(f, H, np.linspace(0.1, 0.9, 9), x0, 100, "empirical_threshold(diag(0.5, 2), 0.1..0.9, x0, 100)")
        compare(f, H, np.linspace(1.2, 2.0, 5), x0, 100, "empirical_threshold(diag(0.5, 2), 1.2..2.0, x0, 100)")

    return g.run()
