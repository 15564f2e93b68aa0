"""The reader's notebooks (notebooks/, what Colab and `make lab` open): no MyST left,
numbers and references filled in from the built book, solutions behind a click, in step
with the book's sources, and a reader's edits never overwritten."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat
import pytest

from _ext import reader as R
from _ext.book_exec import toc_notebooks

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / R.OUT_DIR
SOURCES = toc_notebooks(ROOT)
TWINS = sorted(OUT.rglob("*.ipynb"))


def _book() -> R.BookIndex:
    book = R.BookIndex(base_url="https://o.github.io/r/")
    book.titles.update({"chapters/a/p1": "First page", "chapters/a/p2": "Second page",
                        "chapters/appendix/references": "References"})
    book.labels.update({
        "fig-x": R.Reference("Fig. 1.2", "A figure", "chapters/a/p1", "fig-x"),
        "eq-y": R.Reference("(1.3)", "", "chapters/a/p1", "equation-eq-y"),
        "thm-z": R.Reference("Theorem 1.1", "Deep is sharp", "chapters/a/p1", "thm-z"),
        "sec-s": R.Reference("1.4", "A section", "chapters/a/p2", "sec-s"),
        "tbl-t": R.Reference("Table 1.5", "Sizes", "chapters/a/p1", "tbl-t"),
    })
    book.citations["k17"], book.citations_t["k17"] = "Keskar et al., 2017", "Keskar et al. (2017)"
    return book


def _ctx(**glue) -> R.Context:
    return R.Context(doc="chapters/a/p1", book=_book(),
                     glue={k: {"text/plain": repr(v)} for k, v in glue.items()})


def test_roles_become_numbers_and_links():
    ctx = _ctx(n=10000, x=0.123456, s="4.9 × 10⁻¹⁴")
    md = ("{glue:text}`n:,` walkers, {glue:text}`x:.2f`, {glue:text}`s`; see {doc}`p2`, "
          "{doc}`the other <p2>`, {eq}`eq-y`, {numref}`fig-x`, {numref}`Figure %s <fig-x>`, "
          "{prf:ref}`thm-z`, {ref}`sec-s`, {numref}`tbl-t` and {cite}`k17`.")
    out = R.convert_markdown(ctx, md)
    assert not R.raw_myst(out), out
    for piece in ('<span title="n">10,000</span>', '<span title="x">0.12</span>',
                  '<span title="s">4.9 × 10⁻¹⁴</span>',
                  "[Second page](https://o.github.io/r/chapters/a/p2.html)",
                  "[the other](https://o.github.io/r/chapters/a/p2.html)",
                  "[(1.3)](https://o.github.io/r/chapters/a/p1.html#equation-eq-y)",
                  "[Fig. 1.2](https://o.github.io/r/chapters/a/p1.html#fig-x)",
                  "[Figure 1.2](", "[Theorem 1.1 (Deep is sharp)](", "[A section](",
                  "[Table 1.5](", "([Keskar et al., 2017](https://o.github.io/r/chapters/appendix/references.html))"):
        assert piece in out, (piece, out)


def test_directives_become_boxes_and_solutions_stay_closed():
    ctx = _ctx()
    md = ("(sec-s)=\n## A section\n\n$$\nx = 1\n$$ (eq-y)\n\n% a comment\n"
          "```{prf:theorem} Deep is sharp\n:label: thm-z\n\nThe **left** well, {eq}`eq-y`.\n```\n\n"
          "```{prf:proof}\nBecause.\n```\n\n"
          "```{admonition} Erratum (source, §1)\n:class: warning\n:name: err-a\n\nWrong sign.\n```\n\n"
          "```{exercise} 1.1a: linear decay\n:label: ex-a\n:nonumber:\n\nWrite it.\n```\n\n"
          ":::{solution} ex-a\n:class: dropdown\n\nLike this:\n\n```python\nx = 1\n```\n:::\n")
    out = R.convert_markdown(ctx, md)
    assert not R.raw_myst(out), R.raw_myst(out)
    assert "\\tag{1.3}" in out and '<a id="sec-s"></a>' in out and "comment" not in out
    assert "**Theorem 1.1 (Deep is sharp).**" in out and "*Proof.* Because. ∎" in out
    assert "**Erratum (source, §1)**" in out and "Wrong sign." in out
    assert "**Exercise 1.1a: linear decay**" in out
    details = re.search(r"<details>\n<summary>(.*?)</summary>(.*?)</details>", out, re.S)
    assert details and "Exercise 1.1a: linear decay" in details.group(1)
    assert "```python\nx = 1\n```" in details.group(2) and "<details open" not in out


def test_a_folded_box_stays_folded_and_a_glued_svg_is_an_attachment():
    ctx = _ctx()
    ctx.glue["fig"] = {"image/svg+xml": "<svg/>", "text/plain": "<Figure>"}
    out = R.convert_markdown(ctx, "```{admonition} The answer\n:class: dropdown tip\n\nIt is 42.\n```\n\n"
                                  "```{glue:figure} fig\n:name: fig-x\n:alt: A line\n\nThe caption.\n```")
    assert out.startswith("<details>\n<summary><b>The answer</b>") and "It is 42.\n\n</details>" in out
    assert "![A line](attachment:fig.svg)" in out and "**Figure 1.2.** The caption." in out
    assert ctx.attachments == {"fig.svg": {"image/svg+xml": "PHN2Zy8+"}}   # base64, as Lab reads it


def test_a_numbered_table_gets_its_caption_after_the_cell():
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"),
                                         nbformat.v4.new_code_cell("table(rows, head, caption=c, name='tbl-t')")])
    done = copy.deepcopy(nb)
    done.cells[1].outputs = [nbformat.v4.new_output("display_data", data={
        "text/markdown": ":::{table} Sizes of $T$, see {numref}`fig-x`\n:name: tbl-t\n\n| a |\n|---|\n| 1 |\n:::",
        "text/html": "<table></table>"})]
    out = R.convert_notebook(_ctx(), nb, "notebooks/chapters/a/p1.ipynb", done)
    caption = out.cells[3].source   # title, the note, the code, then the caption
    assert caption.startswith('<a id="tbl-t"></a>**Table 1.5.** Sizes of $T$, see [Fig. 1.2]('), caption
    done.cells[1].source = "changed since the build"
    assert len(R.convert_notebook(_ctx(), nb, "x", done).cells) == 3   # no caption from a stale run


@pytest.mark.parametrize("md, words", [
    ("{glue:text}`nope`", "does not glue"),
    ("{numref}`fig-missing`", "no label 'fig-missing'"),
    ("{doc}`p9`", "not a page"),
    ("{cite}`nobody99`", "not in references.bib"),
    ("{download}`x.txt`", "no plain form"),
    ("```{mystery}\nx\n```", "no plain form"),
    (":::{exercise} never closed\n", "never closed"),
])
def test_what_cannot_be_converted_is_an_error_naming_it(md, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        R.convert_markdown(_ctx(), md)


def test_raw_myst_finds_every_kind_of_markup():
    for text in ("a {doc}`x` b", "```{note}", ":::{solution} ex", ":label: ex-1", "(lbl)=",
                 "$$ (eq-1)", "% comment", ":nonumber:"):
        assert R.raw_myst(text), text
    assert not R.raw_myst("a `code` and $x$, a [link](u) and <details>, 50 % off, a: b")


# ------------------------------------------------------------------ the committed twins

def test_every_book_notebook_has_a_reader_twin_and_no_orphans():
    wanted = {OUT / p.relative_to(ROOT) for p in SOURCES}
    assert wanted == set(TWINS), (f"missing {sorted(map(str, wanted - set(TWINS)))}; "
                                  f"orphans {sorted(map(str, set(TWINS) - wanted))}; run `make reader`")


@pytest.mark.parametrize("twin", TWINS, ids=lambda p: p.relative_to(OUT).as_posix())
def test_twin_has_no_myst_and_the_sources_code(twin):
    nb = nbformat.read(twin, as_version=4)
    source = nbformat.read(ROOT / twin.relative_to(OUT), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert not R.raw_myst(cell.source), (twin.name, R.raw_myst(cell.source), cell.source[:300])
    code = [c.source.removeprefix(R.HIDDEN_TITLE + "\n") for c in nb.cells if c.cell_type == "code"]
    want = [c.source for c in source.cells if c.cell_type == "code"
            and "remove-cell" not in c.get("metadata", {}).get("tags", [])]
    assert code == want, f"{twin}: code cells differ from the book's; run `make reader`"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    rel = twin.relative_to(ROOT).as_posix()
    assert f"/blob/main/{rel})" in nb.cells[0].source, f"{rel}: the Colab badge must open this notebook"
    hidden = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("jupyter", {}).get("source_hidden")]
    n_hidden = sum(bool({"hide-input", "remove-input"} & set(c.get("metadata", {}).get("tags", [])))
                   for c in source.cells if c.cell_type == "code")
    assert len(hidden) == n_hidden


def test_exercise_twins_hide_their_solutions():
    twins = [t for t in TWINS if t.parent.name == "exercises"]
    assert len(twins) >= 17
    for twin in twins:
        md = "\n".join(c.source for c in nbformat.read(twin, as_version=4).cells if c.cell_type == "markdown")
        opened = md.count("<details>")
        assert opened == md.count("</details>") and opened >= 1, twin.name
        assert "<details open" not in md
        # every code block of a solution sits inside a <details>
        outside = re.sub(r"<details>.*?</details>", "", md, flags=re.S)
        assert "```python" not in outside, f"{twin.name}: solution code outside <details>"


def test_nbconvert_html_shows_no_myst():
    """What a reader's browser gets: nbconvert's HTML export of every twin."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="classic")
    for twin in TWINS:
        html, _ = exporter.from_notebook_node(nbformat.read(twin, as_version=4))
        body = re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)
        text = re.sub(r"<[^>]+>", "", body)
        for bad in ("{glue", "{doc}", "{eq}", "{numref}", "{prf:", "{cite}", ":::", ":label:"):
            assert bad not in text, f"{twin.relative_to(ROOT)}: {bad!r} in the HTML export"


def test_an_edited_twin_is_never_overwritten(tmp_path):
    twin = TWINS[0]
    target = tmp_path / "t.ipynb"
    target.write_text(twin.read_text())
    assert R._state(target) == "generated"
    nb = json.loads(target.read_text())
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["source"] = "my own work = 42\n"
    target.write_text(json.dumps(nb))
    assert R._state(target) == "edited"
    target.write_text("not json")
    assert R._state(target) == "edited"
    assert R._state(tmp_path / "none.ipynb") == "missing"


# ------------------------------------------------------------------ against the built book

@pytest.mark.book
def test_twins_are_in_step_with_the_built_book(tmp_path):
    """Regenerate every twin from the sources, the build's HTML and its cache: the same
    text as committed, except glued values (timings differ from run to run)."""
    if not (ROOT / "_build" / "html" / "index.html").is_file():
        pytest.fail("no built book: tests/test_book.py builds it first (make book-test)")
    assert R.main(["--root", str(ROOT), "--out", str(tmp_path)]) == 0
    stale = []
    for twin in TWINS:
        fresh = tmp_path / twin.relative_to(OUT)
        if R.masked(fresh.read_text()) != R.masked(twin.read_text()):
            stale.append(twin.relative_to(ROOT).as_posix())
    assert not stale, f"out of date (run `make reader`): {stale}"
    # a twin a reader has worked in is kept, and said so
    mine = tmp_path / "exercises" / "1-1-build-a-schedule.ipynb"
    work = json.loads(mine.read_text())
    next(c for c in work["cells"] if c["cell_type"] == "code")["source"] = "answer = 42\n"
    mine.write_text(json.dumps(work))
    (tmp_path / "chapters" / "appendix" / "errata.ipynb").unlink()
    assert R.main(["--root", str(ROOT), "--out", str(tmp_path)]) == 0
    assert json.loads(mine.read_text()) == work
    assert (tmp_path / "chapters" / "appendix" / "errata.ipynb").is_file()   # a missing one comes back
