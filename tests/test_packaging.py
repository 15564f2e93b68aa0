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
    torch_req = next(r for r in _pyproject()["optional-dependencies"]["notebooks"] if _name(r) == "torch")
    assert "==" not in torch_req and "<" not in torch_req, torch_req


def test_the_core_install_is_numpy_only_and_the_extras_bring_the_rest():
    project = _pyproject()
    assert [_name(r) for r in project["dependencies"]] == ["numpy"]
    extras = project["optional-dependencies"]
    assert {_name(r) for r in extras["notebooks"]} == {
        "torch", "scipy", "matplotlib", "sympy", "scikit-learn", "schedulefree", "tqdm", "pyyaml", "cloudpickle"}
    for name in ("book", "test"):
        assert "lrnotes[notebooks]" in extras[name], name


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make \w+", quick, flags=re.M)
    assert commands == ["make book", "make test"], commands
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), flags=re.M)


def _toc_files() -> set[str]:
    from _ext.book_exec import toc_files

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
    # the badge opens the reader's twin under notebooks/ (_ext.reader); a solution
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


# --- Tables: each one numbered and captioned, and the prose refers to it by number ----

#: The notebooks whose code the book shows: chapters and solutions (the student copies
#: under exercises/ are generated from the solutions).
SOURCE_NOTEBOOKS = [nb for nb in NOTEBOOKS if nb.relative_to(ROOT).parts[0] == "chapters"
                    or nb.relative_to(ROOT).parts[:2] == ("exercises", "solutions")]


def _code_cells(notebooks=SOURCE_NOTEBOOKS):
    """(``path:cell``, parsed code) for every code cell of ``notebooks``."""
    import ast

    for nb in notebooks:
        rel = nb.relative_to(ROOT).as_posix()
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            if cell["cell_type"] == "code":
                yield f"{rel}:cell {i}", ast.parse("".join(cell["source"]))


def _is_table_function(func) -> bool:
    """``table`` or ``lrnotes.nb.table`` / ``nb.table`` (not, say, ``cycles.table``)."""
    import ast

    if isinstance(func, ast.Name):
        return func.id == "table"
    return (isinstance(func, ast.Attribute) and func.attr == "table"
            and isinstance(func.value, (ast.Name, ast.Attribute))
            and (getattr(func.value, "id", None) or func.value.attr) == "nb")


def _table_calls():
    """(where, call, forwarded) for every call of ``lrnotes.nb.table`` and of a notebook's
    helpers around it. ``forwarded`` is True for the call inside a helper that passes its
    own ``caption`` parameter on (``def show(..., caption, name): table(...,
    caption=caption, name=name)``); the helper's callers are then checked instead."""
    import ast

    for nb in SOURCE_NOTEBOOKS:
        cells = list(_code_cells([nb]))
        helpers = set()
        for _, tree in cells:
            for fn in ast.walk(tree):
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    params = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
                    for call in ast.walk(fn):
                        if isinstance(call, ast.Call) and _is_table_function(call.func) and any(
                                k.arg == "caption" and isinstance(k.value, ast.Name)
                                and k.value.id in params for k in call.keywords):
                            helpers.add(fn.name)
        for where, tree in cells:
            forwarding = {id(c) for fn in ast.walk(tree)
                          if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name in helpers
                          for c in ast.walk(fn) if isinstance(c, ast.Call)}
            for call in ast.walk(tree):
                if not isinstance(call, ast.Call):
                    continue
                if _is_table_function(call.func):
                    yield where, call, id(call) in forwarding
                elif isinstance(call.func, ast.Name) and call.func.id in helpers:
                    yield where, call, False


def _strings(tree):
    """The text of every string literal in a parsed cell (f-strings: their literal parts)."""
    import ast

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node, node.value


def _table_names_in_code() -> list[tuple[str, str]]:
    """(where, name) for every table name given as a plain string to ``table(name=...)``."""
    import ast

    found = []
    for where, call, forwarded in _table_calls():
        for k in call.keywords:
            if k.arg == "name" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str):
                found.append((where, k.value.value))
    return found


def test_every_table_call_has_a_caption_and_a_name():
    """A table the reader sees is numbered and captioned: ``table(rows, header,
    caption="...", name="tbl-...")`` (lrnotes.nb), names unique across the book. A
    helper may take ``caption``/``name`` and pass them on; then its callers give them."""
    import ast

    bad = []
    for where, call, forwarded in _table_calls():
        if forwarded:
            continue
        given = {k.arg: k.value for k in call.keywords}
        for arg in ("caption", "name"):
            value = given.get(arg)
            if value is None or (isinstance(value, ast.Constant) and not value.value):
                bad.append(f"{where}: line {call.lineno}: a table without {arg}=")
        name = given.get("name")
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            if not re.fullmatch(r"tbl-[a-z0-9]+(-[a-z0-9]+)+", name.value):
                bad.append(f"{where}: name {name.value!r} is not 'tbl-<page prefix>-<what>'")
    assert not bad, "\n".join(bad)
    names = [n for _, n in _table_names_in_code()] + [n for _, n in _table_names_in_prose()]
    twice = sorted({n for n in names if names.count(n) > 1})
    assert not twice, f"table names used twice: {twice}"


def test_code_cells_do_not_build_markdown_tables_by_hand():
    """A pipe table built as a string and shown with ``display(Markdown(...))`` has no
    number and no caption; ``lrnotes.nb.table`` gives both."""
    bad = [f"{where}: line {node.lineno}" for where, tree in _code_cells()
           for node, text in _strings(tree) if re.search(r"\|\s*:?-{3,}", text)]
    assert not bad, "build tables with lrnotes.nb.table(..., caption=, name=):\n" + "\n".join(bad)


def _markdown_pieces():
    """(where, text) for each markdown cell of the source notebooks and each Markdown
    page: a directive never spans two cells, so each cell is read on its own."""
    for nb in SOURCE_NOTEBOOKS:
        rel = nb.relative_to(ROOT).as_posix()
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            if cell["cell_type"] == "markdown":
                yield f"{rel}:cell {i}", "".join(cell["source"])
    for md in sorted((ROOT / "chapters").rglob("*.md")) + [ROOT / "intro.md", ROOT / "exercises" / "index.md"]:
        yield md.relative_to(ROOT).as_posix(), md.read_text()


def _pipe_tables(text: str):
    """(line number, inside a {table} directive?) for each pipe table of ``text``
    (a line starting with "|" followed by a "|---" rule line) outside code blocks."""
    stack = []  # open fences: (character, length, directive or None)
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^\s*(`{3,}|~{3,}|:{3,})(.*)$", line)
        if m:
            fence, rest = m.group(1), m.group(2).strip()
            top = stack[-1] if stack else None
            if top and fence[0] == top[0] and len(fence) >= top[1] and not rest:
                stack.pop()
                continue
            if not (top and top[2] is None):  # inside a code block nothing opens
                directive = re.match(r"\{([^}]+)\}", rest)
                stack.append((fence[0], len(fence), directive.group(1) if directive else None))
            continue
        if stack and stack[-1][2] is None:
            continue  # a code block: its lines are literal text
        starts = (line.lstrip().startswith("|") and i + 1 < len(lines)
                  and re.match(r"^\s*\|\s*:?-{3,}", lines[i + 1])
                  and not (i and lines[i - 1].lstrip().startswith("|")))
        if starts:
            yield i + 1, any(d == "table" for _, _, d in stack)


def _table_names_in_prose() -> list[tuple[str, str]]:
    return [(where, m) for where, text in _markdown_pieces()
            for m in re.findall(r"^\s*:name:\s*(tbl-\S+)\s*$", text, flags=re.M)]


def test_markdown_tables_are_numbered_and_captioned():
    """A pipe table in the prose sits in ``:::{table} Caption`` / ``:name: tbl-...``, so
    that the book numbers it and the prose can refer to it by number."""
    bad = [f"{where}: line {line}" for where, text in _markdown_pieces()
           for line, wrapped in _pipe_tables(text) if not wrapped]
    assert not bad, "wrap these tables in a :::{table} directive with a caption and :name: tbl-...:\n" + "\n".join(bad)
    assert list(_pipe_tables("| a |\n|---|\n| 1 |")) == [(1, False)]
    assert list(_pipe_tables(":::{table} A\n:name: tbl-x-y\n\n| a |\n|---|\n:::")) == [(4, True)]
    assert list(_pipe_tables("```text\n| a |\n|---|\n```")) == []
    assert list(_pipe_tables("```{note}\n| a |\n|---|\n```")) == [(2, False)]


def test_tables_are_referred_to_by_number():
    """The prose names a table with {numref}`tbl-...` (never "the table above", "the
    second table"), and each such reference names a table of the book."""
    names = {n for _, n in _table_names_in_code()} | {n for _, n in _table_names_in_prose()}
    bad = []
    for rel, text in _prose_pages():
        for m in re.finditer(r"\btables? (?:above|below)\b|\((?:first|second|third)\)"
                             r"|\bthe (?:first|second|third|last|next|previous) table\b",
                             text, flags=re.I):
            bad.append(f"{rel}: {m.group(0)!r}: refer to the table by its number")
        for ref in re.findall(r"\{numref\}`(?:[^`<]*<)?(tbl-[^`>]+)>?`", text):
            if ref not in names:
                bad.append(f"{rel}: {{numref}} {ref!r} names no table")
    assert not bad, "\n".join(bad)


def test_code_cells_build_no_myst_roles():
    """A MyST role (``{eq}`...```, ``{doc}`...```) in a string that a code cell builds is
    shown raw in Jupyter and Colab: only the book's prose may hold roles."""
    bad = [f"{where}: line {node.lineno}: {text[:60]!r}" for where, tree in _code_cells(NOTEBOOKS)
           for node, text in _strings(tree) if re.search(r"\{[A-Za-z][\w:+-]*\}`", text)]
    assert not bad, "\n".join(bad)


#: Helpers that were copied between notebooks and now live in lrnotes (issue 16).
SHARED_HELPERS = {"plain_log": "lrnotes.plotting", "pm": "lrnotes.nb", "mostly": "lrnotes.stats",
                  "se": "lrnotes.stats"}


@pytest.mark.parametrize("nb", [p for p in NOTEBOOKS if p.relative_to(ROOT).parts[0] == "chapters"],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_shows_what_it_proves(nb):
    """A reader sees what the page proves: no assert in a hidden cell (hide only plotting
    and glue plumbing); no copied helper; no ``glue(..., display=False)`` (the default)."""
    rel = nb.relative_to(ROOT).as_posix()
    for i, c in enumerate(json.loads(nb.read_text())["cells"]):
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"])
        hidden = {"hide-input", "remove-input", "hide-cell", "remove-cell"} & set(c.get("metadata", {}).get("tags", []))
        assert not (hidden and re.search(r"^\s*assert\b", src, flags=re.M)), \
            f"{rel}, cell {i}: an assert in a hidden cell; move it to a visible cell"
        assert "display=False" not in src, f"{rel}, cell {i}: display=False is glue's default"
        for name, home in SHARED_HELPERS.items():
            assert not re.search(rf"^\s*def {name}\(", src, flags=re.M), \
                f"{rel}, cell {i}: {name} is redefined; import it from {home}"
