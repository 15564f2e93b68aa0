"""One house style for every figure in the book, and schedule previews.

``use_style()`` sets matplotlib's rcParams once per notebook and switches inline figures
to SVG, so that they stay sharp at any zoom; ``plot_schedules`` previews any set of
schedules over a budget (plot a schedule before training with it).

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
        ``{label: schedule}`` or a list of schedules (labelled by their ``repr``).
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
    for label, sched in schedules.items():
        (line,) = ax.plot(t, sched(t), label=label)
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
