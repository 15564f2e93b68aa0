"""The reader's notebooks: the book's pages as Jupyter and Colab show them.

The book's sources are notebooks whose Markdown is MyST: ``{glue:text}`` roles for the
numbers a notebook computes, ``{doc}``, ``{eq}``, ``{numref}``, ``{prf:ref}`` and
``{cite}`` cross-references, and directives for theorems, proofs, errata boxes,
exercises and their solutions.  Jupyter Book renders all of that in HTML; JupyterLab and
Colab would show it as literal text.  ``python -m _ext.reader`` writes, for every
notebook of the book, a twin under ``notebooks/`` (the same path below it) whose
Markdown is plain CommonMark and HTML that Jupyter and Colab render:

* a glued number is the value the executed notebook computed when the book was built
  (read from Jupyter Book's cache, formatted as the book formats it), in a
  ``<span title="name">`` so that the reader can see which glued name it is;
* a cross-reference is a link to the book's page, with the book's own number
  (read from the built HTML: figures, tables, equations, theorems and sections keep
  their numbers); a citation is "(Author, year)" linked to the references page;
* a displayed equation with a label carries its number as ``\\tag{…}``;
* a theorem, proof, erratum or exercise box is a ``<div>`` with a title; a solution
  sits inside ``<details>``, closed until the reader clicks it;
* a figure's or a table's caption, with its number, follows the cell that draws or
  shows it; code the book hides is collapsed (JupyterLab's ``source_hidden``, Colab's
  form view).

The code cells are the source's, so running the notebook recomputes every number that
its text shows.  A student's exercise notebook is never overwritten once edited: each
generated notebook records a fingerprint of what it was generated as (as
``lrnotes.exercises`` does for the student copies).

Why a converter of our own and not sphinx-tojupyter: that builder does not know
myst-nb's glue, sphinx-proof or sphinx-exercise, which carry most of this book's
markup; the conversion needs the built book (numbers) and the cache (glued values),
both of which Jupyter Book already produces, and ~400 lines do it.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Reference", "BookIndex", "convert_markdown", "convert_notebook", "main",
           "RAW_MYST", "raw_myst", "masked"]

OUT_DIR = "notebooks"
META_KEY = "lrnotes_reader"

# MyST left in a cell's Markdown (what a reader must never see)
RAW_MYST = re.compile(
    r"\{[A-Za-z][\w:+-]*\}`"                      # a role: {doc}`…`
    r"|^\s*(?:`{3,}|:{3,})\{[\w:+-]+\}"           # a directive fence: ```{note} / :::{…}
    r"|^\s*:(?:label|class|name|nonumber|alt|figclass|align|width):"   # a directive option
    r"|^\s*\([\w-]+\)=\s*$"                        # a target: (label)=
    r"|^\$\$\s*\([\w-]+\)\s*$"                     # a labelled equation's label: $$ (eq-x)
    r"|^%",                                        # a MyST comment
    re.M)


def raw_myst(text: str) -> list[str]:
    """The pieces of MyST markup left in ``text`` (empty when there are none)."""
    return [m.group(0).strip() for m in RAW_MYST.finditer(text)]


# --------------------------------------------------------------------------------------
# What the built book knows: numbers, titles and addresses of every label
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reference:
    """A target in the built book: its number ("Fig. 4.2", "(3.1)", "Theorem 1.2"; may
    be empty), its title, and its page and anchor."""

    number: str
    title: str
    doc: str
    anchor: str = ""


@dataclass
class BookIndex:
    """Labels and page titles of a built book, and the address it is published at."""

    base_url: str
    labels: dict[str, Reference] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)       # docname -> title
    numbers: dict[str, str] = field(default_factory=dict)      # docname -> "1.3"
    citations: dict[str, str] = field(default_factory=dict)    # bib key -> "(A & B, 2017)"
    citations_t: dict[str, str] = field(default_factory=dict)  # bib key -> "A & B (2017)"
    references_doc: str = "chapters/appendix/references"

    def url(self, doc: str, anchor: str = "") -> str:
        return f"{self.base_url}{doc}.html" + (f"#{anchor}" if anchor else "")

    def label(self, name: str, where: str) -> Reference:
        """The target ``name`` (as Sphinx writes ids: ``fig_X`` is ``fig-x``)."""
        from docutils.nodes import make_id

        try:
            return self.labels[name] if name in self.labels else self.labels[make_id(name)]
        except KeyError:
            raise ValueError(f"{where}: the built book has no label {name!r}") from None

    def find(self, name: str) -> Reference | None:
        """The target ``name``, or None."""
        try:
            return self.label(name, "") if name else None
        except ValueError:
            return None

    @classmethod
    def from_build(cls, root: Path, html: Path | None = None) -> "BookIndex":
        """Read every page of the HTML build at ``html`` (default ``root/_build/html``)."""
        from bs4 import BeautifulSoup

        from _ext.book_exec import toc_files

        html = html or root / "_build" / "html"
        if not (html / "index.html").is_file():
            raise FileNotFoundError(f"{html} holds no built book: run `make book` first")
        index = cls(base_url=pages_url(root))
        for doc in toc_files(root):
            page = html / f"{doc}.html"
            soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
            _read_page(index, doc, soup)
        index.citations, index.citations_t = _citations(root / "references.bib")
        return index


def pages_url(root: Path) -> str:
    """Where the book is published: GitHub Pages of the repository in ``_config.yml``."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text())
    url = config["repository"]["url"].rstrip("/")
    owner, repo = url.removeprefix("https://github.com/").split("/")[:2]
    return f"https://{owner}.github.io/{repo}/"


def _text(node) -> str:
    for link in node.select("a.headerlink"):
        link.decompose()
    return " ".join(node.get_text(" ", strip=True).split())


def _read_page(index: BookIndex, doc: str, soup) -> None:
    h1 = soup.select_one("main h1") or soup.select_one("h1")
    if h1 is not None:
        h1 = copy.copy(h1)
        num = h1.select_one("span.section-number")
        if num is not None:
            index.numbers[doc] = num.get_text(strip=True).rstrip(".")
            num.decompose()
        index.titles[doc] = _text(h1)
    body = soup.select_one("main") or soup
    for node in body.find_all(id=True):
        ident = node["id"]
        if ident.startswith("equation-"):
            eqno = node.select_one("span.eqno")
            if eqno is not None:
                eq = copy.copy(eqno)
                index.labels[ident.removeprefix("equation-")] = Reference(
                    _text(eq), "", doc, ident)
            continue
        number, title = "", ""
        cap = node.find(class_="caption-number")
        target = node
        if node.name == "span" and not node.get_text(strip=True):
            # a MyST target `(label)=`: docutils puts its id on an empty span before
            # the section (or paragraph) it names
            target = node.find_next_sibling()
            if target is None or target.name != "section":
                index.labels.setdefault(ident, Reference("", "", doc, ident))
                continue
        if target.name == "section":
            head = target.find(re.compile(r"^h[1-6]$"))
            if head is not None:
                head = copy.copy(head)
                sec = head.select_one("span.section-number")
                if sec is not None:
                    number = sec.get_text(strip=True).rstrip(".")
                    sec.decompose()
                title = _text(head)
        elif cap is not None and node.name in ("figure", "table", "div"):
            number = cap.get_text(" ", strip=True).rstrip(". ")
            owner = cap.parent
            owner = copy.copy(owner)
            for c in owner.find_all(class_="caption-number"):
                c.decompose()
            title = _text(owner).strip("() ")
        elif "admonition" in (node.get("class") or []):
            head = node.find(class_="admonition-title")
            title = _text(copy.copy(head)) if head is not None else ""
        else:
            continue
        index.labels.setdefault(ident, Reference(number, title, doc, ident))


def _citations(bib: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Author–year texts of every entry of the bibliography, as the book writes them."""
    from pybtex.database import parse_file

    par, txt = {}, {}
    if not bib.is_file():
        return par, txt
    for key, entry in parse_file(str(bib)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        last = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
        if not last:
            who = entry.fields.get("title", key)
        elif len(last) == 1:
            who = last[0]
        elif len(last) == 2:
            who = f"{last[0]} and {last[1]}"
        else:
            who = f"{last[0]} et al."
        year = entry.fields.get("year", "n.d.")
        par[key], txt[key] = f"{who}, {year}", f"{who} ({year})"
    return par, txt


# --------------------------------------------------------------------------------------
# Glued values, from Jupyter Book's cache of the executed notebooks
# --------------------------------------------------------------------------------------

def glued_values(executed) -> dict[str, dict]:
    """``name -> mime bundle`` of every value an executed notebook glues."""
    values = {}
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("scrapbook")
            if meta and "name" in meta:
                prefix = meta.get("mime_prefix", "")
                values[meta["name"]] = {k[len(prefix):]: v for k, v in out.get("data", {}).items()}
    return values


def executed_notebook(root: Path, path: Path, allow_stale: bool = False):
    """The executed version of the notebook at ``path``, from the build's cache (with
    ``allow_stale``, the latest execution of that file when its code has changed since)."""
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(str(root / "_build" / ".jupyter_cache"))
    nb = nbformat.read(path, as_version=4)
    try:
        record = cache.match_cache_notebook(nb)
    except KeyError:
        older = [r for r in cache.list_cache_records() if Path(r.uri) == path.resolve()]
        if not (allow_stale and older):
            raise ValueError(f"{path.relative_to(root)} is not in the build's cache "
                             "(run `make book` first)") from None
        record = max(older, key=lambda r: r.created)
    return cache.get_cache_bundle(record.pk).nb


def format_glue(bundle: dict, fmt: str, where: str) -> str:
    """A glued value as ``{glue:text}`name:fmt``` shows it in the book."""
    from myst_nb.core.variables import format_plain_text

    if "text/plain" not in bundle:
        raise ValueError(f"{where}: the glued value has no text/plain")
    return format_plain_text(bundle["text/plain"], fmt)


# --------------------------------------------------------------------------------------
# MyST Markdown -> CommonMark + HTML
# --------------------------------------------------------------------------------------

_ROLE = re.compile(r"\{([A-Za-z][\w:+-]*)\}`([^`]*)`")
_FENCE = re.compile(r"^(\s*)(`{3,}|:{3,})\{([\w:+-]+)\}[ \t]*(.*)$")
_PLAIN_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
_EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)

BOX_STYLE = {  # left rule and background of each kind of box (house colours, see DESIGN.md)
    "warning": ("#b45309", "#fff7ed"), "note": ("#1d4ed8", "#eff6ff"),
    "tip": ("#047857", "#ecfdf5"), "important": ("#7c3aed", "#f5f3ff"),
    "theorem": ("#334155", "#f8fafc"), "proof": ("#94a3b8", "#ffffff"),
    "exercise": ("#0e7490", "#ecfeff"),
}
PROOF_KINDS = {"theorem", "lemma", "proposition", "corollary", "definition", "remark",
               "example", "conjecture", "assumption", "axiom", "property", "criterion",
               "observation", "algorithm"}


@dataclass
class Context:
    """What converting one notebook needs: where it is, the book, its glued values."""

    doc: str                                   # the notebook's docname, e.g. chapters/01-principles/03-double-well
    book: BookIndex
    glue: dict[str, dict] = field(default_factory=dict)
    other_glue: object = None                  # callable doc -> glue dict (``doc::name``)
    exercise_titles: dict[str, str] = field(default_factory=dict)
    attachments: dict[str, dict] = field(default_factory=dict)

    def where(self, what: str) -> str:
        return f"{self.doc}: {what}"


def _resolve_doc(ctx: Context, target: str) -> str:
    """A ``{doc}`` target (relative or absolute) as a docname."""
    import posixpath

    target = target.removesuffix(".md").removesuffix(".ipynb")
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(ctx.doc), target))


def _link(text: str, url: str) -> str:
    return f"[{text}]({url})"


def _role(ctx: Context, name: str, body: str) -> str:
    book = ctx.book
    explicit = _EXPLICIT.match(body)
    text, target = (explicit.group(1), explicit.group(2)) if explicit else (None, body)
    if name in ("glue:text", "glue", "glue:"):
        key, _, fmt = target.partition(":")
        values = ctx.glue
        if "::" in target:
            other, _, rest = target.partition("::")
            key, _, fmt = rest.partition(":")
            values = ctx.other_glue(_resolve_doc(ctx, other))
        if key not in values:
            raise ValueError(ctx.where(f"{{glue:text}} names {key!r}, which the notebook does not glue"))
        value = format_glue(values[key], fmt, ctx.where(key))
        return f'<span title="{key}">{value}</span>'
    if name == "doc":
        doc = _resolve_doc(ctx, target)
        if doc not in book.titles:
            raise ValueError(ctx.where(f"{{doc}} names {target!r}, not a page of the built book"))
        return _link(text or book.titles[doc], book.url(doc))
    if name == "eq":
        ref = book.label(target, ctx.where("{eq}"))
        return _link(text or ref.number, book.url(ref.doc, ref.anchor))
    if name in ("numref", "prf:ref", "ref", "term"):
        if name == "term":
            return _link(text or target, book.url("chapters/appendix/glossary",
                                                  "term-" + re.sub(r"\W+", "-", target.strip())))
        ref = book.label(target, ctx.where(f"{{{name}}}"))
        if name == "numref":
            shown = text.replace("%s", ref.number.split(" ", 1)[-1]) if text else ref.number
            if not shown:
                raise ValueError(ctx.where(f"{{numref}} {target!r} has no number in the built book"))
        elif name == "prf:ref":
            shown = text or (f"{ref.number} ({ref.title})" if ref.title and ref.number else ref.number or ref.title)
        else:
            shown = text or ref.title
        return _link(shown, book.url(ref.doc, ref.anchor))
    if name in ("cite", "cite:p", "cite:t", "cite:ps", "cite:ts"):
        keys = [k.strip() for k in target.split(",")]
        table = book.citations_t if name.startswith("cite:t") else book.citations
        missing = [k for k in keys if k not in table]
        if missing:
            raise ValueError(ctx.where(f"{{cite}} names {missing}, not in references.bib"))
        url = book.url(book.references_doc)
        parts = "; ".join(_link(table[k], url) for k in keys)
        return parts if name.startswith("cite:t") else f"({parts})"
    if name == "math":
        return f"${body}$"
    raise ValueError(ctx.where(f"the role {{{name}}} has no plain form (_ext.reader)"))


def _inline(ctx: Context, text: str) -> str:
    """Roles -> Markdown, outside inline code spans and maths."""
    out, pos = [], 0
    # inline code spans are left alone; a role is written `{name}`body`` so it never
    # starts inside a code span in this book's prose
    for m in _ROLE.finditer(text):
        out.append(text[pos:m.start()])
        out.append(_role(ctx, m.group(1), m.group(2)))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _box(kind: str, title: str, body: str, anchor: str = "") -> str:
    rule, bg = BOX_STYLE.get(kind, BOX_STYLE["note"])
    a = f'<a id="{anchor}"></a>' if anchor else ""
    head = f"{a}**{title}**\n\n" if title else a + ("\n\n" if a else "")
    return (f'<div style="border-left: 4px solid {rule}; background: {bg}; '
            f'padding: 0.1em 1em; margin: 1em 0;">\n\n{head}{body.strip()}\n\n</div>')


def _directive(ctx: Context, name: str, arg: str, options: dict[str, str], body: str) -> str:
    book = ctx.book
    label = options.get("label") or options.get("name") or ""
    if name == "admonition":
        classes = options.get("class", "note").split()
        kind = next((c for c in classes if c in BOX_STYLE), "note")
        if "dropdown" in classes:   # folded in the book: folded here, behind a click
            a = f'<a id="{label}"></a>' if label else ""
            return (f"{a}<details>\n<summary><b>{_inline(ctx, arg)}</b> (click to open)</summary>\n\n"
                    f"{convert_markdown(ctx, body).strip()}\n\n</details>")
        return _box(kind, _inline(ctx, arg), convert_markdown(ctx, body), label)
    if name in ("note", "warning", "tip", "important", "attention", "caution", "danger",
                "error", "hint", "seealso"):
        kind = name if name in BOX_STYLE else "note"
        title = name.capitalize() if name != "seealso" else "See also"
        content = (arg + "\n\n" + body) if arg else body
        return _box(kind, title, convert_markdown(ctx, content), label)
    if name.startswith("prf:"):
        kind = name[4:]
        if kind == "proof":
            text = convert_markdown(ctx, body).rstrip()
            return _box("proof", "", f"*Proof.* {text} ∎" if "\n" not in text.split("\n\n")[0]
                        else f"*Proof.*\n\n{text}\n\n∎", label)
        if kind not in PROOF_KINDS:
            raise ValueError(ctx.where(f"unknown directive {{{name}}}"))
        number = book.find(label).number if book.find(label) else kind.capitalize()
        title = number + (f" ({_inline(ctx, arg)})" if arg else "")
        return _box("theorem", title + ".", convert_markdown(ctx, body), label)
    if name == "exercise":
        title = _inline(ctx, arg) or "Exercise"
        if "nonumber" not in options and book.find(label) and book.find(label).number:
            title = f"{book.find(label).number} ({title})"
        if not title.lower().startswith("exercise"):
            title = f"Exercise {title}"
        ctx.exercise_titles[label] = title
        return _box("exercise", title, convert_markdown(ctx, body), label)
    if name == "solution":
        target = arg.strip()
        title = ctx.exercise_titles.get(target, target)
        summary = "Solution" + (f" to {title}" if title else "")
        return (f"<details>\n<summary><b>{summary}</b> (click to open)</summary>\n\n"
                f"{convert_markdown(ctx, body).strip()}\n\n</details>")
    if name == "table":
        ref = book.find(label)
        number = ref.number if ref and ref.number else "Table"
        head = f'<a id="{label}"></a>' if label else ""
        return f"{head}**{number}.** {_inline(ctx, arg)}\n\n{convert_markdown(ctx, body).strip()}"
    if name == "glue:figure":
        key = arg.strip()
        bundle = ctx.glue.get(key)
        mime = next((m for m in ("image/png", "image/svg+xml") if bundle and m in bundle), None)
        if mime is None:
            raise ValueError(ctx.where(f"{{glue:figure}} {key!r}: no glued PNG or SVG"))
        fname = f"{key}.{'png' if mime == 'image/png' else 'svg'}"
        data = bundle[mime]
        if mime == "image/svg+xml":   # attachments are base64 (JupyterLab and Colab read them so)
            data = base64.b64encode(data.encode("utf-8")).decode("ascii")
        ctx.attachments[fname] = {mime: data}
        alt = options.get("alt", key).replace("]", ")").replace("[", "(")
        ref = book.find(label)
        cap = convert_markdown(ctx, body).strip()
        number = ref.number.replace("Fig.", "Figure") if ref and ref.number else "Figure"
        return f"![{alt}](attachment:{fname})\n\n**{number}.** {cap}"
    if name == "rubric":
        return f"**{_inline(ctx, arg)}**"
    if name == "math":
        return f"$$\n{body.strip()}\n$$"
    raise ValueError(ctx.where(f"the directive {{{name}}} has no plain form (_ext.reader)"))


def _equations(ctx: Context, text: str) -> str:
    """``$$ … $$ (label)`` -> ``<a id>`` + ``$$ … \\tag{n} $$``."""
    def tag(m):
        body, label = m.group(1), m.group(2)
        ref = ctx.book.label(label, ctx.where("labelled equation"))
        number = ref.number.strip("()")
        return f'<a id="{ref.anchor}"></a>\n\n$$\n{body.strip()}\n\\tag{{{number}}}\n$$'
    return re.sub(r"^\$\$\n(.*?)\n\$\$[ \t]*\(([\w-]+)\)[ \t]*$", tag, text, flags=re.S | re.M)


def convert_markdown(ctx: Context, text: str) -> str:
    """One cell's MyST Markdown as CommonMark and HTML (see the module's docstring)."""
    lines = text.split("\n")
    out: list[str] = []
    plain: list[str] = []      # plain lines not yet converted (roles, equations, targets)

    def flush():
        if plain:
            chunk = "\n".join(plain)
            chunk = _equations(ctx, chunk)
            chunk = re.sub(r"^\(([\w-]+)\)=[ \t]*$", r'<a id="\1"></a>', chunk, flags=re.M)
            chunk = "\n".join(l for l in chunk.split("\n") if not l.startswith("%"))
            out.append(_inline(ctx, chunk))
            plain.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        m = _FENCE.match(line)
        if m:
            indent, fence, name, arg = m.groups()
            j = i + 1
            options: dict[str, str] = {}
            while j < len(lines) and re.match(r"^\s*:[\w-]+:", lines[j]):
                key, _, value = lines[j].strip()[1:].partition(":")
                options[key] = value.strip()
                j += 1
            close = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
            k = j
            while k < len(lines) and not close.match(lines[k]):
                k += 1
            if k == len(lines):
                raise ValueError(ctx.where(f"the directive {{{name}}} is never closed"))
            flush()
            out.append(_directive(ctx, name, arg.strip(), options, "\n".join(lines[j:k]).strip("\n")))
            i = k + 1
            continue
        m = _PLAIN_FENCE.match(line)
        if m:  # an ordinary code block: copied as it is
            fence = m.group(2)
            close = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
            k = i + 1
            while k < len(lines) and not close.match(lines[k]):
                k += 1
            flush()
            out.append("\n".join(lines[i:k + 1]))
            i = k + 1
            continue
        plain.append(line)
        i += 1
    flush()
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# Whole notebooks
# --------------------------------------------------------------------------------------

HIDDEN_TITLE = "# @title Code hidden in the book (double-click to show)"


def _note(ctx: Context, rel: str) -> str:
    page = ctx.book.url(ctx.doc)
    return ("*This notebook is a page of the book* "
            f"[Learning-Rate Schedules, Executable]({ctx.book.base_url}) "
            f"*([this page in the book]({page})).* "
            "The numbers in its text were computed when the book was built, in quick mode; "
            "the cells compute each of them again when you run the notebook (hover over a "
            "number to see the name it is glued under, and search the code for "
            "`glue(\"that name\"`). Figures, tables, equations and theorems keep the "
            "book's numbers, and links open the book's pages.")


_TABLE_OUT = re.compile(r"^:::+\{table\}[ \t]*(.*)\n(?::name:[ \t]*(\S+)\n)?", re.M)


def _table_captions(ctx: Context, cell, executed_cell) -> list[str]:
    """"**Table N.** caption" for each numbered table that the executed cell showed."""
    if executed_cell is None or executed_cell.get("source") != cell.get("source"):
        return []
    found = []
    for out in executed_cell.get("outputs", []):
        md = out.get("data", {}).get("text/markdown", "")
        for m in _TABLE_OUT.finditer(md if isinstance(md, str) else "".join(md)):
            caption, label = m.group(1).strip(), m.group(2)
            ref = ctx.book.find(label) if label else None
            number = ref.number if ref and ref.number else "Table"
            anchor = f'<a id="{label}"></a>' if label else ""
            found.append(f"{anchor}**{number}.** {_inline(ctx, caption)}")
    return found


def convert_notebook(ctx: Context, nb, rel: str, executed=None):
    """The reader's version of the notebook ``nb`` (an ``nbformat`` notebook); with the
    ``executed`` notebook, each numbered table its cells show gets its caption too."""
    import nbformat

    out = nbformat.v4.new_notebook()
    out.metadata = copy.deepcopy(nb.metadata)
    out.metadata.pop("lrnotes_exercise", None)
    out.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    out.metadata["colab"] = {"provenance": [], "toc_visible": True}
    cells = []
    for n, cell in enumerate(nb.cells):
        meta = {k: v for k, v in cell.get("metadata", {}).items() if k in ("tags",)}
        if cell.cell_type == "markdown":
            ctx.attachments = {}
            src = convert_markdown(ctx, cell.source)
            new = nbformat.v4.new_markdown_cell(src, metadata=meta)
            if ctx.attachments:
                new["attachments"] = ctx.attachments
            cells.append(new)
            if n == 0:
                cells.append(nbformat.v4.new_markdown_cell(_note(ctx, rel)))
            continue
        if cell.cell_type != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "remove-cell" in tags:
            continue
        src = cell.source
        if "hide-input" in tags or "remove-input" in tags:
            meta["jupyter"] = {"source_hidden": True}
            meta["cellView"] = "form"
            src = HIDDEN_TITLE + "\n" + src
        cells.append(nbformat.v4.new_code_cell(src, metadata=meta))
        # the cache matches code cells only (Markdown may have changed since): pair the
        # k-th code cell with the executed k-th code cell
        k = sum(c.cell_type == "code" for c in nb.cells[:n])
        ran = [c for c in executed.cells if c.cell_type == "code"] if executed is not None else []
        done = ran[k] if k < len(ran) else None
        for caption in _table_captions(ctx, cell, done):
            cells.append(nbformat.v4.new_markdown_cell(caption))
        fig = cell.get("metadata", {}).get("mystnb", {}).get("figure")
        if fig:
            label = fig.get("name", "")
            ref = ctx.book.find(label)
            number = ref.number.replace("Fig.", "Figure") if ref and ref.number else "Figure"
            anchor = f'<a id="{label}"></a>' if label else ""
            cells.append(nbformat.v4.new_markdown_cell(
                f"{anchor}**{number}.** {_inline(ctx, fig.get('caption', ''))}"))
    out.cells = cells
    for n, c in enumerate(out.cells):   # stable ids: regenerating changes no line that did not change
        c["id"] = f"c{n:03d}"
    return out


def fingerprint(nb) -> str:
    """What a generated notebook holds that a reader may change: every cell's source."""
    from lrnotes.exercises import fingerprint as fp

    return fp(nb)


@dataclass
class Job:
    source: Path        # the book's notebook
    target: Path        # its reader's twin
    doc: str


def jobs(root: Path) -> list[Job]:
    """Every notebook of the book, and where its reader's twin goes."""
    from _ext.book_exec import toc_notebooks

    found = []
    for path in toc_notebooks(root):
        rel = path.relative_to(root)
        found.append(Job(path, root / OUT_DIR / rel, rel.with_suffix("").as_posix()))
    return found


def build(root: Path, job: Job, book: BookIndex, glue_of) -> str:
    """The reader's notebook for ``job``, as the text to write."""
    import nbformat

    nb = nbformat.read(job.source, as_version=4)
    ctx = Context(doc=job.doc, book=book, glue=glue_of(job.doc), other_glue=glue_of)
    executed = getattr(glue_of, "executed", lambda doc: None)(job.doc)
    out = convert_notebook(ctx, nb, job.target.relative_to(root).as_posix(), executed)
    out.metadata[META_KEY] = {
        "generated_from": job.source.relative_to(root).as_posix(),
        "note": "Generated by `python -m _ext.reader` from the book's notebook; edit that one.",
    }
    out.metadata[META_KEY]["fingerprint"] = fingerprint(out)
    return json.dumps(out, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


_GLUED = re.compile(r'(<span title=\\?"[^"\\]+\\?">)[^<]*(</span>)')


def masked(text: str) -> str:
    """A generated notebook's text with its glued values, embedded figures and fingerprint
    blanked: what must stay equal when the book is rebuilt (timings, for one, change
    every run)."""
    text = _GLUED.sub(r"\1…\2", text)
    text = re.sub(r'("image/(?:png|svg\+xml)": )"[^"]*"', r'\1"…"', text)   # a figure's bytes
    return re.sub(r'"fingerprint": "[^"]*"', '"fingerprint": "…"', text)


def _state(target: Path) -> str:
    """"missing", "generated" (untouched since written) or "edited" (a reader's work)."""
    if not target.exists():
        return "missing"
    try:
        nb = json.loads(target.read_text(encoding="utf-8"))
        stored = nb["metadata"][META_KEY]["fingerprint"]
    except (ValueError, KeyError, TypeError):
        return "edited"
    import nbformat

    return "generated" if fingerprint(nbformat.from_dict(nb)) == stored else "edited"


def glue_loader(root: Path, allow_stale: bool = False):
    """``glue_of(doc)``: the glued values of a page; ``glue_of.executed(doc)``: its executed
    notebook (None for a Markdown page); both read once from the build's cache."""
    notebooks: dict[str, object] = {}
    values: dict[str, dict] = {}

    def executed(doc: str):
        if doc not in notebooks:
            path = root / f"{doc}.ipynb"
            notebooks[doc] = executed_notebook(root, path, allow_stale) if path.is_file() else None
        return notebooks[doc]

    def glue_of(doc: str) -> dict:
        if doc not in values:
            nb = executed(doc)
            values[doc] = glued_values(nb) if nb is not None else {}
        return values[doc]

    glue_of.executed = executed
    return glue_of


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the book's folder")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"write the notebooks here instead of ROOT/{OUT_DIR} (for tests)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook under notebooks/ is not up to date")
    parser.add_argument("--allow-stale", action="store_true",
                        help="a preview: take a notebook's latest cached run even if its code changed since")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        book = BookIndex.from_build(root)
    except FileNotFoundError as exc:
        print(f"_ext.reader: {exc}", file=sys.stderr)
        return 2
    glue_of = glue_loader(root, args.allow_stale and not args.check)
    status = 0
    for job in jobs(root):
        target = job.target if args.out is None else args.out / job.target.relative_to(root / OUT_DIR)
        try:
            text = build(root, job, book, glue_of)
        except ValueError as exc:   # one notebook's problem: report it, convert the others
            print(f"FAILED {job.source.relative_to(root)}: {exc}", file=sys.stderr)
            status = 1
            continue
        rel = target.relative_to(args.out if args.out else root)
        state = _state(target)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            if target.exists() and masked(target.read_text(encoding="utf-8")) == masked(text):
                continue
            print(f"out of date: {rel}")
            status = 1
            continue
        if state == "edited":
            print(f"kept (edited by a reader): {rel}; delete it to get a fresh copy")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"{'updated' if state == 'generated' else 'created'}: {rel}")
        download = root / "_build" / "html" / "_sources" / job.source.relative_to(root)
        if args.out is None and download.is_file():   # the page's download button (sphinx_offline)
            download.write_text(text, encoding="utf-8")
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
