"""lrnotes.nb: the prose number format and the table helper."""

import numpy as np
import pytest

from lrnotes.nb import Text, markdown_table, sci


@pytest.mark.parametrize("x, digits, expected", [
    (4.93e-14, 2, "4.9 × 10⁻¹⁴"),
    (1e-6, 1, "10⁻⁶"),
    (-3.2e-5, 2, "-3.2 × 10⁻⁵"),
    (12_345_678, 3, "1.23 × 10⁷"),
    (0.0123, 2, "0.012"),
    (1234.5, 2, "1,234"),
    (0.5, 2, "0.50"),
    (0, 2, "0"),
])
def test_sci_formats_like_the_prose(x, digits, expected):
    from myst_nb.core.variables import format_plain_text

    out = sci(x, digits)
    assert out == expected and isinstance(out, Text)
    # what {glue:text} shows: the glued repr, read back by myst-nb (no quotes, no tuple)
    assert format_plain_text(repr(out), "") == expected


def test_glued_text_with_commas_stays_text():
    from myst_nb.core.variables import format_plain_text

    assert format_plain_text(repr(Text("50, 150, 350")), "") == "50, 150, 350"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "1e-3", None, True])
def test_sci_rejects_non_numbers(bad):
    with pytest.raises(ValueError, match="x must be a finite real number"):
        sci(bad)


def test_sci_rejects_bad_digits():
    with pytest.raises(ValueError, match="digits must be an integer >= 1"):
        sci(1.0, 0)


def test_markdown_table():
    md = markdown_table([("a|b", "$x^2$", 3)], ["name", "maths", "n"])
    assert md.splitlines() == ["| name | maths | n |", "|:---|---:|---:|", "| a\\|b | $x^2$ | 3 |"]
    with pytest.raises(ValueError, match="every row must have 2 cells"):
        markdown_table([(1,)], ["a", "b"])
    with pytest.raises(ValueError, match="align must be 2 characters"):
        markdown_table([(1, 2)], ["a", "b"], align="lx")


def test_captioned_table_has_a_numbered_myst_table_and_an_html_table():
    from lrnotes.nb import captioned_table

    bundle = captioned_table([("a<b", "$x^2$", 3)], ["name", "maths", "n"],
                             caption="Final losses, mean over seeds", name="tbl-final-losses")
    assert set(bundle) == {"text/markdown", "text/html"}
    md = bundle["text/markdown"].splitlines()
    assert md[:3] == [":::{table} Final losses, mean over seeds", ":name: tbl-final-losses", ""]
    assert md[3:-1] == markdown_table([("a<b", "$x^2$", 3)], ["name", "maths", "n"]).splitlines()
    assert md[-1] == ":::"
    html = bundle["text/html"]
    assert html.startswith('<table id="tbl-final-losses">')
    assert "<caption>" not in html   # the reader's notebooks caption it in a cell (_ext.reader)
    from lrnotes.nb import html_table as nb_html_table
    assert "<code>x</code> and <b>y</b>" in nb_html_table([("`x` and **y**",)], ["c"])
    assert "a&lt;b" in html and "$x^2$" in html and html.count("<tr>") == 2
    assert '<th style="text-align: left">name</th>' in html and '<td style="text-align: right">3</td>' in html
    no_name = captioned_table([(1,)], ["a"], caption="One")["text/markdown"]
    assert no_name.splitlines()[:2] == [":::{table} One", ""]


@pytest.mark.parametrize("kwargs, word", [
    ({"caption": ""}, "caption"), ({"caption": None, "name": "tbl-x"}, "caption"),
    ({"caption": "two\nlines"}, "caption"), ({"caption": 3}, "caption"),
    ({"caption": "ok", "name": "fig-x"}, "name"), ({"caption": "ok", "name": "tbl-a b"}, "name"),
    ({"caption": "ok", "name": "tbl-"}, "name"),
])
def test_captioned_table_validates_its_arguments(kwargs, word):
    from lrnotes.nb import captioned_table, table

    with pytest.raises(ValueError, match=rf"^{word} "):
        captioned_table([(1,)], ["a"], **kwargs)
    with pytest.raises(ValueError, match=rf"^{word} "):
        table([(1,)], ["a"], **kwargs)


def test_table_displays_one_output_with_both_representations(monkeypatch):
    import IPython.display

    from lrnotes.nb import table

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append((a, k)))
    table([(1, 2)], ["a", "b"], caption="A caption", name="tbl-ab")
    (args, kwargs), = shown
    assert kwargs == {"raw": True} and set(args[0]) == {"text/markdown", "text/html"}
    shown.clear()
    table([(1, 2)], ["a", "b"])
    (args, kwargs), = shown
    assert isinstance(args[0], IPython.display.Markdown) and args[0].data.startswith("| a | b |")


def test_the_book_prefers_the_markdown_of_a_captioned_table():
    from pathlib import Path

    import yaml
    from myst_nb.core.render import get_mime_priority

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "_config.yml").read_text())
    overrides = config["sphinx"]["config"]["nb_mime_priority_overrides"]
    order = get_mime_priority("html", overrides)
    assert order.index("text/markdown") < order.index("text/html")
    # figures and plain HTML outputs are unaffected: HTML before images, images before text
    assert order.index("text/html") < order.index("image/svg+xml") < order.index("image/png") < order.index("text/plain")


def test_a_glued_figure_carries_svg_for_the_book_and_png_for_the_notebooks():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from IPython.core.formatters import DisplayFormatter

    from lrnotes.nb import _BothFormats, _is_figure

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1])
    assert _is_figure(fig) and not _is_figure([1])
    data, _ = DisplayFormatter().format(_BothFormats(fig))
    assert data["image/svg+xml"].lstrip().startswith("<?xml") and data["image/png"][:4] == b"\x89PNG"
    plt.close(fig)


# ------------------------------------------------------------ pm (was copied in 5 notebooks)
def test_pm_formats_mean_and_spread():
    from lrnotes.nb import pm

    assert pm([1.0, 2.0, 3.0]) == "2.0000 ± 1.0000"
    assert pm(np.array([[0.1, 0.2], [0.3, 0.4]]), ".2f") == "0.25 ± 0.13"
    assert pm([0.1, 0.2, 0.3], "+.3f", spread="se") == "+0.200 ± 0.058"  # the sign on the mean only
    for args, kwargs, match in [(([1.0],), {}, "at least 2"), (([1.0, np.inf],), {}, "finite"),
                                (([1.0, 2.0], "xyz"), {}, "fmt"), (([1.0, 2.0],), {"spread": "var"}, "spread")]:
        with pytest.raises(ValueError, match=match):
            pm(*args, **kwargs)


def test_doctests_of_nb_run():
    import doctest

    from lrnotes import nb

    assert doctest.testmod(nb, verbose=False).failed == 0
