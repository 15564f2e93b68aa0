r"""Learning rates and weights in low-precision floating point (bfloat16, float16, FP8).

A number stored in a format with :math:`p` significant bits (the leading one included)
and smallest normal :math:`2^{e_{\min}}` is rounded to the nearest representable value:

- below :math:`2^{e_{\min}}` the spacing is fixed (the *subnormals*), and anything under
  half the smallest subnormal :math:`s = 2^{e_{\min}}\,\varepsilon` rounds to **zero**;
- above it, the spacing is :math:`2^{e}\,\varepsilon` in the binade
  :math:`[2^e, 2^{e+1})`, with :math:`\varepsilon = 2^{1-p}` (``torch.finfo(dtype).eps``);
  so :math:`w + u` rounds back to :math:`w` whenever
  :math:`|u| < \tfrac12\,2^{\lfloor\log_2|w|\rfloor}\varepsilon`: the update is *absorbed*.

FP8 tensors have no arithmetic on CPU in torch: every operation here computes in float32
and rounds the result to the format, which is what "stored in the format" means.

Contents
--------
FORMATS            name -> torch dtype of the four low-precision formats (and float32)
FormatLimits       the limits of one format, from ``torch.finfo`` (checked by round trips)
limits             FormatLimits of a dtype
round_to           values rounded to a format (round to nearest even), returned as float64
quantized          a schedule whose values are stored in a format (optionally scaled)
accumulate         a running sum stored in a format: plain, or Kahan-compensated
MasterWeightSGD    SGD (with momentum) on float32 master copies of low-precision parameters
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lrnotes.nets.optim import MasterWeightSGD  # noqa: F401  (its old place)
from lrnotes.schedules import Schedule, _real, _schedule_arg

__all__ = ["FORMATS", "FormatLimits", "limits", "round_to", "quantized", "accumulate", "MasterWeightSGD"]

#: The formats of the book's low-precision page, narrowest last.
FORMATS = {
    "float32": torch.float32,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
    "float8_e5m2": torch.float8_e5m2,
    "float8_e4m3fn": torch.float8_e4m3fn,
}


def _dtype(name: str, value) -> torch.dtype:
    if isinstance(value, str):
        if value not in FORMATS:
            raise ValueError(f"{name} must be a torch floating dtype or one of {tuple(FORMATS)}, got {value!r}")
        return FORMATS[value]
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise ValueError(f"{name} must be a torch floating dtype or one of {tuple(FORMATS)}, got {value!r}")
    return value


@dataclass(frozen=True)
class FormatLimits:
    r"""The limits of a floating-point format.

    ``smallest_subnormal`` :math:`= 2^{e_{\min}}\varepsilon`, ``smallest_normal``
    :math:`= 2^{e_{\min}}`, ``max`` the largest finite value, ``eps`` the spacing just
    above 1, ``significant_bits`` :math:`p = 1 - \log_2\varepsilon`, ``exponent_bits`` the
    width of the exponent field; ``underflow`` :math:`= s/2`: positive values at or below
    it round to zero (a tie at :math:`s/2` goes to the even neighbour, 0).
    """

    name: str
    bits: int
    exponent_bits: int
    significant_bits: int
    smallest_subnormal: float
    smallest_normal: float
    max: float
    eps: float

    @property
    def underflow(self) -> float:
        return self.smallest_subnormal / 2


def limits(dtype) -> FormatLimits:
    """:class:`FormatLimits` of ``dtype`` (a torch floating dtype or a name in :data:`FORMATS`).

    Read from ``torch.finfo``; the smallest subnormal is ``smallest_normal * eps``, and the
    function checks by round trips that it is representable and that half of it rounds
    to zero.
    """
    dtype = _dtype("dtype", dtype)
    fi = torch.finfo(dtype)
    sub = fi.smallest_normal * fi.eps
    stored = torch.tensor([sub, sub / 2], dtype=torch.float64).to(dtype).double().tolist()
    if stored != [sub, 0.0]:  # pragma: no cover - would mean torch changed its formats
        raise RuntimeError(f"{dtype}: smallest subnormal {sub!r} does not round-trip ({stored})")
    p = 1 - int(round(math.log2(fi.eps)))
    return FormatLimits(name=str(dtype).removeprefix("torch."), bits=fi.bits, exponent_bits=fi.bits - p,
                        significant_bits=p, smallest_subnormal=sub, smallest_normal=fi.smallest_normal,
                        max=fi.max, eps=fi.eps)


def round_to(x, dtype) -> np.ndarray:
    r"""``x`` rounded to ``dtype`` (round to nearest, ties to even) and read back as float64.

    Values beyond the largest finite one become ``inf`` in float16, bfloat16 and
    float8_e5m2; torch's cast to float8_e4m3fn (which has no infinity) saturates them to
    :math:`\pm 448` instead.
    """
    dtype = _dtype("dtype", dtype)
    arr = np.asarray(x, dtype=np.float64)
    return torch.from_numpy(np.ascontiguousarray(arr)).to(dtype).double().numpy().reshape(arr.shape)


def quantized(inner: Schedule, dtype, scale: float = 1.0) -> Schedule:
    r"""``inner`` with its learning rate stored in ``dtype``, optionally scaled:

    .. math:: \eta_t = s\;\operatorname{round}_{\text{dtype}}\bigl(\text{inner}(t)/s\bigr).

    With ``scale`` :math:`s = 1` this is the learning rate held in the format; a
    power-of-two :math:`s` (exact in every format) moves the schedule into the format's
    range, as the per-tensor scale factors of FP8 training do.
    """
    inner = _schedule_arg("inner", inner)
    dtype = _dtype("dtype", dtype)
    s = _real("scale", scale, low=0.0, low_open=True)
    name = str(dtype).removeprefix("torch.")
    return Schedule(lambda t: s * round_to(inner(t) / s, dtype), name="quantized",
                    params={"inner": inner, "dtype": name, "scale": s}, total=inner.total,
                    restarts=inner._restarts)


def accumulate(start, increments, dtype, *, compensated: bool = False) -> np.ndarray:
    r"""A running sum :math:`x_{t+1} = \operatorname{round}(x_t + d_t)` held in ``dtype``.

    ``start``: shape ``S`` (one or many sums); ``increments``: shape ``(n,) + S``.  Returns
    the ``n + 1`` stored values :math:`x_0, \dots, x_n` (float64), shape ``(n + 1,) + S``.
    With ``compensated=True`` (Kahan summation) a second number :math:`c` in the same
    format carries the part of each addition that rounding lost:
    :math:`y = d_t - c`, :math:`x' = \operatorname{round}(x + y)`,
    :math:`c = \operatorname{round}((x' - x) - y)`.  Each operation is done in float32 and
    rounded to the format.  (In float32, NumPy's sequential ``cumsum`` gives the same
    numbers, much faster.)
    """
    dtype = _dtype("dtype", dtype)
    d = torch.as_tensor(np.asarray(increments, dtype=np.float64)).float()
    x = torch.as_tensor(np.asarray(start, dtype=np.float64)).float().to(dtype)
    if d.dim() < 1 or tuple(d.shape[1:]) != tuple(x.shape):
        raise ValueError(f"increments must have shape (n,) + start's shape {tuple(x.shape)}, "
                         f"got {tuple(d.shape)}")
    if dtype == torch.float32 and not compensated:  # the same recursion, vectorised over t
        steps = np.concatenate([x.numpy()[None], d.numpy()]).astype(np.float32)
        return np.cumsum(steps, axis=0, dtype=np.float32).astype(np.float64)
    c = torch.zeros_like(x)
    out = [x.double()]
    for dt in d:
        if compensated:
            y = (dt - c.float()).to(dtype)
            new = (x.float() + y.float()).to(dtype)
            c = ((new.float() - x.float()) - y.float()).to(dtype)
            x = new
        else:
            x = (x.float() + dt).to(dtype)
        out.append(x.double())
    return torch.stack(out).numpy()
