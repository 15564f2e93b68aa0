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


def test_every_page_renders(browser, site):
    pages = _pages()
    assert "intro.html" in pages and len(pages) >= 4
    problems, outside = [], set()
    page = browser.new_page()
    page.set_default_timeout(120_000)  # a long page of maths takes a while on two cores

    def offline(route):  # the book must work without a network: block and record the rest
        if route.request.url.startswith(site):
            return route.continue_()
        if route.request.resource_type in ("script", "stylesheet", "font", "xhr", "fetch"):
            outside.add(route.request.url)
        return route.abort()

    page.route("**/*", offline)
    errors, current = [], [""]
    page.on("pageerror", lambda err: errors.append(f"{current[0]}: JavaScript error {err}"))
    for rel in pages:
        current[0] = rel
        resp = page.goto(site + rel, wait_until="load")
        if resp is None or resp.status != 200:
            problems.append(f"{rel}: HTTP {None if resp is None else resp.status}")
            continue
        html = page.content()
        if 'class="math' in html:  # the page has maths: MathJax must have typeset all of it
            try:  # MathJax's own promise resolves when the whole page is typeset
                typeset = page.evaluate(
                    "() => window.MathJax.startup.promise.then("
                    "() => document.querySelectorAll('mjx-container').length)")
            except Exception as err:
                typeset, _ = 0, problems.append(f"{rel}: MathJax did not start ({err})")
            formulas = page.locator(".math").count()
            if typeset < formulas:
                problems.append(f"{rel}: MathJax typeset {typeset} of {formulas} formulas")
            if page.locator("mjx-merror").count():
                problems.append(f"{rel}: MathJax reports a TeX error")
        broken = page.evaluate(
            "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
        broken = [src for src in broken if src.startswith(site)]
        if broken:
            problems.append(f"{rel}: images that do not load: {broken}")
    page.close()
    problems += errors
    problems += [f"needs the network for {url}" for url in sorted(outside)]
    assert not problems, "\n".join(problems)


def test_figures_are_shown(browser, site):
    page = browser.new_page()
    page.goto(site, wait_until="load")  # index.html redirects to the root page
    page.wait_for_url("**/intro.html")
    page.goto(site + "chapters/01-principles/01-schedule-gallery.html", wait_until="load")
    sizes = page.evaluate("Array.from(document.querySelectorAll('img')).map(i => i.naturalWidth)")
    assert sum(w > 300 for w in sizes) >= 3, sizes  # the gallery's three figures
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "gallery.png"), full_page=False)
    # glued numbers landed in the prose (not the raw role)
    prose = " ".join(page.locator("main p").all_inner_texts())
    assert "{glue" not in prose
    assert re.search(r"largest relative\s+difference over \d+ steps is \d\.\de-\d+", prose), prose[:2000]
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


def test_launch_buttons_point_to_colab():
    html = (HTML / "chapters" / "01-principles" / "01-schedule-gallery.html").read_text()
    assert "colab.research.google.com/github/lrnotes/lr-schedules-book/blob/main/" in html
