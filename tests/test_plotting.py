"""The house style: one colour per schedule in every figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lrnotes import plotting as P  # noqa: E402
from lrnotes import schedules as S  # noqa: E402


def test_every_schedule_has_its_own_colour():
    colours = [c.lower() for c in P.SCHEDULE_COLORS.values()]
    assert len(set(colours)) == len(colours)
    for name in ("constant", "step", "linear", "cosine", "sgdr", "triangular", "wsd", "inverse-sqrt", "1/t", "polynomial"):
        assert name in P.SCHEDULE_COLORS
    assert "#f0e442" not in colours  # the palette's yellow is too pale for a line
    for alias, name in P.SCHEDULE_ALIASES.items():
        assert name in P.SCHEDULE_COLORS, alias


@pytest.mark.parametrize("label, name", [
    ("cosine", "cosine"), ("Cosine", "cosine"), ("WSD", "wsd"), ("1/sqrt(t)", "inverse-sqrt"),
    (r"$1/\sqrt{t}$", "inverse-sqrt"), ("inverse sqrt", "inverse-sqrt"), ("step (3 stages, x0.1)", "step"),
    ("cosine @ 0.1", "cosine"), ("linear decay", "linear"), ("  constant ", "constant"),
])
def test_schedule_color_reads_the_books_labels(label, name):
    assert P.schedule_color(label) == P.SCHEDULE_COLORS[name]


@pytest.mark.parametrize("bad", ["adamw", "", "warmup + linear"])
def test_schedule_color_rejects_unknown_names_listing_the_known_ones(bad):
    with pytest.raises(ValueError, match=r"name: unknown schedule .*known: constant, linear, cosine"):
        P.schedule_color(bad)


def test_schedule_color_rejects_a_non_string():
    with pytest.raises(ValueError, match="name must be a string"):
        P.schedule_color(3)


def test_schedule_colors_keeps_the_house_colours_and_never_repeats_one():
    labels = ["linear", "warmup + linear", "cosine", "mystery", "WSD"]
    colours = P.schedule_colors(labels)
    assert list(colours) == labels or set(colours) == set(labels)
    assert colours["linear"] == P.SCHEDULE_COLORS["linear"] and colours["WSD"] == P.SCHEDULE_COLORS["wsd"]
    assert len({c.lower() for c in colours.values()}) == len(labels)


def test_plot_schedules_draws_each_schedule_in_its_colour():
    P.use_style(svg=False)
    ax = P.plot_schedules({"cosine": S.cosine(100, 1.0), "linear": S.linear(100, 1.0), "other": S.constant(0.5)})
    got = {line.get_label(): mcolors.to_hex(line.get_color()) for line in ax.get_lines()}
    assert got["cosine"] == P.SCHEDULE_COLORS["cosine"].lower()
    assert got["linear"] == P.SCHEDULE_COLORS["linear"].lower()
    assert got["other"] not in (got["cosine"], got["linear"])
    assert np.isclose(ax.get_lines()[0].get_ydata()[0], 1.0)
    plt.close("all")


def test_plain_log_labels_plainly_at_1_2_5():
    import matplotlib.pyplot as plt

    from lrnotes.plotting import plain_log

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [0.01, 0.3, 20])
    plain_log(ax)
    assert ax.get_yscale() == "log" and ax.get_xscale() == "linear"
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "0.02" in labels and "5" in labels and not any("10^" in t or "$" in t for t in labels)
    plain_log(ax, "both")
    assert ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="axis"):
        plain_log(ax, "z")
    plt.close(fig)
