"""`make lab`, the README's one command for running the notebooks locally, really opens
JupyterLab on the book's folder (started headless here, on a free local port)."""

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

ROOT = Path(__file__).resolve().parents[1]


def _lab_command() -> list[str]:
    """The command of the Makefile's ``lab`` recipe, with its variables filled in."""
    recipe = re.search(r"^lab:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), flags=re.M).group(1)
    recipe = recipe.replace("$(BIN)", str(Path(sys.executable).parent)).replace("$(CURDIR)", str(ROOT))
    return shlex.split(recipe)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_the_notebooks(tmp_path):
    cmd = _lab_command()
    assert cmd[0].endswith("/jupyter") and cmd[1] == "lab", cmd
    port = _free_port()
    cmd += ["--no-browser", f"--port={port}", "--IdentityProvider.token=lrnotes-test", "--ServerApp.ip=127.0.0.1"]
    if os.geteuid() == 0:  # CI containers run as root; Jupyter refuses that without this flag
        cmd.append("--allow-root")
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
                with urllib.request.urlopen(f"{base}/api/contents/chapters?token=lrnotes-test", timeout=2) as r:
                    listing = json.load(r)
                break
            except OSError:
                time.sleep(0.5)
        assert listing is not None, f"JupyterLab did not start:\n{proc.stdout.read() if proc.poll() is not None else ''}"
        names = {item["name"] for item in listing["content"]}
        assert "01-principles" in names, names
        with urllib.request.urlopen(f"{base}/lab?token=lrnotes-test", timeout=10) as r:
            assert r.status == 200 and "JupyterLab" in r.read().decode()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
