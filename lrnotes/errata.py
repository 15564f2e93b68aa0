"""The book's notes on its two sources: one row per checkable claim, kept as data.

``lrnotes/_data/errata.yml`` lists, for each source, every claim the book checks: where
the source makes it, what it says, the verdict, the correction, and the pages that show
the computation (MyST ``{doc}`` / ``{ref}`` links).  The errata appendix renders it with
:func:`to_markdown`; ``tests/test_errata.py`` checks that every link resolves and that
every *Erratum* box in the chapters has a row that links to it, so the table cannot drift
from the chapters.

load         the rows, validated
to_markdown  one source's rows as a MyST definition list
VERDICTS     the allowed verdicts
"""

from __future__ import annotations

from pathlib import Path

PATH = Path(__file__).with_name("_data") / "errata.yml"

#: The verdicts a row may give.
VERDICTS = ("wrong", "partly right", "right", "unverifiable", "an analogy", "opinion")
#: The two sources, in the order the appendix lists them.
SOURCES = {
    "identity": 'The notes on linear decay ("a new identity, a new learning rate")',
    "cyclical": "The notes on cyclical learning rates and cosine annealing",
}
_FIELDS = ("place", "says", "verdict", "fix", "shown")


def load(path: Path | str = PATH) -> dict[str, list[dict]]:
    """The rows of ``errata.yml``, by source, each checked for its fields and verdict."""
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or set(data) != set(SOURCES):
        raise ValueError(f"errata data must map exactly the sources {tuple(SOURCES)}")
    for source, rows in data.items():
        if not isinstance(rows, list) or not rows:
            raise ValueError(f"errata[{source!r}] must be a non-empty list of rows")
        for i, row in enumerate(rows):
            where = f"errata[{source!r}][{i}]"
            if not isinstance(row, dict) or set(row) != set(_FIELDS):
                raise ValueError(f"{where} must have exactly the fields {_FIELDS}, got {row!r}")
            if row["verdict"] not in VERDICTS:
                raise ValueError(f"{where}: verdict must be one of {VERDICTS}, got {row['verdict']!r}")
            shown = row["shown"]
            if not isinstance(shown, list) or not shown or not all(isinstance(s, str) and s for s in shown):
                raise ValueError(f"{where}: shown must list at least one link")
            for key in ("place", "says", "fix"):
                if not isinstance(row[key], str) or not row[key].strip():
                    raise ValueError(f"{where}: {key} must be non-empty text")
    return data


def to_markdown(rows: list[dict]) -> str:
    """One source's rows as a MyST definition list (place; then claim, verdict, fix, links)."""
    out = []
    for row in rows:
        says = " ".join(row["says"].split())
        fix = " ".join(row["fix"].split())
        out.append(f"{row['place']}\n: *The notes:* {says}  \n"
                   f"  **{row['verdict'].capitalize()}.** {fix}  \n"
                   f"  → {', '.join(row['shown'])}\n")
    return "\n".join(out)
