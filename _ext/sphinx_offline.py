"""Sphinx extension: the book works offline and looks like the book.

- MathJax: Jupyter Book 1 points MathJax at a CDN.  This extension copies MathJax 3 from
  the ``django-static-mathjax`` package (PyPI) into the build's ``_static/mathjax`` and
  points Sphinx's ``mathjax_path`` there.  The rendered book then shows its maths
  offline (in a classroom without internet, or in the headless-browser tests).
- The "Open in Colab" badge at the top of every notebook links to Colab (that needs a
  network, by nature), but its *image* is served from the build, not from Colab's site.
- ``lrnotes.css`` and ``lrnotes.js``: wide maths and tables scroll inside their box
  with a visible scrollbar, and the edge beyond which more content hides fades out;
  figures never exceed the column.
- Duplicated ``<script>`` tags (a Jupyter Book 1 / Sphinx bug) are dropped.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: The package's own static files (CSS, the Colab badge).
STATIC = Path(__file__).parent / "_static"
#: Where notebooks point their badge image; the build serves a copy instead.
COLAB_BADGE_URL = "https://colab.research.google.com/assets/colab-badge.svg"

#: What the TeX -> CommonHTML component loads; the rest of MathJax (SVG output,
#: speech, the "full" bundles) is left out to keep the build small.
_PARTS = ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2", "ui", "a11y", "adaptors")


def mathjax_source() -> Path:
    """The MathJax ``es5`` folder shipped by ``django-static-mathjax``."""
    try:
        import mathjax  # the import name of django-static-mathjax
    except ImportError as err:  # pragma: no cover - it is a pinned book dependency
        raise RuntimeError(
            "_ext.sphinx_offline needs the 'django-static-mathjax' package (pip install lrnotes[book])"
        ) from err
    src = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (src / "tex-chtml.js").is_file():
        raise RuntimeError(f"MathJax not found where expected: {src}")
    return src


def _config_inited(app, config):
    config.mathjax_path = "mathjax/tex-chtml.js"
    config.html_static_path.append(str(STATIC))  # lrnotes.css and the Colab badge


def _copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    src, dest = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in _PARTS:
        s, d = src / part, dest / part
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        else:
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s, d)


def _local_badge(app, exception):
    """Point every page's Colab badge image at the copy in ``_static`` (from :data:`STATIC`)."""
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    for page in Path(app.outdir).rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        if COLAB_BADGE_URL in html:
            rel = os.path.relpath(static / "colab-badge.svg", page.parent).replace(os.sep, "/")
            page.write_text(html.replace(COLAB_BADGE_URL, rel), encoding="utf-8")


def _reader_downloads(app, exception):
    """The page's ".ipynb" download button gives the reader's notebook (``notebooks/``,
    plain Markdown, see :mod:`_ext.reader`), the one Colab and ``make lab`` open,
    not the MyST source that only the book renders."""
    if exception is not None or app.builder.format != "html":
        return
    sources = Path(app.outdir) / "_sources"
    twins = Path(app.srcdir) / "notebooks"
    for twin in twins.rglob("*.ipynb"):
        target = sources / twin.relative_to(twins)
        if target.is_file():
            shutil.copy2(twin, target)


def _dedupe_scripts(app, env):
    """Avoid duplicated <script> tags.

    Jupyter Book 1 adds sphinx-thebe's inline config (``const THEBE_JS_URL = ...``)
    while the builder exists, so the builder holds it with filename ``None``; before
    writing, Sphinx adds every registered script again with filename ``''`` and its
    de-duplication (which keeps the first of equal entries) misses the pair.  A
    repeated ``const`` is a JavaScript error on every page.  Giving the builder's
    inline scripts the filename ``''`` lets Sphinx drop the copies, order unchanged.
    """
    scripts = getattr(app.builder, "_js_files", None)
    if scripts is None:
        return
    scripts[:] = [
        type(js)("", priority=js.priority, **js.attributes) if js.filename is None else js for js in scripts
    ]


def setup(app):
    app.connect("config-inited", _config_inited, priority=900)
    app.add_css_file("lrnotes.css")
    app.add_js_file("lrnotes.js", loading_method="defer")
    app.connect("build-finished", _local_badge)
    app.connect("env-updated", _dedupe_scripts)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _reader_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
