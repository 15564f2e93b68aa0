"""Student results as plain data: what crosses from the worker to the session.

The worker turns every outcome of student code into a tagged, JSON-able form
(:func:`encode`) at once; the session rebuilds it (:func:`decode`) from that form only, so
what a check compares is always a plain Python or NumPy value the grader built itself:

=================  ===========================================================
``None``, bool     themselves
int, float, str    ``["i", n]``, ``["f", x]``, ``["s", text]`` (exact types only)
complex            ``["c", re, im]``
Fraction           ``["F", numerator, denominator]``
tuple, list, set   ``["t" | "l" | "S", [items]]`` (a long list of floats: packed)
dict               ``["d", [[key, value], ...]]`` (plain keys only)
ndarray            ``["a", dtype, shape, base64]`` (bool/int/uint/float/complex
                   dtypes; subclasses stripped; object arrays are not read)
NumPy scalar       ``["g", dtype, base64]`` (so a float32 stays a float32)
sympy expression   ``["y", srepr]``, rebuilt by :func:`parse_sympy`: a walk of
                   ``ast.parse(mode="eval")`` that knows only sympy's own classes
                   and literal arguments (never ``eval`` or ``sympify``)
a function         ``["fn", name, handle]``: calls of it are student calls too
anything else      ``["o", type name, repr]``: an object the grader cannot read
an exception       ``["x", type name, builtin base, message]``
=================  ===========================================================
"""

from __future__ import annotations

import ast
import base64
import builtins
import math
import sys
from fractions import Fraction

import numpy as np

__all__ = ["encode", "decode", "encode_exc", "Opaque", "Returned", "Unreadable", "parse_sympy"]

MAX_DEPTH = 24
MAX_ITEMS = 2_000_000
MAX_SREPR = 200_000
MAX_INT_DIGITS = 400
_KINDS = "biufc"
_EXCEPTIONS = {n: c for n, c in vars(builtins).items() if isinstance(c, type) and issubclass(c, BaseException)}


class Unreadable(Exception):
    """The worker sent something that is not plain data of the forms above."""


class Opaque:
    """Stands for an object the grader cannot read: only its type name and repr came back.
    (:func:`opaque` makes one whose class has the student's type name, for messages.)"""

    def __init__(self, type_name: str, text: str):
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return f"{self.text} (an object the grader cannot read)"

    __str__ = __repr__


_OPAQUE_CLASSES: dict = {}


def opaque(type_name: str, text: str) -> Opaque:
    if type_name not in _OPAQUE_CLASSES:
        name = type_name if type_name.isidentifier() else "object"
        _OPAQUE_CLASSES[type_name] = type(name, (Opaque,), {"__module__": "student"})
    return _OPAQUE_CLASSES[type_name](type_name, text)


class Returned:
    """A function the student's code returned: calling it is a student call (recorded in
    the worker, replayed in the session)."""

    def __init__(self, name: str, handle: int):
        self.__name__, self.handle = name, handle

    def __call__(self, *args, **kwargs):
        from ._core import call

        return call(self, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"


# ============================================================================ in the worker
def _type_name(obj) -> str:
    try:
        return str(type(obj).__name__)[:100]
    except BaseException:  # noqa: BLE001
        return "object"


def _opaque(value) -> list:
    from ._core import safe_str

    return ["o", _type_name(value), safe_str(value, 300, use_repr=True)]


def _array(arr: np.ndarray) -> list:
    arr = np.asarray(arr)
    arr = np.ascontiguousarray(arr).reshape(arr.shape)  # ascontiguousarray makes a 0-d array 1-d
    if type(arr) is not np.ndarray:
        arr = arr.view(np.ndarray)
    if arr.dtype.kind not in _KINDS or arr.dtype.fields is not None or arr.size > MAX_ITEMS:
        raise Unreadable
    return ["a", arr.dtype.str, list(arr.shape), base64.b64encode(arr.tobytes()).decode("ascii")]


def encode(value, handles: dict | None = None, _depth: int = 0):
    """``value`` (any object student code returned) as plain tagged data."""
    try:
        return _encode(value, handles, _depth)
    except RecursionError:
        return ["o", "object", "<nested too deeply>"]


def _encode(value, handles, depth):
    if depth > MAX_DEPTH:
        raise Unreadable
    t = type(value)
    if value is None or t is bool:
        return value
    if t is int:
        return ["i", value] if len(str(abs(value))) <= MAX_INT_DIGITS else _opaque(value)
    if t is float:
        return ["f", value]
    if t is str:
        return ["s", value[:100_000]]
    if t is complex:
        return ["c", value.real, value.imag]
    if t is Fraction:
        return ["F", value.numerator, value.denominator]
    if isinstance(value, np.generic):
        if value.dtype.kind not in _KINDS:
            return _opaque(value)
        return ["g", value.dtype.str, base64.b64encode(np.asarray(value).tobytes()).decode("ascii")]
    if isinstance(value, np.ndarray):
        try:
            return _array(value)
        except Unreadable:
            return _opaque(value)
    if t in (tuple, list, set, frozenset):
        items = list(value)
        tag = {tuple: "t", list: "l"}.get(t, "S")
        if len(items) > 16 and tag != "S" and all(type(v) is float for v in items):
            return ["fl", tag, base64.b64encode(np.array(items, dtype=float).tobytes()).decode("ascii")]
        if len(items) > MAX_ITEMS:
            return _opaque(value)
        return [tag, [_encode(v, handles, depth + 1) for v in items]]
    if t is dict:
        if not all(k is None or type(k) in (bool, int, float, str) for k in value):
            return _opaque(value)
        return ["d", [[_encode(k, handles, depth + 1), _encode(v, handles, depth + 1)] for k, v in value.items()]]
    sympy = sys.modules.get("sympy")
    if sympy is not None and isinstance(value, sympy.Basic):
        text = sympy.srepr(value)
        return ["y", text] if isinstance(text, str) and len(text) <= MAX_SREPR else _opaque(value)
    if isinstance(value, BaseException):
        return _opaque(value)
    if callable(value) and not hasattr(value, "__array__"):
        if handles is None:
            return _opaque(value)
        handle = len(handles)
        handles[handle] = value
        name = getattr(value, "__name__", None)
        return ["fn", name if isinstance(name, str) else "function", handle]
    torch_like = t.__module__.split(".")[0] == "torch" and hasattr(value, "detach")
    try:
        arr = value.detach().cpu().numpy() if torch_like else np.asarray(value)
        return _array(arr)
    except BaseException:  # noqa: BLE001 - anything a strange object does
        return _opaque(value)


def encode_exc(exc: BaseException) -> list:
    """An exception as (its type's name, its nearest built-in base class, its message)."""
    from ._core import safe_str

    base = "Exception"
    try:
        for cls in type(exc).__mro__:
            if cls.__module__ == "builtins" and cls.__name__ in _EXCEPTIONS:
                base = cls.__name__
                break
    except BaseException:  # noqa: BLE001
        pass
    return ["x", _type_name(exc), base, safe_str(exc, 2_000)]


# ============================================================================ in the session
_EXC_CLASSES: dict = {}


def _exception(name: str, base: str, message: str) -> BaseException:
    """A stand-in exception of the student's type name, an instance of its built-in base."""
    key = (name, base)
    if key not in _EXC_CLASSES:
        parent = _EXCEPTIONS.get(base, Exception)

        def __init__(self, text):
            BaseException.__init__(self, text)
            self.text = text

        def __str__(self):
            return self.text

        _EXC_CLASSES[key] = type(name if name.isidentifier() else "StudentException", (parent,),
                                 {"__init__": __init__, "__str__": __str__, "__module__": "student"})
    return _EXC_CLASSES[key](message)


def _str(x) -> str:
    if type(x) is not str:
        raise Unreadable
    return x


def _num(x):
    if type(x) not in (int, float) or (type(x) is int and len(str(abs(x))) > MAX_INT_DIGITS):
        raise Unreadable
    return x


def _dtype(text) -> np.dtype:
    dtype = np.dtype(_str(text))
    if dtype.kind not in _KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise Unreadable
    return dtype


def decode(data, depth: int = 0):
    """Rebuild a value from :func:`encode`'s form; :class:`Unreadable` for anything else."""
    if depth > MAX_DEPTH:
        raise Unreadable
    if data is None or type(data) is bool:
        return data
    if type(data) is not list or not data or type(data[0]) is not str:
        raise Unreadable
    tag, rest = data[0], data[1:]
    if tag == "i" and len(rest) == 1 and type(rest[0]) is int:
        return _num(rest[0])
    if tag == "f" and len(rest) == 1:
        return float(_num(rest[0]))
    if tag == "s" and len(rest) == 1:
        return _str(rest[0])
    if tag == "c" and len(rest) == 2:
        return complex(float(_num(rest[0])), float(_num(rest[1])))
    if tag == "F" and len(rest) == 2 and all(type(v) is int for v in rest) and rest[1] != 0:
        return Fraction(_num(rest[0]), _num(rest[1]))
    if tag in ("t", "l", "S") and len(rest) == 1 and type(rest[0]) is list:
        items = [decode(v, depth + 1) for v in rest[0]]
        return {"t": tuple, "l": list, "S": set}[tag](items)
    if tag == "fl" and len(rest) == 2 and rest[0] in ("t", "l"):
        values = np.frombuffer(base64.b64decode(_str(rest[1]), validate=True), dtype=float).tolist()
        return tuple(values) if rest[0] == "t" else values
    if tag == "d" and len(rest) == 1 and type(rest[0]) is list:
        out = {}
        for pair in rest[0]:
            if type(pair) is not list or len(pair) != 2:
                raise Unreadable
            key = decode(pair[0], depth + 1)
            if key is not None and type(key) not in (bool, int, float, str):
                raise Unreadable
            out[key] = decode(pair[1], depth + 1)
        return out
    if tag == "a" and len(rest) == 3 and type(rest[1]) is list:
        dtype = _dtype(rest[0])
        shape = tuple(int(_num(n)) for n in rest[1])
        if any(type(n) is not int or n < 0 for n in rest[1]) or len(shape) > 32 or math.prod(shape) > MAX_ITEMS:
            raise Unreadable
        raw = base64.b64decode(_str(rest[2]), validate=True)
        if len(raw) != math.prod(shape) * dtype.itemsize:
            raise Unreadable
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if tag == "g" and len(rest) == 2:
        dtype = _dtype(rest[0])
        raw = base64.b64decode(_str(rest[1]), validate=True)
        if len(raw) != dtype.itemsize:
            raise Unreadable
        return np.frombuffer(raw, dtype=dtype)[0]
    if tag == "y" and len(rest) == 1:
        return parse_sympy(_str(rest[0]))
    if tag == "fn" and len(rest) == 2 and type(rest[1]) is int:
        return Returned(_str(rest[0])[:100], rest[1])
    if tag == "o" and len(rest) == 2:
        return opaque(_str(rest[0])[:100], _str(rest[1])[:400])
    if tag == "x" and len(rest) == 3:
        return _exception(_str(rest[0])[:100], _str(rest[1]), _str(rest[2])[:2_000])
    raise Unreadable


# ============================================================================ sympy, safely
def _sympy_names(sympy) -> dict:
    """What a ``srepr`` text may name: sympy's classes (subclasses of ``Basic``, and
    ``Function`` for undefined functions) and its singletons (``oo``, ``pi``, ...)."""
    names = {}
    for name, obj in vars(sympy).items():
        if name.startswith("_"):
            continue
        if isinstance(obj, type) and issubclass(obj, sympy.Basic):
            names[name] = obj
        elif isinstance(obj, sympy.Basic):
            names[name] = obj
    names["Function"] = sympy.Function
    stack = [sympy.Basic]
    while stack:  # classes that sympy's printers name but its top level does not export
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            module = sys.modules.get(getattr(sub, "__module__", ""))
            if module is not None and sub.__module__.startswith("sympy.") and getattr(module, sub.__name__, None) is sub:
                names.setdefault(sub.__name__, sub)
    return names


_NAMES: dict = {}


def parse_sympy(text: str):
    """Rebuild a sympy expression from its ``srepr`` text without evaluating the text:
    only calls of sympy's own classes on literals and on such calls are accepted."""
    import sympy

    if len(text) > MAX_SREPR:
        raise Unreadable
    if not _NAMES:
        _NAMES.update(_sympy_names(sympy))
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise Unreadable from None
    budget = [50_000]
    undefined = sympy.core.function.UndefinedFunction
    named = (sympy.Symbol, sympy.Dummy, sympy.Wild, sympy.Function, sympy.Float)

    def literal(node):
        if isinstance(node, ast.Constant) and type(node.value) in (int, float, str, bool, type(None)):
            if type(node.value) is int:
                _num(node.value)
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
                and type(node.operand.value) in (int, float):
            return -_num(node.operand.value)
        raise Unreadable

    def build(node, depth=0):
        budget[0] -= 1
        if budget[0] < 0 or depth > 200:
            raise Unreadable
        if isinstance(node, ast.Name):
            obj = _NAMES.get(node.id)
            if obj is None or isinstance(obj, type):
                raise Unreadable
            return obj
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [build(e, depth + 1) for e in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                func = _NAMES.get(node.func.id)
                if not isinstance(func, type):
                    raise Unreadable
            elif isinstance(node.func, ast.Call):
                func = build(node.func, depth + 1)
                if not isinstance(func, undefined):
                    raise Unreadable
            else:
                raise Unreadable
            args = [build(a, depth + 1) for a in node.args]
            kwargs = {}
            for kw in node.keywords:
                if kw.arg is None:
                    raise Unreadable
                kwargs[kw.arg] = literal(kw.value)
            # a string reaches sympify (which evaluates it) in most constructors: only these
            # take strings, as names or digits
            texts = [a for a in (*args, *kwargs.values()) if isinstance(a, str)]
            if texts and (func not in named or any(isinstance(v, str) for v in kwargs.values())):
                raise Unreadable
            if func is sympy.Pow and len(args) == 2 and all(isinstance(a, sympy.Integer) for a in args) \
                    and abs(int(args[1])) > 10_000:
                raise Unreadable  # 10**(10**9) would take forever to evaluate
            try:
                return func(*args, **kwargs)
            except Exception:  # noqa: BLE001 - arguments sympy refuses
                raise Unreadable from None
        return literal(node)

    try:
        with sympy.evaluate(False):  # the tree exactly as the srepr shows it, nothing computed
            value = build(tree.body)
    except RecursionError:
        raise Unreadable from None
    if not isinstance(value, sympy.Basic):
        raise Unreadable
    return value
