"""Small notebook helpers that also work outside the book (Colab, plain Jupyter).

glue     record a value for the book's ``{glue:text}`` roles (falls back to printing)
sci      a number in the book's prose format, ``4.9 × 10⁻¹⁴`` (never ``4.9e-14``)
pm       mean ± spread over seeds as prose, ``0.123 ± 0.004`` (sd by default, or se)
table    show a table (rows of cells, MyST maths allowed) as a rendered markdown table
markdown_table  the same table as markdown text
progress  a ``tqdm.auto`` progress bar in full mode; quiet (the bare iterable) in quick mode
"""

from __future__ import annotations

import html as _html
import math
import numbers
import re
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
    if _is_figure(value):
        value = _BothFormats(value)
    return _glue(name, value, display=display)


def _is_figure(value) -> bool:
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover
        return False
    return isinstance(value, Figure)


class _BothFormats:
    """A glued matplotlib figure in SVG (what the book shows) and PNG (what the reader's
    notebooks embed: JupyterLab and Colab show a PNG attachment, not an SVG one)."""

    def __init__(self, fig):
        self.fig = fig

    def _render(self, fmt: str):
        import io

        buf = io.BytesIO()
        self.fig.savefig(buf, format=fmt, bbox_inches="tight", dpi=150)
        return buf.getvalue()

    def _repr_svg_(self):
        return self._render("svg").decode("utf-8")

    def _repr_png_(self):
        return self._render("png")

    def __repr__(self):
        return repr(self.fig)


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


def pm(a, fmt: str = ".4f", *, spread: str = "sd") -> Text:
    """Mean ± spread over seeds, for prose and tables: ``pm([1, 2, 3]) == '2.0000 ± 1.0000'``.

    ``fmt`` formats both numbers (a format spec such as ``".3f"``, ``"+.4f"``, ``".1%"``);
    ``spread="sd"`` is the sample standard deviation (``ddof=1``, the spread of one run),
    ``"se"`` the standard error of the mean, :math:`s/\\sqrt{n}`.

    >>> pm([0.1, 0.2, 0.3], ".2f")
    '0.20 ± 0.10'
    >>> pm([0.1, 0.2, 0.3], ".3f", spread="se")
    '0.200 ± 0.058'
    """
    import numpy as np

    if spread not in ("sd", "se"):
        raise ValueError(f"spread must be 'sd' or 'se', got {spread!r}")
    arr = np.asarray(a, dtype=float).ravel()
    if arr.size < 2 or not np.all(np.isfinite(arr)):
        raise ValueError(f"a must hold at least 2 finite values, got {arr.size} (finite: "
                         f"{int(np.isfinite(arr).sum())})")
    s = arr.std(ddof=1) / (math.sqrt(arr.size) if spread == "se" else 1.0)
    try:
        return Text(f"{arr.mean():{fmt}} ± {s:{fmt.lstrip('+')}}")
    except ValueError as exc:
        raise ValueError(f"fmt must be a format spec for a float such as '.4f', got {fmt!r}") from exc


def table(rows: Sequence[Sequence], header: Sequence[str], align: str | None = None, *,
          caption: str | None = None, name: str | None = None):
    """Show a table in the notebook and in the book (a markdown table, rendered as MyST).

    Cells are converted with ``str``; they may contain inline maths (``$x^2$``).
    ``align`` is one character per column, ``l``, ``c`` or ``r`` (default: first column
    left, the others right).  Returns ``None`` (so that a cell ending in ``table(...)``
    does not show it twice); :func:`markdown_table` gives the text.

    With a ``caption`` (one line of MyST) and a ``name`` (``tbl-...``, the target of
    ``{numref}`tbl-...```), the table is numbered in the book.  The output then has two
    representations: ``text/markdown``, a MyST ``{table}`` directive that the book
    numbers (``_config.yml`` makes myst-nb prefer it), and ``text/html``, a plain HTML
    table, which Jupyter and Colab show instead (they prefer HTML to markdown, and would
    not understand the directive); the reader's notebooks put the numbered caption after
    the cell (:mod:`_ext.reader`).  See :func:`captioned_table`.
    """
    from IPython.display import Markdown, display

    if caption is None and name is None:
        display(Markdown(markdown_table(rows, header, align)))
        return
    display(captioned_table(rows, header, align, caption=caption, name=name), raw=True)


_TABLE_NAME = re.compile(r"tbl-[A-Za-z0-9][A-Za-z0-9-]*")


def captioned_table(rows: Sequence[Sequence], header: Sequence[str], align: str | None = None, *,
                    caption: str | None = None, name: str | None = None) -> dict[str, str]:
    """The mime bundle that :func:`table` displays for a captioned table:
    ``{"text/markdown": <MyST table directive>, "text/html": <HTML table>}``.

    ``caption`` is required, a non-empty string on one line; ``name``, if given, matches
    ``tbl-[A-Za-z0-9-]+``.  Raises ``ValueError`` naming the argument otherwise.
    """
    if not isinstance(caption, str) or not caption.strip():
        raise ValueError(f"caption must be a non-empty string (a numbered table needs one), got {caption!r}")
    if "\n" in caption or "`" * 3 in caption or caption.lstrip().startswith(":"):
        raise ValueError(f"caption must be one line of text, got {caption!r}")
    if name is not None and (not isinstance(name, str) or not _TABLE_NAME.fullmatch(name)):
        raise ValueError(f"name must look like 'tbl-some-words' (letters, digits, '-'), got {name!r}")
    body = markdown_table(rows, header, align)
    caption = caption.strip()
    myst = f":::{{table}} {caption}\n" + (f":name: {name}\n" if name else "") + f"\n{body}\n:::"
    # the HTML form has no <caption>: in the reader's notebooks (_ext.reader) the
    # numbered caption is a Markdown cell after the cell, as a figure's is
    return {"text/markdown": myst, "text/html": html_table(rows, header, align, name=name)}


def html_table(rows: Sequence[Sequence], header: Sequence[str], align: str | None = None, *,
               caption: str | None = None, name: str | None = None) -> str:
    """A plain HTML table (same arguments as :func:`table`), for Jupyter and Colab.

    Text is escaped; inline maths (``$...$``) is kept as text, for the notebook's MathJax.
    The caption, if any, is a ``<caption>``; ``name`` becomes the table's ``id``.
    """
    markdown_table(rows, header, align)  # the same validation
    header = [str(h) for h in header]
    rows = [[str(c) for c in r] for r in rows]
    align = align or "l" + "r" * (len(header) - 1)
    side = {"l": "left", "c": "center", "r": "right"}

    def cells(tag, values):
        return "".join(f'<{tag} style="text-align: {side[a]}">{_inline_html(v)}</{tag}>'
                       for a, v in zip(align, values))

    out = [f'<table id="{name}">' if name else "<table>"]
    if caption:
        out.append(f"<caption>{_html.escape(caption.strip(), quote=False)}</caption>")
    out.append(f"<thead><tr>{cells('th', header)}</tr></thead>")
    out.append("<tbody>" + "".join(f"<tr>{cells('td', r)}</tr>" for r in rows) + "</tbody>")
    out.append("</table>")
    return "\n".join(out)


def _inline_html(text: str) -> str:
    """A table cell's Markdown as HTML: escaped, with `code` and **bold** (maths stays
    as text, for the notebook's MathJax)."""
    text = _html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)


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
