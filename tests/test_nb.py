"""lrnotes.nb: the prose number format and the table helper."""

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
