"""One house style for every figure in the book, and schedule previews.

``use_style()`` sets matplotlib's rcParams once per notebook and switches inline figures
to SVG, so that they stay sharp at any zoom; ``plot_schedules`` previews any set of
schedules over a budget (plot a schedule before training with it).

One colour per schedule, on every page: ``schedule_color("cosine")`` is the colour of
cosine in every figure of the book (:data:`SCHEDULE_COLORS`), and
``schedule_colors(labels)`` colours a figure's curves, the known schedules by name and
any other curve with a palette colour that none of them uses.

Figures are drawn at their printed size: at most :data:`MAX_WIDTH` inches wide, which
is the width of the book's text column, so that the fonts below (10-11 pt) are rendered
at 13-15 px and never scaled down.  Use at most two panels side by side.  Dense scatter
plots should pass ``rasterized=True`` to keep the SVG small.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

#: Okabe–Ito, a palette that stays distinct for colour-blind readers.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

#: The house colour of each schedule family, the same in every figure. Okabe–Ito first,
#: then three colour-blind-safe colours of Paul Tol's "muted" scheme and a grey; no two
#: schedules share a colour, and none is the pale yellow of the palette.
SCHEDULE_COLORS = {
    "constant": "#000000",      # black
    "linear": "#0072B2",        # blue
    "cosine": "#009E73",        # bluish green
    "step": "#D55E00",          # vermillion
    "sgdr": "#CC79A7",          # reddish purple
    "triangular": "#E69F00",    # orange
    "wsd": "#56B4E9",           # sky blue
    "inverse-sqrt": "#882255",  # wine (Tol)
    "1/t": "#332288",           # indigo (Tol)
    "polynomial": "#999999",    # grey
    "exponential": "#DDCC77",   # sand (Tol)
}

#: Other spellings of the names above (compared in lower case, spaces collapsed).
SCHEDULE_ALIASES = {
    "const": "constant", "constant lr": "constant",
    "linear decay": "linear", "linear to zero": "linear", "linear, no warmup": "linear",
    "cosine decay": "cosine", "cosine annealing": "cosine", "cosine to zero": "cosine",
    "cosine + warmup": "cosine", "cosine with warmup": "cosine",
    "step decay": "step", "multistep": "step", "piecewise constant": "step",
    "cosine with warm restarts": "sgdr", "warm restarts": "sgdr", "cosine with restarts": "sgdr",
    "cyclic": "triangular", "cyclical": "triangular", "triangular2": "triangular", "clr": "triangular",
    "warmup-stable-decay": "wsd", "trapezoidal": "wsd",
    "inverse sqrt": "inverse-sqrt", "inverse_sqrt": "inverse-sqrt", "1/sqrt(t)": "inverse-sqrt",
    "1/sqrt t": "inverse-sqrt", "rsqrt": "inverse-sqrt",
    "inverse time": "1/t", "1/(t+1)": "1/t", "harmonic": "1/t",
    "poly": "polynomial", "polynomial decay": "polynomial",
    "exp": "exponential", "exponential decay": "exponential",
}

#: The widest figure (inches) that the book's text column (about 660 px at 1280 px)
#: shows without shrinking it by more than a few per cent.
MAX_WIDTH = 6.8

STYLE = {
    "figure.figsize": (6.4, 3.4),
    "figure.dpi": 100,
    "savefig.dpi": 200,  # for raster parts (rasterized=True) inside the SVG
    "savefig.bbox": "tight",
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.edgecolor": "none",
    "lines.linewidth": 1.8,
    "font.size": 11,
    "svg.fonttype": "path",  # the same glyphs in every browser
    "svg.hashsalt": "lrnotes",  # reproducible SVG ids
}


def use_style(svg: bool = True) -> None:
    """Apply the house style to every figure drawn after this call.

    With ``svg=True`` (the default) inline figures in Jupyter and in the book are SVG,
    sharp on any screen; outside IPython this only sets the rcParams.
    """
    mpl.rcParams.update(STYLE)
    if svg:
        try:
            from IPython import get_ipython
            from matplotlib_inline.backend_inline import set_matplotlib_formats
        except ImportError:  # pragma: no cover - plain Python without IPython
            return
        if get_ipython() is not None:
            set_matplotlib_formats("svg")


def check_width(fig) -> None:
    """Raise ``ValueError`` if ``fig`` is wider than the text column (:data:`MAX_WIDTH`).

    A wider figure is shrunk by the browser, and its text with it.
    """
    width = float(fig.get_size_inches()[0])
    if width > MAX_WIDTH + 1e-9:
        raise ValueError(
            f"figure width must be <= {MAX_WIDTH} inches (the text column), got {width:g}: "
            "use fewer panels side by side"
        )


def _normalise(name: str) -> str:
    """Lower case, maths markup dropped ("$1/\\sqrt{t}$" -> "1/sqrt(t)"), spaces collapsed."""
    name = name.lower().replace("$", "").replace("\\", "").replace("{", "(").replace("}", ")")
    return " ".join(name.split())


def schedule_color(name: str) -> str:
    """The house colour of the schedule ``name`` (a hex string), the same in every figure.

    ``name`` is a key of :data:`SCHEDULE_COLORS` or one of :data:`SCHEDULE_ALIASES`, in
    any case; a qualifier in parentheses or after ``@`` is ignored ("step (3 stages)",
    "cosine @ 0.1").  Raises ``ValueError``, listing the known names, for any other.
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be a string, got {type(name).__name__}")
    key = _normalise(name)
    for candidate in (key, key.split(" @ ")[0].strip(), key.split(" (")[0].strip()):
        candidate = SCHEDULE_ALIASES.get(candidate, candidate)
        if candidate in SCHEDULE_COLORS:
            return SCHEDULE_COLORS[candidate]
    raise ValueError(f"name: unknown schedule {name!r}; known: {', '.join(SCHEDULE_COLORS)} "
                     "(or an alias in lrnotes.plotting.SCHEDULE_ALIASES)")


def schedule_colors(labels) -> dict[str, str]:
    """Colours for a figure's curves, ``{label: colour}``: a schedule's house colour
    (:func:`schedule_color`) where the label names one, and for the other labels the
    palette's colours in order, skipping those already taken, so that no two curves of
    the figure share a colour (while the palette lasts)."""
    labels = list(labels)
    out, taken = {}, set()
    for label in labels:
        try:
            out[label] = schedule_color(label)
        except ValueError:
            continue
        taken.add(out[label].lower())
    spare = [c for c in PALETTE + list(SCHEDULE_COLORS.values()) if c.lower() not in taken and c != "#F0E442"]
    spare = list(dict.fromkeys(spare))
    k = 0
    for label in labels:
        if label not in out:
            out[label] = spare[k % len(spare)]
            k += 1
    return out


def plot_schedules(
    schedules: Mapping[str, object] | Sequence[object],
    total: int | None = None,
    ax=None,
    *,
    log: bool = False,
    title: str | None = None,
    mark_restarts: bool = True,
):
    """Plot learning rate against step for one or more schedules.

    Parameters
    ----------
    schedules
        ``{label: schedule}`` or a list of schedules (labelled by their ``repr``). A label
        that names a schedule ("cosine", "WSD", ...) gets its house colour
        (:func:`schedule_color`); the others get distinct palette colours.
    total
        Number of steps to show; defaults to the largest ``.total`` among them.
    ax
        Axes to draw on; a new figure is made if omitted.
    log
        Logarithmic LR axis.
    mark_restarts
        Draw faint vertical lines at warm restarts.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if not isinstance(schedules, Mapping):
        schedules = {repr(s): s for s in schedules}
    if not schedules:
        raise ValueError("schedules must contain at least one schedule")
    if total is None:
        totals = [s.total for s in schedules.values() if getattr(s, "total", None)]
        if not totals:
            raise ValueError("total is required when no schedule has a budget (.total)")
        total = max(totals)
    if not isinstance(total, (int, np.integer)) or total < 1:
        raise ValueError(f"total must be an integer >= 1, got {total!r}")
    if ax is None:
        _, ax = plt.subplots()
    t = np.arange(total + 1)
    colors = schedule_colors(schedules)
    for label, sched in schedules.items():
        (line,) = ax.plot(t, sched(t), label=label, color=colors[label])
        if mark_restarts and hasattr(sched, "restart_steps"):
            for r in sched.restart_steps(total + 1):
                ax.axvline(r, color=line.get_color(), alpha=0.15, linewidth=1)
    ax.set_xlabel("step $t$")
    ax.set_ylabel("learning rate $\\eta_t$")
    if log:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend(loc="best")
    return ax


def plain_log(ax, axis: str = "y") -> None:
    """Put ``ax``'s ``axis`` ("x", "y" or "both") on a log scale with ticks at 1, 2 and
    5 × 10^k, labelled plainly (``0.02``, ``5``, ``100``), no minor labels: a loss axis
    a reader can read off without decoding ``10^{-1.3}``."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if axis not in ("x", "y", "both"):
        raise ValueError(f"axis must be 'x', 'y' or 'both', got {axis!r}")
    for name in ("x", "y") if axis == "both" else (axis,):
        getattr(ax, f"set_{name}scale")("log")
        ax_ = getattr(ax, f"{name}axis")
        ax_.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax_.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax_.set_minor_formatter(NullFormatter())
