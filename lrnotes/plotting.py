"""One house style for every figure in the book, and schedule previews.

``use_style()`` sets matplotlib's rcParams once per notebook; ``plot_schedules``
previews any set of schedules over a budget (plot a schedule before training with it).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

#: Okabe–Ito, a palette that stays distinct for colour-blind readers.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

STYLE = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "font.size": 10,
}


def use_style() -> None:
    """Apply the house style to every figure drawn after this call."""
    mpl.rcParams.update(STYLE)


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
