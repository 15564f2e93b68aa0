"""Plain installs of the wheel (no ``-e``, no constraints file) in fresh virtual
environments: the core install (numpy only; ``lrnotes.schedules`` works, ``to_torch``
says how to get torch), and the ``notebooks`` extra as Colab's setup cell makes it, which
runs the errata notebook, one notebook of every chapter and one exercise notebook (the
reader's copies, from notebooks/) from a folder outside the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [  # the errata, one short notebook of each chapter, one exercise
    "chapters/appendix/errata.ipynb",
    "chapters/01-principles/01-schedule-gallery.ipynb",
    "chapters/02-variational/01-functional.ipynb",
    "chapters/03-identity/01-weighted-identity.ipynb",
    "chapters/04-experiments/01-quadratic.ipynb",
    "chapters/05-failure-modes/01-cliff.ipynb",
    "chapters/06-beyond/02-unknown-T.ipynb",
    "exercises/1-1-build-a-schedule.ipynb",
]
RUN = """
import sys, nbformat
from nbclient import NotebookClient
failed = []
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    except Exception as exc:
        failed.append(f"{path}: {exc}"[:3000])
    print("ran", path, flush=True)
print("\\n".join(failed) or "all ran")
sys.exit(1 if failed else 0)
"""


def _run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{cmd[:4]} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def _wheel(tmp: Path) -> Path:
    """Build the wheel from a copy of the package's files (the checkout stays clean)."""
    src = tmp / "src"
    listed = subprocess.run(["git", "ls-files", "lrnotes", "pyproject.toml", "README.md", "LICENSE"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in listed:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp / "dist"), str(src)])
    return next((tmp / "dist").glob("lrnotes-*.whl"))


def test_the_wheel_ships_every_file_the_package_reads(tmp_path):
    wheel = _wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    listed = subprocess.run(["git", "ls-files", "lrnotes"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    missing = [f for f in listed if f not in names]
    assert not missing, f"the wheel leaves out {missing} (pyproject.toml package-data)"


CORE = """
import sys, importlib.metadata as md
import lrnotes.schedules as S
deps = md.requires("lrnotes") or []
core = [r for r in deps if "extra ==" not in r]
print("core:", core)
assert [r.split(">")[0].split("=")[0].strip() for r in core] == ["numpy"], core
for mod in ("torch", "scipy", "matplotlib", "sympy", "sklearn", "yaml"):
    try:
        __import__(mod)
    except ImportError:
        pass
    else:
        raise AssertionError(mod + " is installed by the core install")
s = S.cosine(10, 0.1)
assert abs(float(s(0)) - 0.1) < 1e-12 and abs(float(s(10))) < 1e-12
try:
    S.to_torch(object(), s)
except ImportError as exc:
    assert "pip install torch" in str(exc), exc
    print("to_torch:", exc)
else:
    raise AssertionError("to_torch without torch raised nothing")
print("core ok")
"""


def _venv(tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_CONSTRAINT", "VIRTUAL_ENV", "PYTHON"))}
    return venv, str(venv / "bin" / "python"), env


def test_the_core_install_is_numpy_only_and_schedules_work(tmp_path):
    wheel = _wheel(tmp_path)
    venv, py, env = _venv(tmp_path)
    _run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)], env=env)
    out = _run([py, "-c", CORE], cwd=tmp_path, env=env).stdout
    assert "core ok" in out, out


def test_the_notebooks_extra_runs_the_notebooks_outside_the_repository(tmp_path):
    wheel = _wheel(tmp_path)
    venv, py, env = _venv(tmp_path)
    pip = [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # Colab brings its own torch; here that is the tested CPU build (a loose pin could
    # pull a multi-GB CUDA build). Everything else comes from lrnotes's `notebooks` extra.
    _run(pip + ["torch==2.13.0"], env=env)
    _run(pip + [f"lrnotes[notebooks] @ {wheel.as_uri()}", "nbclient", "ipykernel"], env=env)
    _run([py, "-m", "ipykernel", "install", "--prefix", str(venv), "--name", "python3"], env=env)
    work = tmp_path / "somewhere-else"
    for rel in NOTEBOOKS:
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "notebooks" / rel, work / rel)
    env["JUPYTER_PATH"] = str(venv / "share" / "jupyter")
    env["HOME"] = str(tmp_path)
    proc = subprocess.run([py, "-c", RUN, *NOTEBOOKS], cwd=work, capture_output=True, text=True, env=env,
                          timeout=1200)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "all ran" in proc.stdout
    check = _run([py, "-c", "import lrnotes, lrnotes.errata as e; print(lrnotes.__file__); print(sum(map(len, e.load().values())))"],
                 cwd=work, env=env)
    where, rows = check.stdout.split()
    assert str(venv) in where and str(ROOT) not in where, where   # the installed copy, not the checkout
    assert int(rows) > 10
