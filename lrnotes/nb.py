"""Small notebook helpers that also work outside the book (Colab, plain Jupyter).

glue     record a value for the book's ``{glue:text}`` roles (falls back to printing)
sci      a number in the book's prose format, ``4.9 × 10⁻¹⁴`` (never ``4.9e-14``)
table    show a table (rows of cells, MyST maths allowed) as a rendered markdown table
markdown_table  the same table as markdown text
progress  a ``tqdm.auto`` progress bar in full mode; quiet (the bare iterable) in quick mode
"""

from __future__ import annotations

import math
import numbers
from typing import Sequence

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def glue(name: str, value, display: bool = False):
    """Record ``value`` under ``name`` for the book's ``{glue:}`` roles.

    In the book build this is ``myst_nb.glue``.  Where myst-nb is not installed (a bare
    Colab runtime), it shows ``name = value`` instead, so the notebook still runs.
    """
    try:
        from myst_nb import glue as _glue
    except ImportError:  # pragma: no cover - exercised only without myst-nb
        print(f"{name} = {value!r}")
        return None
    return _glue(name, value, display=display)


class Text(str):
    """A string for glue.  ``{glue:text}`` shows it without quotes: myst-nb reads the
    glued ``repr`` back with ``ast.literal_eval``, so the repr must stay a string literal
    (a bare ``4,950`` would come back as the tuple ``(4, 950)``)."""


def sci(x, digits: int = 2, *, plain_from: float = 1e-3, plain_to: float = 1e4) -> Text:
    """Format a number for prose: ``sci(4.93e-14) == '4.9 × 10⁻¹⁴'``.

    ``digits`` significant digits.  Numbers with ``plain_from <= |x| < plain_to`` are
    written plainly (``0.0123``, ``1,234``); others as :math:`a \\times 10^{b}` with
    Unicode superscripts, so the text needs no maths rendering.

    Parameters
    ----------
    x : real number (finite)
    digits : int >= 1
    """
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(float(x)):
        raise ValueError(f"x must be a finite real number, got {x!r}")
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or digits < 1:
        raise ValueError(f"digits must be an integer >= 1, got {digits!r}")
    x = float(x)
    if x == 0:
        return Text("0")
    if plain_from <= abs(x) < plain_to:
        exp = math.floor(math.log10(abs(x)))
        decimals = max(digits - 1 - exp, 0)
        return Text(f"{x:,.{decimals}f}")
    mantissa, exp = f"{x:.{digits - 1}e}".split("e")
    exp = int(exp)
    if mantissa.lstrip("-") == "1" and digits == 1:
        return Text(("-" if x < 0 else "") + "10" + str(exp).translate(_SUPERSCRIPT))
    return Text(f"{mantissa} × 10" + str(exp).translate(_SUPERSCRIPT))


def table(rows: Sequence[Sequence], header: Sequence[str], align: str | None = None):
    """Show a table in the notebook and in the book (a markdown table, rendered as MyST).

    Cells are converted with ``str``; they may contain inline maths (``$x^2$``).
    ``align`` is one character per column, ``l``, ``c`` or ``r`` (default: first column
    left, the others right).  Returns ``None`` (so that a cell ending in ``table(...)``
    does not show it twice); :func:`markdown_table` gives the text.
    """
    from IPython.display import Markdown, display

    display(Markdown(markdown_table(rows, header, align)))


def markdown_table(rows: Sequence[Sequence], header: Sequence[str], align: str | None = None) -> str:
    """The markdown text of :func:`table` (same arguments)."""
    header = [str(h) for h in header]
    n = len(header)
    if n == 0:
        raise ValueError("header must name at least one column")
    rows = [[str(c) for c in r] for r in rows]
    bad = [i for i, r in enumerate(rows) if len(r) != n]
    if bad:
        raise ValueError(f"every row must have {n} cells (like header); rows {bad} do not")
    align = align or "l" + "r" * (n - 1)
    if len(align) != n or set(align) - set("lcr"):
        raise ValueError(f"align must be {n} characters from 'l', 'c', 'r', got {align!r}")
    rule = {"l": ":---", "c": ":---:", "r": "---:"}

    def esc(cell: str) -> str:
        return cell.replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join(rule[a] for a in align) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def progress(iterable, total: int | None = None, desc: str | None = None):
    """Wrap ``iterable`` in a ``tqdm.auto`` progress bar when ``lrnotes.scale() == "full"``.

    Quick mode (CI, the book build) returns ``iterable`` itself, so nothing is printed and
    tqdm is not even imported.  ``total`` and ``desc`` are passed to tqdm.
    """
    from .config import scale

    if scale() != "full":
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)
