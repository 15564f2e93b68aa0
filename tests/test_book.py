"""The book: it builds with warnings as errors, fails on a notebook error, rebuilds from
cache quickly, and renders in a real headless browser (Debian's chromium + Playwright).

These tests are marked ``book``; ``make test`` runs them after the notebooks.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
JB = [str(Path(sys.executable).parent / "jupyter-book"), "build"]
FLAGS = ["-W", "-n", "--keep-going"]


def _build(path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    proc = subprocess.run(JB + [str(path), *FLAGS, *extra], capture_output=True, text=True, cwd=path)
    return proc, time.perf_counter() - start


@pytest.fixture(scope="module")
def built_book():
    proc, seconds = _build(ROOT)
    out = proc.stdout + proc.stderr
    print(f"\nbook build: {seconds:.0f} s")
    assert proc.returncode == 0, f"the book build failed:\n{out[-6000:]}"
    return out


def test_book_builds_with_warnings_as_errors(built_book):
    assert (HTML / "index.html").is_file()
    assert not re.search(r"WARNING: ", built_book), built_book[-4000:]  # Sphinx warnings (-W)


def test_warm_rebuild_is_fast_and_runs_no_notebook(built_book):
    proc, seconds = _build(ROOT)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "Executing notebook" not in out and "Executing:" not in out, out[-3000:]
    assert seconds <= 60, f"warm rebuild took {seconds:.0f} s"


def test_a_notebook_error_fails_the_build(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    for name in ("_config.yml", "references.bib"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "_ext", tmp_path / "_ext")  # the book's own extensions (local_extensions)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: broken\n")
    (tmp_path / "intro.md").write_text("# Intro\n\nA one-page book.\n")
    nb = new_notebook(cells=[new_markdown_cell("# Broken"), new_code_cell("raise RuntimeError('science broke')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "broken.ipynb")
    proc, _ = _build(tmp_path)
    assert proc.returncode != 0
    assert "science broke" in proc.stdout + proc.stderr


# ------------------------------------------------------------------ headless browser
def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.fail("chromium is missing; install Debian's package: apt-get install -y chromium")
    import fcntl

    # the book's tests run two at a time (make book-test): one installs, the other waits
    with open("/tmp/lrnotes-chromium.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not shutil.which("chromium"):
            subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, capture_output=True,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def site(built_book):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=_chromium(),
            # Playwright hides scrollbars in headless mode; a reader's browser shows them,
            # and the test of wide maths and tables checks that they are there.
            ignore_default_args=["--hide-scrollbars"],
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield b
        b.close()


def _pages() -> list[str]:
    """The book's pages (index.html is only a redirect to the root page)."""
    skip = {"genindex.html", "search.html", "index.html"}
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if "_static" not in p.parts and "_sources" not in p.parts and p.relative_to(HTML).as_posix() not in skip)


def _toc():
    """(pages, chapter_pages): every page named in _toc.yml, and the first page of each
    chapter (the landing page first), as paths relative to the built HTML."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages, firsts = [toc["root"] + ".html"], [toc["root"] + ".html"]

    def walk(entries, top):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"] + ".html")
                if top:
                    firsts.append(entry["file"] + ".html")
            walk(entry.get("sections"), False)

    for part in toc.get("parts", []):
        walk(part.get("chapters"), True)
    walk(toc.get("chapters"), True)
    return pages, firsts


WIDTHS = (1280, 390)  # a laptop, and a phone

# One measurement of a rendered page, in the browser (see the tests below for the rules).
_REPORT_JS = r"""
() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const aRect = article.getBoundingClientRect();
  const wide = [];
  const boxes = new Set();
  for (const el of article.querySelectorAll('mjx-container[display="true"], div.math, table')) {
    let box = el;
    if (el.tagName === 'TABLE') {
      box = el.closest('.pst-scrollable-table-container, div.cell_output div.output') || el;
    }
    if (boxes.has(box)) continue;
    boxes.add(box);
    const over = box.scrollWidth - box.clientWidth;
    const r = box.getBoundingClientRect();
    const style = getComputedStyle(box);
    const scrolls = ['auto', 'scroll'].includes(style.overflowX);
    const bar = box.offsetHeight - box.clientHeight;   // a classic (visible) scrollbar takes room
    const label = (el.tagName === 'TABLE' ? 'table: ' : 'maths: ') + el.textContent.trim().replace(/\s+/g, ' ').slice(0, 60);
    if (over > 1 || r.right > aRect.right + 1) wide.push({label, over, scrolls, bar, outside: r.right - aRect.right});
  }
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, .highlight, mjx-container, script, style, .cell_input').forEach(n => n.remove());
  const text = clone.textContent;
  const raw = [];
  const pipe = text.match(/\|\s*:?-{3,}/);
  if (pipe) raw.push(pipe[0]);
  const dollar = text.match(/\$[^$\s][^$]{0,80}\$/);
  if (dollar) raw.push(dollar[0]);
  if (/\{(glue|numref|doc|eq|prf:ref|cite)[^}]*\}`/.test(text)) raw.push('an unprocessed MyST role');
  const figures = [];
  for (const img of article.querySelectorAll('img')) {
    if (img.src.includes('colab-badge') || img.closest('.sd-card, header, nav')) continue;
    const fig = img.closest('figure');
    const cap = fig && fig.querySelector('figcaption') ? fig.querySelector('figcaption').textContent.trim() : '';
    figures.push({src: img.src.split('/').pop(), alt: img.alt || '', caption: cap,
                  shown: img.getBoundingClientRect().width, natural: img.naturalWidth});
  }
  return {wide, raw, figures, pageWidth: document.documentElement.scrollWidth,
          viewport: window.innerWidth};
}
"""


@pytest.fixture(scope="module")
def rendered(browser, site):
    """Visit every page in _toc.yml at both widths; measure it; screenshot chapter openers."""
    pages, firsts = _toc()
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    result = {"pages": pages, "reports": {}, "errors": [], "outside": set(), "status": {},
              "typeset": {}, "shots": []}
    page = browser.new_page(viewport={"width": WIDTHS[0], "height": 900})
    page.set_default_timeout(120_000)  # a long page of maths takes a while on two cores

    def offline(route):  # the book must work without a network: block and record the rest
        url = route.request.url
        if url.startswith(site) or url.startswith("data:"):
            return route.continue_()
        result["outside"].add(url)
        return route.abort()

    page.route("**/*", offline)
    current = [""]
    page.on("pageerror", lambda err: result["errors"].append(f"{current[0]}: JavaScript error {err}"))
    for rel in pages:
        current[0] = rel
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        resp = page.goto(site + rel, wait_until="load")
        result["status"][rel] = None if resp is None else resp.status
        if resp is None or resp.status != 200:
            continue
        formulas = page.locator(".math").count()
        typeset, error = 0, None
        if formulas:
            try:  # MathJax's own promise resolves when the whole page is typeset
                typeset = page.evaluate(
                    "() => window.MathJax.startup.promise.then("
                    "() => document.querySelectorAll('mjx-container').length)")
            except Exception as err:  # noqa: BLE001 - reported by the test below
                error = str(err)
        result["typeset"][rel] = (typeset, formulas, page.locator("mjx-merror").count(), error)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(150)  # let the layout settle
            result["reports"][(rel, width)] = page.evaluate(_REPORT_JS)
            if rel in firsts:
                name = shots / f"{rel.replace('/', '_').removesuffix('.html')}_{width}.png"
                page.screenshot(path=str(name), full_page=False)
                result["shots"].append(name)
    page.close()
    return result


def test_every_toc_page_loads_at_both_widths(rendered):
    pages = rendered["pages"]
    assert "intro.html" in pages and len(pages) >= 4
    bad = [f"{rel}: HTTP {code}" for rel, code in rendered["status"].items() if code != 200]
    assert not bad, "\n".join(bad)
    assert set(rendered["reports"]) == {(rel, w) for rel in pages for w in WIDTHS}
    sideways = [f"{rel} at {w} px: the page is {r['pageWidth']} px wide"
                for (rel, w), r in rendered["reports"].items() if r["pageWidth"] > r["viewport"] + 1]
    assert not sideways, "the page itself scrolls sideways:\n" + "\n".join(sideways)


def test_maths_is_typeset_and_pages_run_without_errors(rendered):
    problems = list(rendered["errors"])
    for rel, (typeset, formulas, merror, error) in rendered["typeset"].items():
        if error:
            problems.append(f"{rel}: MathJax did not start ({error})")
        elif typeset < formulas:
            problems.append(f"{rel}: MathJax typeset {typeset} of {formulas} formulas")
        if merror:
            problems.append(f"{rel}: MathJax reports {merror} TeX error(s)")
    assert not problems, "\n".join(problems)


def test_no_request_leaves_localhost(rendered):
    assert not rendered["outside"], "the book needs the network for:\n" + "\n".join(sorted(rendered["outside"]))


def test_wide_maths_and_tables_fit_or_scroll_visibly(rendered):
    """At 1280 px nothing is wider than the column; on a phone, what is wider scrolls
    inside its own box with a scrollbar that is always shown."""
    problems = []
    for (rel, width), report in rendered["reports"].items():
        for item in report["wide"]:
            where = f"{rel} at {width} px, {item['label']!r}"
            if width >= 1000:
                problems.append(f"{where}: {item['over']} px wider than the column")
            elif item["outside"] > 1 or not item["scrolls"] or item["bar"] < 3:
                problems.append(f"{where}: cut off (scrolls={item['scrolls']}, scrollbar {item['bar']} px)")
    assert not problems, "\n".join(problems)


def test_no_raw_markdown_in_rendered_text(rendered):
    problems = [f"{rel}: {report['raw']}" for (rel, width), report in rendered["reports"].items()
                if width == WIDTHS[0] and report["raw"]]
    assert not problems, "raw markdown or maths shown as text:\n" + "\n".join(problems)


def test_every_figure_is_captioned_described_and_legible(rendered):
    problems = []
    n = 0
    for (rel, width), report in rendered["reports"].items():
        if width != WIDTHS[0]:
            continue
        for fig in report["figures"]:
            n += 1
            where = f"{rel}: {fig['src']}"
            if len(fig["caption"]) < 10:
                problems.append(f"{where}: no caption")
            alt = fig["alt"].strip()
            if len(alt) < 15 or re.search(r"\.(svg|png|jpe?g)$|_images/|^\.\./", alt):
                problems.append(f"{where}: alt text {alt!r} does not say what the figure shows")
            if fig["natural"] and fig["shown"] < 0.88 * fig["natural"]:
                problems.append(f"{where}: shrunk to {fig['shown']:.0f} of {fig['natural']} px "
                                f"(its text becomes too small; draw it at most 6.8 in wide)")
    assert n >= 3, "no figures found: the check would be empty"
    assert not problems, "\n".join(problems)


def test_screenshots_of_the_landing_page_and_every_chapter(rendered):
    _, firsts = _toc()
    assert len(rendered["shots"]) == len(firsts) * len(WIDTHS)
    for path in rendered["shots"]:
        assert path.is_file() and path.stat().st_size > 10_000, path


def test_figures_are_shown(browser, site):
    page = browser.new_page()
    page.goto(site, wait_until="load")  # index.html redirects to the root page
    page.wait_for_url("**/intro.html")
    page.goto(site + "chapters/01-principles/01-schedule-gallery.html", wait_until="load")
    sizes = page.evaluate("Array.from(document.querySelectorAll('img')).map(i => i.naturalWidth)")
    assert sum(w > 300 for w in sizes) >= 4, sizes  # the gallery's four figures
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "gallery.png"), full_page=False)
    # glued numbers landed in the prose (not the raw role)
    prose = " ".join(page.locator("main p").all_inner_texts())
    assert "{glue" not in prose
    assert re.search(r"largest relative\s+difference over [\d,]+ steps is \d\.\d × 10⁻[⁰¹²³⁴⁵⁶⁷⁸⁹]+", prose), prose[:2000]
    page.close()


def test_no_broken_internal_links():
    broken = []
    for rel in _pages():
        html = (HTML / rel).read_text(errors="ignore")
        base = "http://book/" + rel
        for href in re.findall(r'href="([^"]+)"', html):
            url = urlparse(urljoin(base, href))
            if url.netloc != "book" or not url.path:
                continue
            target = HTML / unquote(url.path.lstrip("/"))
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{rel} -> {href}")
    assert not broken, "\n".join(sorted(set(broken))[:50])


def test_launch_buttons_and_downloads_give_the_readers_notebook():
    """The badge, the rocket's Colab button and the .ipynb download all give the page's
    twin in notebooks/ (plain Markdown), not the MyST source."""
    rel = "chapters/01-principles/01-schedule-gallery"
    html = (HTML / f"{rel}.html").read_text()
    colab = set(re.findall(r"https://colab\.research\.google\.com/github/[^\"'\s)]+", html))
    assert colab == {f"https://colab.research.google.com/github/lrnotes/lr-schedules-book/blob/main/notebooks/{rel}.ipynb"}, colab
    assert html.count("colab.research.google.com/github/") >= 2   # the badge and the launch button
    download = HTML / "_sources" / f"{rel}.ipynb"
    assert download.read_bytes() == (ROOT / "notebooks" / f"{rel}.ipynb").read_bytes()
