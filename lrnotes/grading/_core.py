"""The grader's machinery: results and reports, checks, and calling student code safely.

A check cell calls one ``check_*`` function of an exercise module, which builds a
:class:`Checks` for the student's function, registers its checks and returns
``Checks.run()``, a :class:`Report`.  ``run`` executes the checks in an isolated worker
(:mod:`._isolation`) with a time limit per check, and turns whatever happens into a
:class:`CheckResult`: a pass, a failure with a hint, a *todo* (the stub still raises
``NotImplementedError``), a time-out (with "too slow" or "never returned" and the line
it was running), or an *error* when the grader itself could not judge.

Inside a check, student code is only ever called through :func:`call` (or
:func:`call_each`, :func:`expect_value_error`, :func:`rejects`, or a function the
student's code returned), and its results only read through the converters
(:func:`as_array`, :func:`as_scalar`, :func:`as_int`, :func:`as_pair`), which turn any
exception, odd type, NaN or huge message into a :class:`CheckFailed` with a short text.

*Record and replay.*  The verdict is computed where the student's code never ran.  In the
worker, every student call's outcome is turned at once into plain data (:mod:`._plain`:
numbers, arrays, strings, Fractions, sympy expressions as ``srepr`` text, exceptions as
name, built-in base and message), and the check goes on with the value rebuilt from that
data; the worker sends only these recorded outcomes (with a fingerprint of each call's
arguments), never a verdict.  The session then runs each check body again with a stand-in
for the student's function that returns the recorded outcomes in order, and judges.  A
replay that asks for a call the worker did not record, or with other arguments, is an
*error* ("the grader could not judge"), never a pass.  What the student's call changed in
an argument the check did not copy (an array's contents, a grader object's counters such
as ``CountingHVP.calls``) is recorded and replayed too.

The grader's own numbers must not depend on the student's session: the worker restores
the ``__dict__`` of the modules the grader computes with (numpy, math, builtins,
lrnotes, ...) as they were when the grader was imported, before the checks and after
every student call, and the session's replay runs with those attributes put back for
its duration (the session's own are restored afterwards), under its own NumPy error state.
"""

from __future__ import annotations

import contextlib
import copy
import html
import importlib
import math
import os
import re
import secrets
import sys
import threading
import warnings
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Sequence

import numpy as np

from . import _isolation as iso
from . import _plain as plain

__all__ = [
    "STATUSES", "CheckResult", "Report", "CheckFailed", "Checks", "Case",
    "call", "call_each", "try_it", "safe_str", "short", "as_array", "as_scalar", "as_int",
    "as_pair", "assert_close", "scalar_close", "expect_value_error", "diagnose", "compare", "rejects", "reproducible",
    "default_time_limit", "new_seed",
]

STATUSES = {
    # status: (plain-text tag, icon, colour)
    "pass": ("PASS", "\u2705", "#1a7f37"),
    "fail": ("FAIL", "\u274c", "#cf222e"),
    "error": ("ERROR", "\U0001f4a5", "#cf222e"),
    "todo": ("TODO", "\u270f\ufe0f", "#9a6700"),
    "timeout": ("TIMEOUT", "\u23f1\ufe0f", "#cf222e"),
    "skipped": ("SKIP", "\u2014", "#6e7781"),
}
_LIMITS = {"name": 300, "message": 1_500, "hint": 600, "output": 1_200}
ENV_TIME_LIMIT = "LRNOTES_GRADER_TIME_LIMIT"
ENV_SEED = "LRNOTES_GRADER_SEED"


def default_time_limit() -> float:
    """Seconds one check may run: ``$LRNOTES_GRADER_TIME_LIMIT`` or 10."""
    try:
        value = float(os.environ.get(ENV_TIME_LIMIT, "10"))
    except ValueError:
        value = 10.0
    return value if math.isfinite(value) and value > 0 else 10.0


def new_seed() -> int:
    """A fresh seed for the random probes (``$LRNOTES_GRADER_SEED`` fixes it)."""
    fixed = os.environ.get(ENV_SEED, "").strip()
    return int(fixed) if fixed.isdigit() else secrets.randbelow(1_000_000)


# ============================================================================ text
def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f" ... ({len(text) - limit:,} more characters)"


def safe_str(obj, limit: int = 300, *, use_repr: bool = False) -> str:
    """``str(obj)`` (or ``repr``), clipped; never raises, whatever ``obj`` does."""
    try:
        text = repr(obj) if use_repr else str(obj)
        if not isinstance(text, str):
            raise TypeError
    except BaseException:  # noqa: BLE001 - a student's __str__/__repr__ may raise anything
        text = f"<{_type_name(obj)} whose {'repr' if use_repr else 'str'}() failed>"
    return clip(" ".join(text.split()) if "\n" in text else text, limit)


def _type_name(obj) -> str:
    if isinstance(obj, plain.Opaque):
        return obj.type_name
    try:
        return str(type(obj).__name__)
    except BaseException:  # noqa: BLE001
        return "object"


def short(value) -> str:
    """A short description of an argument or a result, for messages."""
    if isinstance(value, np.ndarray):
        if value.size <= 4:
            with np.printoptions(precision=4, legacy=False):
                return " ".join(np.array2string(value, separator=", ").split())
        return f"<array of shape {value.shape}>"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return f"{v:.1f}" if v.is_integer() and abs(v) < 1e15 else f"{v:.6g}"
    if isinstance(value, (bool, int, np.integer, str, type(None))):
        return safe_str(value, 40, use_repr=True)
    if callable(value):
        return getattr(value, "__name__", None) or _type_name(value)
    return safe_str(value, 40, use_repr=True)


def _fn_name(fn) -> str:
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) and name.isidentifier() else "your function"


def describe(fn, args, kwargs) -> str:
    shown = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in kwargs.items()]
    return f"{_fn_name(fn)}({', '.join(shown)})"


# ============================================================================ results
@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``status`` is one of ``pass``, ``fail``, ``error`` (the
    grader met something it could not judge), ``todo`` (the stub still raises
    ``NotImplementedError``), ``timeout`` or ``skipped``; ``output`` is what the
    student's code printed during the check (clipped)."""

    name: str
    status: str
    message: str = ""
    hint: str = ""
    output: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            object.__setattr__(self, "status", "error")
        for key, limit in _LIMITS.items():
            value = getattr(self, key)
            object.__setattr__(self, key, clip(value if isinstance(value, str) else safe_str(value), limit))

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @classmethod
    def from_event(cls, event: dict, name: str) -> "CheckResult":
        """Rebuild a result from the worker's JSON event (only plain strings are read)."""
        text = {k: event.get(k) if isinstance(event.get(k), str) else "" for k in ("status", "message", "hint", "output")}
        return cls(name, text["status"] or "error", text["message"], text["hint"], text["output"])


class Report:
    """What a grader found: ``.passed``, ``.results`` (a list of :class:`CheckResult`),
    ``.n_passed``, ``.n_total`` and the ``seed`` of its random probes.  Shows as a table
    in Jupyter, as text elsewhere."""

    def __init__(self, title: str, results: Sequence[CheckResult], seed: int | None = None):
        self.title = title
        self.results = list(results)
        self.seed = seed

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

    def _show_hint(self, r: CheckResult) -> bool:
        return bool(r.hint) and not r.passed and r.status != "skipped"

    @property
    def seed_note(self) -> str:
        """How to repeat the random cases, when one of them failed."""
        if self.seed is None or not any("[random probe" in r.message for r in self.failed):
            return ""
        return (f"Random cases used seed {self.seed}: add seed={self.seed} to this check's call "
                "to repeat exactly them.")

    def __str__(self) -> str:
        lines = [self.summary]
        for r in self.results:
            text = f"  [{STATUSES[r.status][0]}] {r.name}"
            lines.append(text + (f": {r.message}" if r.message else ""))
            if self._show_hint(r):
                lines.append(f"         hint: {r.hint}")
            if r.output:
                lines.append("         your code printed: " + r.output.replace("\n", "\n         | "))
        if self.seed_note:
            lines.append(self.seed_note)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = STATUSES["pass" if self.passed else "fail"][2]
        rows = []
        for r in self.results:
            _, icon, c = STATUSES[r.status]
            detail = html.escape(r.message)
            if self._show_hint(r):
                detail += f'<br><i style="color:#57606a">Hint: {html.escape(r.hint)}</i>'
            if r.output:
                detail += ('<br><span style="color:#57606a">Your code printed:</span>'
                           f'<pre style="margin:0;max-height:8em;overflow:auto">{html.escape(r.output)}</pre>')
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
            + "</tbody></table>"
            + (f'<p style="color:#57606a">{html.escape(self.seed_note)}</p>' if self.seed_note else "")
            + "</div>"
        )


# ============================================================================ failures
class CheckFailed(Exception):
    """Raised inside a check to fail it with a message and an optional hint."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint


class NotImplementedYet(Exception):
    """The student's stub still raises ``NotImplementedError``."""


# ============================================================================ the grader's own maths
#: Modules whose attributes the grader's reference maths uses; the worker restores their
#: ``__dict__`` to what it was when the grader was imported (see :func:`snapshot`).  The
#: cheap ones are imported for that purpose (NumPy loads ``numpy.random`` lazily).
GUARDED = ("builtins", "math", "cmath", "fractions", "numpy", "numpy.linalg", "numpy.random",
           "lrnotes", "lrnotes.schedules", "lrnotes.theory", "lrnotes.sim.sgd", "lrnotes.snippets")
#: Guarded too when they are imported (not imported just for that: they are slow).
GUARDED_IF_PRESENT = ("lrnotes.theory.variational", "sympy", "scipy.optimize", "scipy.stats", "torch")
_SNAPSHOT: dict[str, tuple[object, dict]] = {}
_STATE = {"isolated": False}  # a mutable container survives restore() of this module's dict


def snapshot(*names: str) -> None:
    """Remember the current attributes of the guarded modules (and of ``names``) that are
    not yet remembered.  Called when the grader is imported, before any student code
    runs, and by ``Checks(preload=...)`` for modules imported later."""
    for name in GUARDED:
        importlib.import_module(name)
    wanted = GUARDED + GUARDED_IF_PRESENT + names + tuple(m for m in sys.modules if m.startswith("lrnotes.grading"))
    for name in wanted:
        module = sys.modules.get(name)
        if module is not None and name not in _SNAPSHOT:
            _SNAPSHOT[name] = (module, dict(vars(module)))


def enter_worker() -> None:
    """In the forked worker, before any check: from now on :func:`restore` acts."""
    _STATE["isolated"] = True
    restore()


def restore() -> None:
    """Undo what student code did to the guarded modules and to NumPy's settings.

    Only in the worker process (``fork`` or ``spawn``): in the notebook's own process (the ``thread`` and
    ``inline`` runners) the student's session is left as it is.
    """
    if not _STATE["isolated"]:
        return
    for module, saved in _SNAPSHOT.values():
        try:
            vars(module).update(saved)
        except Exception:  # noqa: BLE001 - a module replaced by something odd
            pass
    np.seterr(all="ignore")
    warnings.resetwarnings()
    warnings.simplefilter("ignore")


# ============================================================================ calling student code
def _invoke(fn: Callable, args: tuple, kwargs: dict):
    """Run student code: ``(True, value)`` or ``(False, exception)``; ``NotImplementedError``
    becomes :class:`NotImplementedYet`.  Counts the call for the time-out message."""
    iso.COUNTERS.started()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return True, fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotImplementedYet(safe_str(exc, 200) or "NotImplementedError") from None
    except iso.GraderStop:
        raise
    except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt, SystemExit, GeneratorExit, ...
        return False, exc
    finally:
        iso.COUNTERS.finished()


class GraderCouldNotJudge(Exception):
    """The session's replay of a check asked for a student call the worker did not record
    (or the record is not one the grader wrote): never a pass."""


class _Tape:
    """The outcomes of student calls during one check, as plain data: recorded in the
    worker, replayed in the session (see :class:`Checks`)."""

    def __init__(self, outcomes: list | None = None):
        self.replay = outcomes is not None
        self.outcomes = [] if outcomes is None else outcomes
        self.pos = 0

    def next(self, fp: int) -> dict:
        if self.pos >= len(self.outcomes):
            raise GraderCouldNotJudge("the check asked for a call of your function that the worker did not make")
        rec = self.outcomes[self.pos]
        self.pos += 1
        if not isinstance(rec, dict) or rec.get("fp") != fp:
            raise GraderCouldNotJudge("the worker's record of a call does not match the call the check makes")
        return rec


_LOCAL = threading.local()  # .tape: the current _Tape; .handles: functions the student returned


def _tape() -> _Tape | None:
    return getattr(_LOCAL, "tape", None)


def _fp_text(x, depth: int = 0) -> str:
    """A cheap, process-independent description of an argument (for :func:`_fingerprint`)."""
    if depth > 6:
        return "..."
    if x is None or isinstance(x, (bool, int, float, complex, str, Fraction)):
        return f"{type(x).__name__}:{x!r}"[:200]
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biufc":
            return f"array:{x.dtype.str}:{x.shape}"
        crc = zlib.crc32(np.ascontiguousarray(x).view(np.uint8).reshape(-1))
        return f"array:{x.dtype.str}:{x.shape}:{crc}"
    if isinstance(x, np.generic):
        return f"{x.dtype.str}:{x!r}"[:200]
    if isinstance(x, (tuple, list)):
        if len(x) > 64:
            joined = "|".join(_fp_text(v, depth + 1) for v in x)
            return f"{type(x).__name__}[{len(x)}]:{zlib.crc32(joined.encode('utf-8', 'replace'))}"
        return f"{type(x).__name__}(" + ",".join(_fp_text(v, depth + 1) for v in x) + ")"
    if isinstance(x, dict):
        return "dict(" + ",".join(f"{k!r}={_fp_text(v, depth + 1)}" for k, v in x.items()) + ")"
    if isinstance(x, range):
        return repr(x)
    if isinstance(x, plain.Returned):
        return f"returned#{x.handle}"
    module = getattr(type(x), "__module__", "") or ""
    if module.split(".")[0] in ("sympy", "torch") or "sympy" in getattr(type(type(x)), "__module__", ""):
        return f"{type(x).__name__}:{safe_str(x, 300)}"
    return getattr(x, "__qualname__", None) or type(x).__qualname__


def _fingerprint(fn, args: tuple, kwargs: dict) -> int:
    text = _fp_text(fn if isinstance(fn, plain.Returned) else None) + _fp_text(tuple(args)) + _fp_text(kwargs)
    return zlib.crc32(text.encode("utf-8", "replace"))


def _plain_outcome(value) -> tuple[list, object]:
    """Encode a student's value, and rebuild it (what the check goes on with)."""
    enc = plain.encode(value, getattr(_LOCAL, "handles", None))
    try:
        return enc, plain.decode(enc)
    except plain.Unreadable:  # e.g. a sympy expression of a class the grader does not know
        enc = plain._opaque(value)
        return enc, plain.decode(enc)


def _student(fn: Callable, args: tuple, kwargs: dict, *, copy_args: bool = True, _restore: bool = True):
    """One call of student code: ``(True, value)`` or ``(False, exception)``, both as plain
    data rebuilt by the grader.  In the worker the call runs and its outcome is recorded;
    in the session (replay) the recorded outcome is read back instead."""
    tape = _tape()
    if tape is None:  # outside a check
        try:
            return _invoke(fn, copy.deepcopy(args) if copy_args else args,
                           copy.deepcopy(kwargs) if copy_args else kwargs)
        finally:
            if _restore:
                restore()
    fp = _fingerprint(fn, args, kwargs)
    if tape.replay:
        rec = tape.next(fp)
        if "todo" in rec:
            raise NotImplementedYet(rec["todo"] if isinstance(rec["todo"], str) else "NotImplementedError")
        ok = rec.get("ok") is True
        try:
            value = plain.decode(rec.get("v"))
        except plain.Unreadable:
            raise GraderCouldNotJudge("the worker sent a result the grader cannot read") from None
        if not ok and not isinstance(value, BaseException):
            raise GraderCouldNotJudge("the worker's record of an exception is malformed")
        if not copy_args:
            _apply_mutations(args, rec.get("args"))
        return ok, value
    real = fn
    if isinstance(fn, plain.Returned):
        real = getattr(_LOCAL, "handles", {}).get(fn.handle)
        if real is None:
            raise GraderCouldNotJudge("a function your code returned is not known to the worker")
    call_args = (copy.deepcopy(args), copy.deepcopy(kwargs)) if copy_args else (args, kwargs)
    try:
        ok, value = _invoke(real, *call_args)
    except NotImplementedYet as exc:
        tape.outcomes.append({"fp": fp, "todo": str(exc)})
        raise
    finally:
        if _restore:
            restore()
    enc, value = _plain_outcome(value) if ok else (plain.encode_exc(value), None)
    if not ok:
        value = plain.decode(enc)
    rec = {"fp": fp, "ok": ok, "v": enc}
    if not copy_args:  # the check looks at the arguments afterwards: record what they became
        rec["args"] = [_arg_state(a) for a in args]
    tape.outcomes.append(rec)
    return ok, value


def _owner(a):
    """What a student call may change in an uncopied argument: an array's contents, or the
    counters (plain numbers) of a grader object, e.g. ``CountingHVP.calls``, also when it
    is passed as a bound method."""
    if isinstance(a, np.ndarray):
        return a
    owner = getattr(a, "__self__", a) if callable(a) else a
    if isinstance(owner, (type, type(np))) or not hasattr(owner, "__dict__"):
        return None
    return owner


def _arg_state(a):
    owner = _owner(a)
    if owner is None:
        return None
    if isinstance(owner, np.ndarray):
        return plain.encode(owner)
    try:
        return ["attrs", [[k, plain.encode(v)] for k, v in vars(owner).items()
                          if isinstance(k, str) and type(v) in (int, float, bool)]]
    except Exception:  # noqa: BLE001
        return None


def _apply_mutations(args: tuple, recorded) -> None:
    """Replay what the student's call changed in the (uncopied) arguments."""
    bad = GraderCouldNotJudge("the worker's record of the arguments is malformed")
    if not isinstance(recorded, list) or len(recorded) != len(args):
        raise bad
    for a, enc in zip(args, recorded):
        owner = _owner(a)
        if owner is None:
            continue
        try:
            if isinstance(owner, np.ndarray):
                new = plain.decode(enc)
                if not isinstance(new, np.ndarray) or new.shape != owner.shape or new.dtype != owner.dtype:
                    raise bad
                np.copyto(owner, new)
                continue
            if not (isinstance(enc, list) and len(enc) == 2 and enc[0] == "attrs" and isinstance(enc[1], list)):
                raise bad
            for pair in enc[1]:
                k, v = pair[0], plain.decode(pair[1])
                old = vars(owner).get(k) if isinstance(k, str) else None
                if old is not None and type(old) is type(v):
                    setattr(owner, k, v)
        except (plain.Unreadable, TypeError, IndexError, ValueError):
            raise bad from None


def call(fn: Callable, *args, copy_args: bool = True, _restore: bool = True, **kwargs):
    """Call student code and return its result, as plain data (:mod:`._plain`).

    Copies the arguments (unless ``copy_args=False``); turns ``NotImplementedError`` into
    a *todo* and every other exception (``KeyboardInterrupt``, ``SystemExit``,
    ``GeneratorExit`` included) into :class:`CheckFailed`; then restores the grader's
    modules, so that nothing the function patched reaches the reference maths.
    """
    where = describe(fn, args, kwargs)
    ok, value = _student(fn, args, kwargs, copy_args=copy_args, _restore=_restore)
    if not ok:
        raise CheckFailed(f"{where} raised {_type_name(value)}: {safe_str(value, 400)}", _exception_hint(value))
    return value


def call_each(fn: Callable, items: Sequence, what: Callable[[object], str] | None = None) -> list:
    """``[call(fn, x) for x in items]`` for a scalar function called very many times
    (arguments are not copied; the grader's modules are restored once, at the end; the
    results are recorded as one outcome)."""
    tape = _tape()
    items = list(items)
    if tape is None:
        try:
            return [call(fn, x, copy_args=False, _restore=False) for x in items]
        finally:
            restore()
    fp = _fingerprint(fn, (items,), {})
    if tape.replay:
        rec = tape.next(fp)
        if "todo" in rec:
            raise NotImplementedYet(rec["todo"] if isinstance(rec["todo"], str) else "NotImplementedError")
        try:
            values = plain.decode(rec.get("v"))
            failure = plain.decode(rec["fail"]) if rec.get("fail") is not None else None
        except (plain.Unreadable, KeyError):
            raise GraderCouldNotJudge("the worker sent a result the grader cannot read") from None
        if not isinstance(values, list) or len(values) > len(items) or \
                (failure is not None and (not isinstance(failure, BaseException) or len(values) >= len(items))):
            raise GraderCouldNotJudge("the worker's record of the calls is malformed")
    else:
        raw, failure = [], None
        try:
            for x in items:
                ok, value = _invoke(fn, (x,), {})
                if not ok:
                    failure = value
                    break
                raw.append(value)
        except NotImplementedYet as exc:
            tape.outcomes.append({"fp": fp, "todo": str(exc)})
            raise
        finally:
            restore()
        enc, values = _plain_outcome(raw)
        if not isinstance(values, list):  # one unreadable item: read them one by one
            pairs = [_plain_outcome(v) for v in raw]
            enc, values = ["l", [e for e, _ in pairs]], [v for _, v in pairs]
        fail_enc = plain.encode_exc(failure) if failure is not None else None
        failure = plain.decode(fail_enc) if fail_enc is not None else None
        tape.outcomes.append({"fp": fp, "v": enc, "fail": fail_enc})
    if failure is not None:
        where = describe(fn, (items[len(values)],), {})
        raise CheckFailed(f"{where} raised {_type_name(failure)}: {safe_str(failure, 400)}", _exception_hint(failure))
    return values


def _exception_hint(exc: BaseException) -> str:
    text = safe_str(exc, 400)
    if "truth value of an array" in text:
        return ("an `if` on a NumPy array is ambiguous: use np.where / np.clip / np.minimum for "
                "arrays, or call a scalar-only function one step at a time")
    if isinstance(exc, (KeyboardInterrupt, GeneratorExit, SystemExit)):
        return "a function should return a value (or raise an ordinary exception), not stop the program"
    if isinstance(exc, RecursionError):
        return "a recursion that never reaches its base case"
    return ""


# ============================================================================ reading results
def _numbers(value, what: str, *, complex_hint: str = "") -> tuple[np.ndarray, object]:
    """A student's result as a float array (and its original dtype), or a clear failure."""
    if value is None:
        raise CheckFailed(f"{what} returned None", "did you forget the `return` statement?")
    if isinstance(value, plain.Opaque):
        raise CheckFailed(f"{what} returned {value.type_name} {clip(value.text, 60)}, not a number "
                          "(an object the grader cannot read: return numbers or a NumPy array)")
    if isinstance(value, (str, bytes, dict, set)) or callable(value):
        raise CheckFailed(f"{what} returned {_type_name(value)} {short(value)}, not a number")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = np.asarray(value)
            dtype = raw.dtype
            if np.iscomplexobj(raw):
                raise CheckFailed(f"{what} returned complex numbers ({short(raw)}), not real ones",
                                  complex_hint or "return real numbers")
            arr = np.array(raw, dtype=float, copy=True)
    except CheckFailed:
        raise
    except BaseException:  # noqa: BLE001 - anything a strange object does on conversion
        raise CheckFailed(f"{what} returned {_type_name(value)} {short(value)}, not a number "
                          "(or an array of numbers)") from None
    return arr, dtype


def _nonfinite(arr: np.ndarray, what: str, index_text: str = "") -> CheckFailed:
    bad = arr[~np.isfinite(arr)].flat[0]
    if np.isnan(bad):
        return CheckFailed(f"{what} returned NaN{index_text}",
                           "NaN comes from 0/0, inf - inf, 0 * inf or an operation on NaN input")
    return CheckFailed(f"{what} returned {bad}{index_text}", "look for a division by zero or an overflow")


def as_array(value, shape: Sequence[int] | None, what: str, *, finite: bool = True) -> np.ndarray:
    """A student's result as a float array of the given shape (any shape for ``None``),
    or a clear failure."""
    arr, _ = _numbers(value, what)
    if shape is not None and arr.shape != tuple(shape):
        raise CheckFailed(
            f"{what} returned shape {arr.shape}, expected {tuple(shape)}",
            f"the task asks for shape {tuple(shape)}: check which axis you sum or loop over, "
            "and that nothing extra is appended",
        )
    if finite and not np.all(np.isfinite(arr)):
        i = tuple(int(j) for j in np.argwhere(~np.isfinite(arr))[0])
        raise _nonfinite(arr[i][None], what, f" at index {i if len(i) != 1 else i[0]}")
    return arr


def as_scalar(value, what: str, *, allow_inf: bool = False) -> float:
    """A student's result as one float (finite unless ``allow_inf``), or a clear failure."""
    arr, _ = _numbers(value, what)
    if arr.ndim != 0:
        if arr.size == 1:
            raise CheckFailed(f"{what} returned an array of shape {arr.shape}, expected a single number",
                              "return a float (e.g. float(x)), not an array")
        raise CheckFailed(f"{what} returned an array of shape {arr.shape}, expected a single number")
    v = float(arr)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise _nonfinite(arr[None], what)
    return v


def as_int(value, what: str) -> int:
    """A student's result as a whole number (an int, or a float with no fraction)."""
    if isinstance(value, (bool, np.bool_)):
        raise CheckFailed(f"{what} returned {value}, a bool, not a whole number")
    v = as_scalar(value, what)
    if v != int(v):
        raise CheckFailed(f"{what} returned {v:g}, not a whole number")
    return int(v)


def as_pair(value, what: str) -> tuple:
    """A student's result as a pair ``(a, b)`` (tuple, list or length-2 array)."""
    if value is None:
        raise CheckFailed(f"{what} returned None", "return a pair: `return a, b`")
    try:
        items = tuple(value) if isinstance(value, (tuple, list, np.ndarray)) else None
    except BaseException:  # noqa: BLE001
        items = None
    if items is None or len(items) != 2:
        raise CheckFailed(f"{what} returned {short(value)}; expected a pair (two values)")
    return items


def scalar_close(f: Callable, args: tuple, expected: float, what: str, **tol) -> None:
    """Fail unless ``f(*args)`` returns one number close to ``expected`` (a plain call
    must give a plain number, not an array)."""
    assert_close(as_scalar(call(f, *args), what), expected, what, **tol)


FLOAT32_HINT = ("your numbers agree only to about 6 digits: that is the precision of float32. "
                "Compute in float64 (NumPy's default), e.g. np.asarray(x, dtype=float)")


def _in_float32(x: np.ndarray) -> bool:
    """Every value of ``x`` is a float32 number (what a float32 computation returns)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.array_equal(x, x.astype(np.float32), equal_nan=True))


def assert_close(got, expected, what: str, *, at=None, rtol: float = 1e-9, atol: float = 1e-12,
                 hint: str = "") -> None:
    """Fail at the first element where ``got`` and ``expected`` differ.

    ``at = (name, values)`` labels the elements ("wrong at t=7").  If the values agree to
    single precision only, the hint says so.
    """
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    ok = np.isclose(got, expected, rtol=rtol, atol=atol)
    if ok.all():
        return
    if rtol < 1e-6 and np.allclose(got, expected, rtol=3e-6, atol=max(atol, 1e-30)):
        if not hint or (_in_float32(got) and not _in_float32(expected)):  # round-off, not the caller's mistake
            hint = FLOAT32_HINT
    if ok.ndim == 0:
        raise CheckFailed(f"{what}: expected {float(expected):.10g}, got {float(got):.10g}", hint)
    idx = tuple(int(i) for i in np.argwhere(~ok)[0])
    label = f"index {idx if len(idx) != 1 else idx[0]}"
    if at is not None:
        name, values = at
        label = f"{name}={short(np.asarray(values)[idx].item())}"
    raise CheckFailed(
        f"{what}: wrong at {label}: expected {expected[idx]:.10g}, got {got[idx]:.10g} "
        f"({int((~ok).sum())} of {ok.size} values wrong)",
        hint,
    )


def diagnose(got, candidates: dict[str, object], default: str = "") -> str:
    """The hint of the first plausible mistake whose values ``got`` matches."""
    got = np.asarray(got, dtype=float)
    for hint, values in candidates.items():
        try:
            values = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            continue
        if values.shape == got.shape and np.all(np.isfinite(values)) and np.allclose(got, values, rtol=1e-9, atol=1e-12):
            return hint
    return default


def expect_value_error(fn: Callable, *args, names: tuple[str, ...] = (), **kwargs) -> None:
    """Fail unless ``fn(*args, **kwargs)`` raises ``ValueError`` whose message names one
    of ``names`` (the offending argument, as the book's convention asks)."""
    where = describe(fn, args, kwargs)
    ok, exc = _student(fn, args, kwargs)
    if ok:
        raise CheckFailed(f"{where} returned normally; it should raise ValueError",
                          "validate the arguments at the top of the function")
    text = safe_str(exc, 300)
    if not isinstance(exc, ValueError):
        raise CheckFailed(f"{where} raised {_type_name(exc)} instead of ValueError: {text}",
                          "check the arguments first and `raise ValueError(...)` with a clear message")
    if names and not any(re.search(rf"\b{re.escape(n)}\b", text) for n in names):
        raise CheckFailed(
            f"{where} raised ValueError({text!r}), but the message does not name the argument "
            f"({' or '.join(names)})",
            "say which argument is wrong and what is allowed, "
            f"e.g. ValueError(f'{names[0]} must be ..., got {{{names[0]}!r}}')",
        )


# ============================================================================ probes as data
@dataclass(frozen=True)
class Case:
    """One probe: the arguments of a call, and how to label it in messages."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    label: str = ""

    def call(self, fn):
        return call(fn, *self.args, **self.kwargs)

    def describe(self, fn) -> str:
        return self.label or describe(fn, self.args, self.kwargs)


def compare(fn, cases: Sequence[Case], reference: Callable, *, scalar: bool = False, rtol: float = 1e-9,
            atol: float = 1e-12, at: str | tuple | None = None, mistakes: Callable | None = None,
            hint: str = "") -> None:
    """Call ``fn`` on every case and compare with ``reference(*args, **kwargs)``.

    ``mistakes(*args, **kwargs)`` may return ``{hint: values}`` of plausible wrong
    answers; the first one the student's values match gives the hint.  ``at`` names the
    first argument in messages ("wrong at t=3") when it is an array; ``at=(name, i)``
    names argument ``i`` instead.
    """
    for case in cases:
        what = case.describe(fn)
        value = case.call(fn)
        expected = np.asarray(reference(*case.args, **case.kwargs), dtype=float)
        got = as_scalar(value, what) if scalar else as_array(value, expected.shape, what)
        candidates = mistakes(*case.args, **case.kwargs) if mistakes else {}
        name, i = (at, 0) if isinstance(at, str) else (at or (None, 0))
        label = (name, np.asarray(case.args[i])) if name and not scalar else None
        assert_close(got, expected, what, at=label, rtol=rtol, atol=atol,
                     hint=diagnose(got, candidates, hint) if candidates else hint)


def reproducible(run: Callable[[int], object]) -> None:
    """``run(seed)`` calls student code with ``np.random.default_rng(seed)``: the same seed
    must give the same result, another seed another one (the rng argument is used)."""
    a, b, c = run(7), run(7), run(8)
    if not np.array_equal(a, b):
        raise CheckFailed("two calls with np.random.default_rng(7) gave different results",
                          "draw every random number from the rng argument, not from np.random")
    if np.array_equal(a, c):
        raise CheckFailed("np.random.default_rng(7) and (8) gave the same result",
                          "draw the random numbers from the rng argument")


def rejects(fn, bad: Sequence[tuple]) -> None:
    """Each ``(args, kwargs, names)`` must raise ``ValueError`` naming one of ``names``."""
    for args, kwargs, names in bad:
        expect_value_error(fn, *args, names=tuple(names), **kwargs)


# ============================================================================ checks
class _StandIn:
    """In the session's replay, stands for the student's function (its name only)."""

    def __init__(self, fn):
        name = getattr(fn, "__name__", None)
        self.__name__ = name if isinstance(name, str) else "your function"

    def __call__(self, *args, **kwargs):
        return call(self, *args, **kwargs)


@contextlib.contextmanager
def _graders_modules():
    """The guarded modules as the grader found them at import (see :func:`snapshot`),
    for the time of a replay in the session; then the session's own attributes again."""
    changes = []
    for module, saved in list(_SNAPSHOT.values()):
        try:
            d = vars(module)
            old = {k: d[k] for k in saved if k in d and d[k] is not saved[k]}
            missing = [k for k in saved if k not in d]
            for k in (*old, *missing):
                d[k] = saved[k]
            changes.append((d, old, missing))
        except Exception:  # noqa: BLE001 - a module replaced by something odd
            continue
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for d, old, missing in changes:
            d.update(old)
            for k in missing:
                d.pop(k, None)


#: ``LRNOTES_GRADER_RANDOM_ONLY=1`` runs only the random checks (those that depend on the
#: seed): for sweeping a reference solution over many seeds (tests/test_answer_bank.py).
ENV_RANDOM_ONLY = "LRNOTES_GRADER_RANDOM_ONLY"


class Checks:
    """Collect checks for one student function, run them isolated, return a :class:`Report`.

    >>> g = Checks("Exercise E1.1a: linear decay", linear_decay)   # doctest: +SKIP
    >>> @g.check("values for T=10")                                # doctest: +SKIP
    ... def _(f): ...
    >>> @g.check("random budgets", random=True)                    # doctest: +SKIP
    ... def _(f, rng): ...                                         # rng: a seeded Generator
    >>> report = g.run()                                           # doctest: +SKIP

    ``seed`` fixes the random probes (default: a fresh seed, shown in the report when a
    random check fails).  ``time_limit`` is in seconds per check (default:
    ``lrnotes.grading.TIME_LIMIT``, read when the checks run).  ``preload`` names modules
    that the checks need, imported (once) before the worker starts.  Once a check finds
    the stub untouched, times out or ends the worker, the remaining checks are skipped.
    """

    def __init__(self, title: str, fn, *, seed: int | None = None, time_limit: float | None = None,
                 preload: Sequence[str] = ()):
        self.title = title
        self.fn = fn
        self.seed = new_seed() if seed is None else int(seed)
        self.time_limit = time_limit
        self.preload = tuple(preload)
        self._checks: list[tuple[str, Callable, str, bool]] = []

    def check(self, name: str, hint: str = "", *, random: bool = False):
        def register(body: Callable) -> Callable:
            self._checks.append((name, body, hint, random))
            return body

        return register

    def values(self, name: str, cases: Sequence["Case"], reference: Callable, hint: str = "", **compare_kw) -> None:
        """A check that compares the function with ``reference`` on the fixed ``cases``
        (:func:`compare`, with ``compare_kw``)."""
        self.check(name, hint)(lambda f: compare(f, cases, reference, **compare_kw))

    # ------------------------------------------------------------------ in the worker
    def _run_one(self, index: int, body: Callable, hint: str, random: bool, fn=None) -> tuple[str, str, str]:
        fn = self.fn if fn is None else fn
        try:
            with np.errstate(all="ignore"):
                if random:
                    note = body(fn, np.random.default_rng([self.seed, index]))
                else:
                    note = body(fn)
            return "pass", note if isinstance(note, str) else "", ""
        except NotImplementedYet as exc:
            return ("todo", f"not implemented yet ({exc})",
                    "replace the `raise NotImplementedError(...)` line with your code, run that "
                    "cell, then run this check again")
        except CheckFailed as exc:
            message = exc.message
            if random:
                message += f" [random probe, seed {self.seed}]"
            return "fail", message, exc.hint or hint
        except iso.GraderStop:
            raise
        except BaseException as exc:  # noqa: BLE001 - a grader bug, or a result it cannot read
            return ("error", f"the grader could not judge this: {_type_name(exc)}: {safe_str(exc, 300)}",
                    "if your function returns what the task asks, this is a bug in the grader: please report it")

    def _work(self, capture: iso.BoundedText, emit) -> None:
        """In the worker: run each check, recording its student calls as plain outcomes;
        only those (and what the code printed) are sent, never a verdict."""
        restore()
        _LOCAL.handles = {}
        for index, (name, body, hint, random) in enumerate(self._checks):
            emit({"type": "start", "i": index})
            iso.COUNTERS.reset()
            _LOCAL.tape = tape = _Tape()
            try:
                status, _, _ = self._run_one(index, body, hint, random)
            finally:
                _LOCAL.tape = None
            emit({"type": "result", "i": index, "outcomes": tape.outcomes, "output": clip(capture.take(), 1_200)})
            if status == "todo":
                break
        emit({"type": "done"})

    def _replay(self, index: int, outcomes) -> tuple[str, str, str]:
        """In the session: run check ``index`` again with a stand-in for the student's
        function that returns the worker's recorded outcomes; the verdict is computed here,
        where no student code ran, with the grader's modules as they were at import."""
        if not isinstance(outcomes, list):
            outcomes = []
        name, body, hint, random = self._checks[index]
        tape = _Tape(outcomes)
        _LOCAL.tape = tape
        try:
            with _graders_modules():
                status, message, hint_ = self._run_one(index, body, hint, random, fn=_StandIn(self.fn))
        finally:
            _LOCAL.tape = None
        if status == "pass" and tape.pos != len(outcomes):
            status, message, hint_ = ("error", "the grader could not judge this: the worker made calls the "
                                      "check did not ask for", "this is a bug in the grader: please report it")
        return status, message, hint_

    # ------------------------------------------------------------------ in the session
    def run(self) -> Report:
        if os.environ.get(ENV_RANDOM_ONLY, "").strip() == "1":  # a seed sweep: only these vary
            self._checks = [c for c in self._checks if c[3]]
        if not callable(self.fn):
            return Report(self.title, [CheckResult(
                "a function was given", "error",
                f"expected a function, got {_type_name(self.fn)} {short(self.fn)}",
                "pass the function itself, without calling it: check_xyz(my_function)",
            )], self.seed)
        for name in self.preload:
            __import__(name)
        snapshot(*self.preload)
        package = sys.modules.get(__package__)
        limit = self.time_limit or getattr(package, "TIME_LIMIT", None) or default_time_limit()
        capture = iso.BoundedText(1_000)  # plus its note, within the 1,200 kept

        def on_timeout(i, started, finished, where, abandoned):
            at = f" It was running {where} when stopped." if where else ""
            if started > finished and finished > 0:
                message = (f"too slow: your function returned {finished} time(s) during this check, "
                           f"but the check did not finish within {limit:g} s.{at}")
                hint = "avoid Python loops over many steps or elements: use NumPy array operations"
            elif started > finished:
                message = f"your function did not return within {limit:g} s.{at}"
                hint = ("an endless loop (does its condition ever change? does it catch every "
                        "exception?), or very slow code")
            else:
                message = f"the check did not finish within {limit:g} s (your function was not running).{at}"
                hint = "an object your function returned may be slow to read; otherwise report it"
            if abandoned:
                message += (" This platform cannot stop that code: it keeps running in the "
                            "background until you restart the kernel.")
            return {"status": "timeout", "message": message, "hint": hint, "output": capture.take()}

        def on_end(i, how):
            return {"status": "fail", "message": f"the check stopped: {how}.",
                    "hint": "a function should return a value; os._exit, sys.exit or a crash end the "
                            "process that runs it", "output": ""}

        def work(emit):
            self._work(capture, emit)

        kind, payload = iso.runner_name(), None
        if kind == "spawn":
            with _graders_modules():  # the checks' globals as the grader found them
                payload, why = iso.spawn_payload(work, capture, enter_worker)
            if payload is None:
                kind = "thread"
                iso.warn_if_fallback("unpicklable", why)
        iso.warn_if_fallback(kind)
        redirect = kind in ("thread", "inline")
        saved = sys.stdout, sys.stderr
        if redirect:
            sys.stdout = sys.stderr = capture
        try:
            events = iso.drive(work, n_checks=len(self._checks), limit=limit, capture=capture,
                               reset=enter_worker, on_timeout=on_timeout, on_end=on_end,
                               kind=kind, payload=payload)
        finally:
            if redirect:
                sys.stdout, sys.stderr = saved
        results, reason = [], ""
        for index, (name, _, _, _) in enumerate(self._checks):
            if index in events and not reason:
                event = events[index]
                if event.get("type") == "outcomes":  # from the worker: judge it here
                    status, message, hint = self._replay(index, event.get("outcomes"))
                    output = event.get("output") if isinstance(event.get("output"), str) else ""
                    result = CheckResult(name, status, message, hint, output)
                else:  # made by the session: a time-out, or the worker's end
                    result = CheckResult.from_event(event, name)
                results.append(result)
                if result.status == "todo":
                    reason = "waiting for your implementation"
                elif result.status == "timeout":
                    reason = "skipped after the time-out above"
                elif index + 1 < len(self._checks) and index + 1 not in events:
                    reason = "skipped: the check above stopped the grader's worker"
            else:
                results.append(CheckResult(name, "skipped", reason or "skipped"))
        return Report(self.title, results, self.seed)


# ============================================================================ try it
def try_it(fn: Callable, *args, **kwargs) -> None:
    """Call a student's function once, isolated like a check, and print the result or
    what went wrong.  For "try it" cells: it never raises, so the notebook runs from top
    to bottom even before the exercise is done."""
    where = describe(fn, args, kwargs)
    g = Checks("try it", fn, seed=0)

    @g.check(where)
    def _(f):
        value = call(f, *args, **kwargs)
        if isinstance(value, (tuple, list)):
            value = type(value)((v.item() if isinstance(v, np.generic) else v) for v in value)
        elif isinstance(value, np.generic):
            value = value.item()
        return f"{where} = {safe_str(value, 600, use_repr=True)}"

    result = g.run().results[0]
    if result.status == "todo":
        print(f"{_fn_name(fn)} is not implemented yet: fill it in above, run that cell, then this one.")
    else:
        print(result.message + (f"\nhint: {result.hint}" if result.hint and not result.passed else ""))
    if result.output:
        print("your code printed:\n" + result.output)
