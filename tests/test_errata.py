"""The errata appendix cannot drift from the chapters.

Every row of lrnotes/_data/errata.yml links to pages that exist and are in the book, and
to labels that those pages define; every "Erratum" box in the chapters carries a name,
and some row links to it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lrnotes import errata

ROOT = Path(__file__).resolve().parents[1]
APPENDIX = ROOT / "chapters" / "appendix"
ROLE = re.compile(r"\{(doc|ref)\}`(?:[^`<]*<)?([^`>]+)>?`")


def _texts() -> dict[str, str]:
    """Markdown text of every page of the book, by its path relative to ROOT (no suffix)."""
    pages = {}
    for path in list(ROOT.glob("chapters/**/*.md")) + list(ROOT.glob("chapters/**/*.ipynb")) \
            + list(ROOT.glob("exercises/*.ipynb")) + list(ROOT.glob("exercises/*.md")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text())["cells"]
            text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
            text += "\n" + json.dumps([c.get("metadata", {}) for c in cells])
        else:
            text = path.read_text()
        pages[path.relative_to(ROOT).with_suffix("").as_posix()] = text
    return pages


def _labels(text: str) -> set[str]:
    found = set(re.findall(r"^\(([\w:-]+)\)=\s*$", text, flags=re.M))
    found |= set(re.findall(r"^:(?:name|label):\s*([\w:-]+)\s*$", text, flags=re.M))
    found |= set(re.findall(r'"name":\s*"([\w:-]+)"', text))  # figure names in cell metadata
    return found


def _toc_files() -> set[str]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return set(re.findall(r"file:\s*(\S+)", yaml.safe_dump(toc))) | {toc["root"]}


def test_rows_are_well_formed():
    data = errata.load()
    assert sum(len(rows) for rows in data.values()) >= 20
    md = errata.to_markdown(data["identity"])
    assert md.count("\n: *The notes:*") == len(data["identity"])


@pytest.mark.parametrize("bad, message", [
    ({"identity": [], "cyclical": []}, "non-empty list"),
    ({"identity": [{"place": "x"}], "cyclical": [{}]}, "exactly the fields"),
])
def test_load_rejects_malformed_data(tmp_path, bad, message):
    import yaml

    path = tmp_path / "e.yml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(ValueError, match=message):
        errata.load(path)


def test_every_link_resolves():
    pages, toc = _texts(), _toc_files()
    all_labels = {label for text in pages.values() for label in _labels(text)}
    errata_page = (APPENDIX / "errata").relative_to(ROOT).as_posix()
    problems = []
    for source, rows in errata.load().items():
        for row in rows:
            for link in row["shown"]:
                for kind, target in ROLE.findall(link):
                    if kind == "doc":
                        doc = (APPENDIX / target).resolve().relative_to(ROOT).as_posix()
                        if doc not in pages or doc not in toc:
                            problems.append(f"{source} {row['place']}: page {target} missing or not in the TOC")
                    elif target not in all_labels:
                        problems.append(f"{source} {row['place']}: label {target} defined nowhere")
                if not ROLE.search(link):
                    problems.append(f"{source} {row['place']}: {link!r} is not a {{doc}} or {{ref}} link")
    assert errata_page in pages
    assert not problems, "\n".join(problems)


def test_every_erratum_box_is_listed():
    """An "Erratum" admonition anywhere in the chapters has a :name:, and a row links to it."""
    linked = {target for rows in errata.load().values() for row in rows
              for link in row["shown"] for _, target in ROLE.findall(link)}
    box = re.compile(r"`{3,}\{admonition\}\s*Erratum[^\n]*\n((?::[^\n]*\n)*)")
    problems, n = [], 0
    for page, text in _texts().items():
        for match in box.finditer(text):
            n += 1
            name = re.search(r"^:name:\s*(\S+)", match.group(1), flags=re.M)
            if not name:
                problems.append(f"{page}: an Erratum box without :name:")
            elif name.group(1) not in linked:
                problems.append(f"{page}: Erratum box {name.group(1)} has no row in errata.yml")
    assert n >= 5, "no Erratum boxes found: the check would be empty"
    assert not problems, "\n".join(problems)
