"""The set-up files agree with each other, and every notebook follows the book's anatomy."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for d in ("chapters", "exercises") for p in (ROOT / d).rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)


def _name(req: str) -> str:
    return re.split(r"[\s<>=!~\[;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[_name(name)] = version.strip()
    return pins


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_environment_yml_matches_pyproject_and_constraints():
    project = _pyproject()
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra if not r.startswith("lrnotes")}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_name(r): r.split("==")[1] for r in pip_section if "==" in r}
    assert set(listed) == wanted, (
        f"environment.yml and pyproject.toml disagree: only in env {set(listed) - wanted}, "
        f"only in pyproject {wanted - set(listed)}"
    )
    pins = _pins(ROOT / "constraints.txt")
    for name, version in listed.items():
        assert pins.get(name) == version, f"{name}: environment.yml has {version}, constraints.txt {pins.get(name)}"
    assert "-e ." in pip_section


def test_constraints_pin_the_tested_stack():
    pins = _pins(ROOT / "constraints.txt")
    assert pins["torch"] == "2.13.0"
    assert pins["jupyter-book"].startswith("1.")
    for name in ("sphinx-proof", "sphinx-exercise", "nbval", "hypothesis", "playwright", "sympy"):
        assert name in pins, name


def test_lrnotes_torch_requirement_stays_loose():
    torch_req = next(r for r in _pyproject()["dependencies"] if _name(r) == "torch")
    assert "==" not in torch_req and "<" not in torch_req, torch_req


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make \w+", quick, flags=re.M)
    assert commands == ["make book", "make test"], commands
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), flags=re.M)


def _toc_files() -> set[str]:
    from lrnotes.book_exec import toc_files

    return set(toc_files(ROOT))


def test_every_chapter_notebook_is_in_the_toc():
    toc = _toc_files()
    for nb in NOTEBOOKS:
        rel = nb.relative_to(ROOT).with_suffix("").as_posix()
        if rel.startswith("exercises/solutions/"):
            continue
        assert rel in toc, f"{rel} is not in _toc.yml"
    for entry in toc:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), f"_toc.yml names missing {entry}"


SETUP_LINES = [
    'if "google.colab" in sys.modules:',
    "rng = lrnotes.seed_everything(SEED)",
    "SCALE = lrnotes.scale()",
]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_anatomy(nb):
    data = json.loads(nb.read_text())
    cells = data["cells"]
    rel = nb.relative_to(ROOT).as_posix()
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    # the badge opens the reader's twin under notebooks/ (lrnotes.reader); a solution
    # notebook links to itself, which lrnotes.exercises turns into its student copy
    badge = f"https://colab.research.google.com/github/{repo}/blob/main/notebooks/{rel})"
    assert badge in "".join(cells[0]["source"]), f"{rel}: Colab badge missing or pointing elsewhere"
    setup = next(c for c in cells if c["cell_type"] == "code")
    src = "".join(setup["source"])
    for line in SETUP_LINES:
        assert line in src, f"{rel}: setup cell lacks {line!r}"
    assert f"git+https://github.com/{repo}" in src
    assert "hide-input" in setup.get("metadata", {}).get("tags", []), f"{rel}: setup cell not hidden"
    for c in cells:
        if c["cell_type"] == "code":
            assert not c.get("outputs") and c.get("execution_count") is None, f"{rel}: commit without outputs"
            assert not re.search(r"^\s*[!%]", "".join(c["source"]), flags=re.M), f"{rel}: shell/magic in a cell"
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    if rel.startswith("chapters/"):
        assert re.search(r"^\s*assert\b", code, flags=re.M), f"{rel}: no assert ties the numbers to the claims"


def test_glued_names_are_defined():
    """Every {glue} role in a notebook's prose names a value that notebook glues."""
    for nb in NOTEBOOKS:
        data = json.loads(nb.read_text())
        md = "\n".join("".join(c["source"]) for c in data["cells"] if c["cell_type"] == "markdown")
        code = "\n".join("".join(c["source"]) for c in data["cells"] if c["cell_type"] == "code")
        used = {m.split(":")[0] for m in re.findall(r"\{glue:?\w*\}`([^`]+)`", md)}
        defined = set(re.findall(r"glue\(\s*f?[\"']([^\"']+)[\"']", code))
        defined_f = [d for d in defined if "{" in d]
        missing = {u for u in used if u not in defined and not any(re.fullmatch(re.sub(r"\{[^}]*\}", ".+", d), u) for d in defined_f)}
        assert not missing, f"{nb.relative_to(ROOT)}: glued in prose but never glued in code: {missing}"


def test_one_run_recipe_everywhere():
    """README, the prerequisites page and the exercises page give the same way to run."""
    recipe = (ROOT / "chapters" / "00-front" / "run-recipe.md").read_text().strip()
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- run-recipe", 1)[1].split("-->", 1)[1].split("<!-- end run-recipe -->", 1)[0]
    assert block.strip() == recipe, "README's run recipe differs from chapters/00-front/run-recipe.md"
    for page in ("chapters/00-front/prerequisites.md", "exercises/index.md", "intro.md"):
        text = (ROOT / page).read_text()
        assert re.search(r"```\{include\}\s+\S*run-recipe\.md", text), f"{page} does not include the run recipe"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab: setup$", makefile, flags=re.M), "the recipe's `make lab` target is missing"


def test_citation_agrees_with_the_book():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    about = (ROOT / "chapters" / "appendix" / "about.md").read_text()
    assert cff["title"] == config["title"]
    assert cff["url"] == config["repository"]["url"] and cff["url"] in about
    assert cff["version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f"version   = {{{cff['version']}}}" in about
    licence = (ROOT / "LICENSE").read_text()
    assert "MIT License" in licence and "CC BY 4.0" in licence and _pyproject()["license"]["text"] == "MIT"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_figure_cells_have_caption_name_and_alt(nb):
    """A cell that declares a figure gives it a caption, a label and alt text, where
    myst-nb reads them (metadata.mystnb.figure / metadata.mystnb.image)."""
    for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
        md = cell.get("metadata", {})
        assert "image" not in md and "figure" not in md, f"cell {i}: put image/figure under metadata.mystnb"
        fig = md.get("mystnb", {}).get("figure")
        if fig is None:
            continue
        assert len(fig.get("caption", "")) >= 10, f"cell {i}: figure without a caption"
        assert re.fullmatch(r"fig-[A-Za-z0-9-]+", fig.get("name", "")), f"cell {i}: figure name {fig.get('name')!r}"
        alt = md["mystnb"].get("image", {}).get("alt", "")
        assert len(alt) >= 15, f"cell {i}: figure {fig['name']} has no alt text saying what it shows"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_titles_have_no_maths(nb):
    """Page titles also appear in the sidebar of every page, where MathJax may not be loaded."""
    title = "".join(json.loads(nb.read_text())["cells"][0]["source"]).split("\n", 1)[0]
    assert "$" not in title, f"{title!r}: write maths in a title with Unicode (β₁), not $...$"


def _numbered_chapter_indexes() -> list[Path]:
    """The first file of each chapter in a ``numbered: true`` part of _toc.yml."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    found = []
    for part in toc["parts"]:
        if part.get("numbered"):
            for chapter in part["chapters"]:
                found.extend(p for p in (ROOT / f"{chapter['file']}{ext}" for ext in (".md", ".ipynb")) if p.exists())
    return found


def _markdown_outside_fences(text: str) -> str:
    kept, fence = [], None
    for line in text.splitlines():
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if m and fence is None:
            fence = m.group(1)
        elif m and fence is not None and m.group(1).startswith(fence[0]) and len(m.group(1)) >= len(fence):
            fence = None
        elif fence is None:
            kept.append(line)
    return "\n".join(kept)


def test_first_page_of_each_chapter_is_numbered_n_1():
    """Sphinx numbers a chapter page's own sections before the pages of its toctree, so
    any ``##`` heading in a chapter's index page would push its first page from N.1 to
    N.2 (chapter 1 once started at 1.4). Index pages have one title and no sections:
    write sub-headings as ``{rubric}`` or bold paragraphs."""
    indexes = _numbered_chapter_indexes()
    assert len(indexes) >= 6, indexes
    for page in indexes:
        text = page.read_text()
        if page.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "markdown")
        headings = re.findall(r"^#{2,6}\s+.*$", _markdown_outside_fences(text), flags=re.M)
        assert not headings, f"{page.relative_to(ROOT)}: a chapter index page has section headings {headings}"


#: Places where a bare "§" is fine, as (file, the text around it). Keep this short.
BARE_SECTION_SIGN_OK: set[tuple[str, str]] = set()


def _prose_pages():
    """(relative path, markdown text) for every page a reader sees, and the errata data."""
    for nb in NOTEBOOKS:
        rel = nb.relative_to(ROOT).as_posix()
        if rel.startswith("exercises/") and not rel.startswith("exercises/solutions/"):
            continue  # generated from the solutions
        cells = json.loads(nb.read_text())["cells"]
        yield rel, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    for md in sorted((ROOT / "chapters").rglob("*.md")) + [ROOT / "intro.md", ROOT / "exercises" / "index.md"]:
        yield md.relative_to(ROOT).as_posix(), md.read_text()
    yield "lrnotes/_data/errata.yml", (ROOT / "lrnotes" / "_data" / "errata.yml").read_text()


def test_sections_of_a_source_are_named_as_the_sources():
    """"§6.2" alone reads like the book's own section 6.2. A section of a source is
    always written "source §6.2", "the source's §6.2" (several: "source §§4.3 and 5.1")."""
    bad = []
    for rel, text in _prose_pages():
        for m in re.finditer(r"§+", text):
            before = text[max(0, m.start() - 40):m.start()]
            if re.search(r"\b[Ss]ource(?:'s)? $", before):
                continue
            around = text[max(0, m.start() - 30):m.end() + 10].replace("\n", " ")
            if (rel, around) not in BARE_SECTION_SIGN_OK:
                bad.append(f"{rel}: ...{around}...")
    assert not bad, "write 'source §N' for a section of a source:\n" + "\n".join(bad)
