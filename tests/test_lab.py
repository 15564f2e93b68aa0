"""`make lab`, the README's one command for running the notebooks locally, really opens
JupyterLab on the reader's notebooks (started headless here, on a free local port); and in
a real JupyterLab driven through its UI in Chromium, a chapter notebook and an exercise
notebook run all their cells with no error, show no MyST markup, and keep their solutions
closed (screenshots in _build/artifacts/)."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lab_command() -> list[str]:
    """The command of the Makefile's ``lab`` recipe, with its variables filled in as make
    fills them (``ALLOW_ROOT`` is ``--allow-root`` for root, empty otherwise)."""
    recipe = re.search(r"^lab:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), flags=re.M).group(1)
    recipe = recipe.replace("$(BIN)", str(Path(sys.executable).parent)).replace("$(CURDIR)", str(ROOT))
    recipe = recipe.replace("$(ALLOW_ROOT)", "--allow-root" if os.geteuid() == 0 else "")
    return shlex.split(recipe)


def test_make_lab_allows_root_only_for_root():
    make = (ROOT / "Makefile").read_text()
    assert "ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)" in make
    assert "$(ALLOW_ROOT)" in re.search(r"^lab:.*\n\t(.+)$", make, flags=re.M).group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_make_lab_serves_the_notebooks(tmp_path):
    cmd = _lab_command()
    assert cmd[0].endswith("/jupyter") and cmd[1] == "lab", cmd
    port = _free_port()
    cmd += ["--no-browser", f"--port={port}", "--IdentityProvider.token=lrnotes-test", "--ServerApp.ip=127.0.0.1"]
    env = {"JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTER_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        listing = None
        for _ in range(120):
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{base}/api/contents/?token=lrnotes-test", timeout=2) as r:
                    listing = json.load(r)
                break
            except OSError:
                time.sleep(0.5)
        assert listing is not None, f"JupyterLab did not start:\n{proc.stdout.read() if proc.poll() is not None else ''}"
        names = {item["name"] for item in listing["content"]}
        assert names >= {"chapters", "exercises"}, names   # the root is notebooks/
        with urllib.request.urlopen(f"{base}/lab?token=lrnotes-test", timeout=10) as r:
            assert r.status == 200 and "JupyterLab" in r.read().decode()
    finally:
        _stop(proc)


# ------------------------------------------------------------------ a real JupyterLab, in Chromium
LAB_NOTEBOOKS = ["chapters/01-principles/01-schedule-gallery.ipynb", "exercises/1-1-build-a-schedule.ipynb"]
RAW = ("{glue", "{doc}", "{eq}", "{numref}", "{prf:", "{cite}", "{exercise}", "{solution}",
       ":::", ":label:", ":nonumber:", ":class:")
ARTIFACTS = ROOT / "_build" / "artifacts"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    port = _free_port()
    cmd = _lab_command() + ["--no-browser", f"--port={port}", "--IdentityProvider.token=lrnotes-test",
                            "--ServerApp.ip=127.0.0.1"]
    env = {"JUPYTER_CONFIG_DIR": str(tmp / "cfg"), "JUPYTER_RUNTIME_DIR": str(tmp / "rt"),
           "JUPYTER_DATA_DIR": str(tmp / "data"), "HOME": str(tmp), "PATH": "/usr/bin:/bin",
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    # a copy of notebooks/, so that running the notebooks (and Lab's autosave) leaves the
    # committed ones as they are
    work = tmp / "notebooks"
    for rel in LAB_NOTEBOOKS:
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_bytes((ROOT / "notebooks" / rel).read_bytes())
    cmd = [c.replace(str(ROOT / "notebooks"), str(work)) for c in cmd]
    # every cell in the page (Lab 4 otherwise renders only the cells in view), and no
    # news pop-up over the notebook
    settings = tmp / "settings"
    for ext, name, value in (("@jupyterlab/notebook-extension", "tracker", {"windowingMode": "none"}),
                             ("@jupyterlab/apputils-extension", "notification", {"fetchNews": "false"})):
        (settings / ext).mkdir(parents=True, exist_ok=True)
        (settings / ext / f"{name}.jupyterlab-settings").write_text(json.dumps(value))
    env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token=lrnotes-test", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"JupyterLab did not start:\n{proc.stdout.read()}")
                time.sleep(0.5)
        yield base
    finally:
        _stop(proc)


@pytest.mark.book
@pytest.mark.parametrize("rel", LAB_NOTEBOOKS)
def test_notebook_runs_in_a_real_jupyterlab(lab, rel):
    from playwright.sync_api import sync_playwright

    from tests.test_book import _chromium

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / ("lab-" + Path(rel).stem)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(),
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{lab}/lab/tree/{rel}?token=lrnotes-test&reset")
        page.wait_for_selector(".jp-Notebook .jp-MarkdownOutput", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        page.screenshot(path=f"{shot}-opened.png")
        n_code = page.locator(".jp-Notebook .jp-CodeCell").count()
        assert n_code > 3
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
        error = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error'],"
                             " .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                             ":has-text('Traceback')")
        deadline = time.time() + 240
        while time.time() < deadline:
            # the cells run in order, from 1: the last one has run when a prompt shows
            # n_code (prompts of collapsed cells are blank) and nothing is queued
            assert not error.count(), f"{rel}: an error during Run All: {error.all_inner_texts()[:1]}"
            prompts = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").all_inner_texts()
            numbers = {i + 1: int(m[0]) for i, t in enumerate(prompts) if (m := re.findall(r"\[(\d+)\]", t))}
            # a collapsed (hidden) cell shows no prompt: the run is over when the last
            # shown prompt is its own position, nothing is queued and the kernel is idle
            last = max(numbers, default=0)
            idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
            if last and numbers[last] == last and not any("*" in t for t in prompts) \
                    and (last == n_code or idle):
                break
            time.sleep(1)
        else:
            pytest.fail(f"{rel}: not every cell ran in 240 s: {prompts}")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        assert not error.count(), f"{rel}: errors after Run All: {error.all_inner_texts()[:2]}"
        shown = "\n".join(page.locator(".jp-Notebook .jp-MarkdownOutput").all_text_contents())
        assert len(shown) > 500
        left = [r for r in RAW if r in shown]
        assert not left, f"{rel}: raw MyST on screen: {left}"
        assert "{glue:text}" not in shown and not re.search(r"\{\w+\}`", shown)
        details = page.locator(".jp-Notebook .jp-MarkdownOutput details")
        if rel.startswith("exercises/"):
            assert details.count() >= 3
            assert all(not d.evaluate("el => el.open") for d in details.all()), "a solution box is open"
            first = details.first
            first.scroll_into_view_if_needed()
            assert not first.locator("pre, code").first.is_visible(), "solution code visible while closed"
            page.screenshot(path=f"{shot}-solution-closed.png")
            first.locator("summary").click()
            assert first.evaluate("el => el.open")
            page.screenshot(path=f"{shot}-solution-opened.png")
        else:
            figures = page.locator(".jp-Notebook .jp-RenderedImage img, .jp-Notebook .jp-RenderedSVG")
            assert figures.count() >= 3, "the figures did not appear"
            figures.first.scroll_into_view_if_needed()
            page.screenshot(path=f"{shot}-ran.png")
            tables = page.locator(".jp-Notebook .jp-OutputArea-output table")
            assert tables.count() >= 1, "the table did not appear"
            tables.first.scroll_into_view_if_needed()
            page.screenshot(path=f"{shot}-table.png")
        browser.close()
    assert not [e for e in errors if "lrnotes" in e], errors
