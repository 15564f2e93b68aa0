"""Generate the student exercise notebooks from their solution notebooks.

Each exercise has one source of truth, ``exercises/solutions/<name>.ipynb``.  Its
answers sit between two comment lines inside a function body::

    def critical_lr(H):
        \"\"\"Return 2/L ...\"\"\"
        # BEGIN SOLUTION
        # STUB: return 2 / (largest eigenvalue of H); ValueError if H is not SPD
        eig = np.linalg.eigvalsh(H)
        ...
        # END SOLUTION

The generator writes ``exercises/<name>.ipynb`` for the student, in which

* each solution block becomes ``raise NotImplementedError("Student exercise: ...")``,
  at the block's indentation, with the text of the block's ``# STUB:`` comment(s)
  (default: "complete <function>");
* cells tagged ``solution-only`` are dropped (extra experiments, the final asserts);
* in markdown cells, a line ``% solution-code: <name>`` becomes a fenced Python block
  with the solution's definition of ``<name>`` (markers removed), so that a dropdown
  ``{solution}`` in the book shows the code without a second copy of it (in MyST a
  ``%`` line is a comment, so the solution notebook itself renders without it);
* outputs and execution counts are stripped, so the file is byte-identical on
  every regeneration;
* links to the solution notebook itself (the Colab badge) point to the student one.
  Other links are copied as they are, and the student notebook sits one folder up:
  link to the book's pages by absolute document name (``{doc}`/chapters/...```), not by
  a relative path.

Nothing a student typed is ever overwritten.  The student notebook records, in its
metadata, a fingerprint of the cells it was generated with.  If the cells found on
disk no longer match it (a student edited, added or removed cells), the generator
refuses to overwrite the file and says so, unless ``--force`` is given.  Outputs do
not count as edits: running the notebook does not protect it.

Command line (run from the repository root)::

    python -m lrnotes.exercises            # (re)generate every student notebook
    python -m lrnotes.exercises --check    # exit 1 if any is missing or out of date (CI)
    python -m lrnotes.exercises --force    # overwrite even edited student notebooks
    python -m lrnotes.exercises 1-4-critical-learning-rate  # only this exercise

A malformed notebook (not JSON, cells that are not a list, a cell that is not an
object, a source that is not text) is reported by name with what is wrong: a solution
notebook stops the generator (exit status 2); a student notebook on disk is treated as
not generated here, so it is never overwritten.

Exit status: 0 on success, 1 if ``--check`` found stale notebooks or a student's edits
were protected, 2 if a solution notebook is malformed or none is found.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = [
    "BEGIN",
    "END",
    "STUB",
    "SOLUTION_CODE",
    "SOLUTION_ONLY",
    "META_KEY",
    "ExerciseError",
    "validate_structure",
    "strip_solutions",
    "definitions",
    "make_student",
    "fingerprint",
    "render",
    "Exercise",
    "find_exercises",
    "main",
]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
STUB = "# STUB:"
SOLUTION_CODE = "% solution-code:"
SOLUTION_ONLY = "solution-only"
META_KEY = "lrnotes_exercise"
SOLUTIONS_DIR = Path("exercises") / "solutions"
_KEEP_CELL_METADATA = ("tags", "jupyter")
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(")


class ExerciseError(ValueError):
    """A solution notebook the generator cannot turn into a student notebook."""


# ============================================================================ structure
_CELL_TYPES = ("code", "markdown", "raw")


def validate_structure(data, *, where: str) -> None:
    """Raise :class:`ExerciseError` unless ``data`` (parsed JSON) has a notebook's shape:
    an object whose ``cells`` is a list of objects, each with a known ``cell_type`` and a
    ``source`` that is a string or a list of strings."""
    if not isinstance(data, dict):
        raise ExerciseError(f"{where}: not a notebook (the top level is {type(data).__name__}, not an object)")
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise ExerciseError(f"{where}: 'cells' must be a list, got {type(cells).__name__}")
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise ExerciseError(f"{where}, cell {i}: a cell must be an object, got {type(cell).__name__}")
        if cell.get("cell_type") not in _CELL_TYPES:
            raise ExerciseError(f"{where}, cell {i}: cell_type must be one of {_CELL_TYPES}, "
                                f"got {cell.get('cell_type')!r}")
        src = cell.get("source", "")
        if not (isinstance(src, str) or (isinstance(src, list) and all(isinstance(x, str) for x in src))):
            raise ExerciseError(f"{where}, cell {i}: source must be text or a list of strings")
        meta = cell.get("metadata", {})
        if not isinstance(meta, dict) or not isinstance(meta.get("tags", []), list):
            raise ExerciseError(f"{where}, cell {i}: metadata must be an object, and its tags a list")


def _read_notebook(path: Path, where: str):
    """Read and validate a solution notebook, or raise :class:`ExerciseError`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExerciseError(f"{where}: cannot read it as JSON: {exc}") from None
    validate_structure(data, where=where)
    try:
        return nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat's own complaints, whatever their type
        raise ExerciseError(f"{where}: not a valid notebook: {exc}") from None


def definitions(source: str) -> dict[str, str]:
    """The top-level ``def`` blocks of ``source`` by name, solution markers removed."""
    found: dict[str, str] = {}
    lines = source.split("\n")
    i = 0
    while i < len(lines):
        match = re.match(r"^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(", lines[i])
        if not match:
            i += 1
            continue
        block = [lines[i]]
        i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i][:1] in (" ", "\t") or lines[i].startswith(")")):
            block.append(lines[i])
            i += 1
        while block and not block[-1].strip():
            block.pop()
        kept = [ln for ln in block if ln.strip() not in (BEGIN, END) and not ln.strip().startswith(STUB)]
        found[match.group(1)] = "\n".join(kept)
    return found


def _fill_solution_code(text: str, defs: dict[str, str], where: str) -> str:
    out = []
    for line in text.split("\n"):
        if line.strip().startswith(SOLUTION_CODE):
            names = line.strip()[len(SOLUTION_CODE):].replace(",", " ").split()
            missing = [n for n in names if n not in defs]
            if not names or missing:
                raise ExerciseError(f"{where}: {SOLUTION_CODE!r} names no function defined in the notebook: "
                                    f"{', '.join(missing) or '(none given)'}")
            out.append("```python\n" + "\n\n".join(defs[n] for n in names) + "\n```")
        else:
            out.append(line)
    return "\n".join(out)


# ============================================================================ transforms
LINE_LENGTH = 78  # the book's limit for code a reader sees


def _stub_line(indent: str, message: str) -> str:
    """``raise NotImplementedError("Student exercise: ...")``, wrapped over several
    lines (adjacent string literals) when it would be longer than :data:`LINE_LENGTH`."""
    if not message.lower().startswith("student exercise"):
        message = f"Student exercise: {message}"
    line = f"{indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"
    if len(line) <= LINE_LENGTH:
        return line
    room = max(LINE_LENGTH - len(indent) - 4 - 3, 20)  # 4 spaces, two quotes and a ")"
    chunks, current = [], ""
    for word in message.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and len(json.dumps(candidate + " ", ensure_ascii=False)) > room:
            chunks.append(current + " ")
            current = word
        else:
            current = candidate
    chunks.append(current)
    body = "\n".join(f"{indent}    {json.dumps(c, ensure_ascii=False)}" for c in chunks)
    return f"{indent}raise NotImplementedError(\n{body})"


def strip_solutions(source: str, *, where: str = "cell") -> str:
    """Replace every ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block of ``source`` by a
    ``raise NotImplementedError("Student exercise: ...")`` stub.

    Raises :class:`ExerciseError` for unmatched or nested markers, and for a block that
    is not inside a function body (a stub at the top level of a cell would make the
    student notebook fail to run).
    """
    out: list[str] = []
    block: list[str] | None = None
    indent = ""
    last_def = None
    begin_line = 0
    for number, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if block is not None:
                raise ExerciseError(f"{where}, line {number}: nested {BEGIN!r} (the one on line {begin_line} is still open)")
            indent = line[: len(line) - len(line.lstrip())]
            if not indent:
                raise ExerciseError(
                    f"{where}, line {number}: {BEGIN!r} must be indented inside a function body, "
                    "so that the student's stub raises only when the function is called"
                )
            block, begin_line = [], number
        elif stripped == END:
            if block is None:
                raise ExerciseError(f"{where}, line {number}: {END!r} without a matching {BEGIN!r}")
            notes = [ln.strip()[len(STUB):].strip() for ln in block if ln.strip().startswith(STUB)]
            message = " ".join(n for n in notes if n) or (
                f"complete `{last_def}`" if last_def else "complete this code"
            )
            out.append(_stub_line(indent, message))
            block = None
        elif block is not None:
            block.append(line)
        else:
            match = _DEF.match(line)
            if match:
                last_def = match.group(1)
            out.append(line)
    if block is not None:
        raise ExerciseError(f"{where}, line {begin_line}: {BEGIN!r} without a matching {END!r}")
    return "\n".join(out)


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def fingerprint(nb) -> str:
    """A hash of what a student could have typed: the cells' types and sources, in order
    (outputs, execution counts and metadata are ignored)."""
    cells = [[c.get("cell_type", ""), _source(c)] for c in nb.get("cells", [])]
    blob = json.dumps(cells, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def make_student(solution, *, solution_path: str, student_path: str):
    """Return the student notebook (a new ``NotebookNode``) generated from ``solution``.

    ``solution_path`` and ``student_path`` are the two notebooks' paths relative to the
    repository root (POSIX style); links to the first are rewritten to the second.
    """
    student = nbformat.v4.new_notebook()
    student.nbformat, student.nbformat_minor = solution.nbformat, solution.nbformat_minor
    student.metadata = copy.deepcopy(dict(solution.metadata))
    student.metadata.pop(META_KEY, None)
    defs: dict[str, str] = {}
    for cell in solution.cells:
        if cell.get("cell_type") == "code":
            defs.update(definitions(_source(cell)))
    cells = []
    for index, cell in enumerate(solution.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if SOLUTION_ONLY in tags:
            continue
        new = nbformat.from_dict(copy.deepcopy(dict(cell)))
        new.metadata = {k: copy.deepcopy(v) for k, v in cell.get("metadata", {}).items() if k in _KEEP_CELL_METADATA}
        source = _source(cell)
        if cell.cell_type == "code":
            where = f"{solution_path}, cell {index}"
            source = strip_solutions(source, where=where)
            try:
                compile(source, where, "exec")
            except SyntaxError as exc:
                raise ExerciseError(f"{where}: the student version does not compile: {exc}") from None
            new.outputs, new.execution_count = [], None
        else:
            if BEGIN in source or END in source:
                raise ExerciseError(f"{solution_path}, cell {index}: solution markers outside a code cell")
            source = source.replace(solution_path, student_path)
            if cell.cell_type == "markdown":
                source = _fill_solution_code(source, defs, f"{solution_path}, cell {index}")
        new.source = source
        cells.append(new)
    student.cells = cells
    student.metadata[META_KEY] = {
        "generated_from": solution_path,
        "fingerprint": fingerprint(student),
        "note": "Generated by `python -m lrnotes.exercises` from the solution notebook; edit that one.",
    }
    nbformat.validate(student)
    return student


def render(nb) -> str:
    """The exact text written to disk (deterministic: sorted keys, one trailing newline)."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


# ============================================================================ the files
@dataclass
class Exercise:
    """One solution notebook, its student notebook, and what regeneration would do.

    ``state`` is one of ``up-to-date``, ``missing``, ``stale`` (generated, untouched,
    but older than its solution), ``edited`` (cells changed since generation) or
    ``foreign`` (not written by this generator, or unreadable).
    """

    solution: Path
    student: Path
    text: str
    state: str
    detail: str = ""


def _state(student: Path, text: str) -> tuple[str, str]:
    if not student.exists():
        return "missing", ""
    try:
        current = student.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "foreign", "it cannot be read as text"
    if current == text:
        return "up-to-date", ""
    try:
        existing = json.loads(current)
        validate_structure(existing, where=student.name)
        stored = existing.get("metadata", {}).get(META_KEY, {}).get("fingerprint")
    except (json.JSONDecodeError, AttributeError, ExerciseError) as exc:
        why = str(exc) if isinstance(exc, ExerciseError) else "it is not a readable notebook"
        return "foreign", f"it is not a notebook this generator wrote ({why})"
    if not stored:
        return "foreign", "it was not written by this generator (no fingerprint in its metadata)"
    if stored != fingerprint(existing):
        return "edited", "its cells were changed after it was generated"
    return "stale", ""


def find_exercises(root: Path, names: list[str] | None = None) -> list[Exercise]:
    """Generate (in memory) every student notebook under ``root``; nothing is written."""
    root = Path(root)
    sol_dir = root / SOLUTIONS_DIR
    solutions = sorted(sol_dir.glob("*.ipynb"))
    if names:
        wanted = {Path(n).stem for n in names}
        unknown = wanted - {p.stem for p in solutions}
        if unknown:
            raise ExerciseError(f"no solution notebook named {', '.join(sorted(unknown))} in {sol_dir}")
        solutions = [p for p in solutions if p.stem in wanted]
    exercises = []
    for sol in solutions:
        student = sol.parent.parent / sol.name
        sol_rel, stu_rel = sol.relative_to(root).as_posix(), student.relative_to(root).as_posix()
        nb = _read_notebook(sol, sol_rel)
        text = render(make_student(nb, solution_path=sol_rel, student_path=stu_rel))
        state, detail = _state(student, text)
        exercises.append(Exercise(sol, student, text, state, detail))
    return exercises


def _orphans(root: Path) -> list[Path]:
    """Generated student notebooks whose solution notebook no longer exists."""
    found = []
    for path in sorted((root / SOLUTIONS_DIR).parent.glob("*.ipynb")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get(META_KEY)
        except (json.JSONDecodeError, AttributeError, OSError, UnicodeDecodeError):
            continue
        source = meta.get("generated_from") if isinstance(meta, dict) else None
        if isinstance(source, str) and source and not (root / source).exists():
            found.append(path)
    return found


# ============================================================================ CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lrnotes.exercises",
        description="Generate the student exercise notebooks (exercises/*.ipynb) from "
        "their solutions (exercises/solutions/*.ipynb). Never overwrites a student's edits "
        "unless --force.",
    )
    parser.add_argument("names", nargs="*", help="exercise names (default: all), e.g. 1-1-build-a-schedule")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a student notebook is missing or out of date")
    parser.add_argument("--force", action="store_true", help="overwrite student notebooks even if they were edited")
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root (default: the current directory)")
    args = parser.parse_args(argv)
    root = args.root

    try:
        exercises = find_exercises(root, args.names or None)
    except ExerciseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not exercises:
        print(f"error: no solution notebooks in {root / SOLUTIONS_DIR}", file=sys.stderr)
        return 2

    def rel(p: Path) -> str:
        return p.relative_to(root).as_posix()

    orphans = [] if args.names else _orphans(root)
    if args.check:
        stale = [e for e in exercises if e.state != "up-to-date"]
        for e in exercises:
            why = {"up-to-date": "up to date", "missing": "MISSING", "stale": "OUT OF DATE",
                   "edited": "EDITED by hand", "foreign": "NOT GENERATED"}[e.state]
            print(f"{why:>15}: {rel(e.student)}" + (f" ({e.detail})" if e.detail else ""))
        for p in orphans:
            print(f"{'ORPHAN':>15}: {rel(p)} (its solution notebook is gone)")
        if stale or orphans:
            print(
                "\nThe student notebooks are not what the solutions generate. Run "
                "`python -m lrnotes.exercises` (or `make exercises`) and commit the result.",
                file=sys.stderr,
            )
            return 1
        return 0

    refused = []
    for e in exercises:
        if e.state == "up-to-date":
            print(f"     up to date: {rel(e.student)}")
            continue
        if e.state in ("edited", "foreign") and not args.force:
            refused.append(e)
            print(f"        REFUSED: {rel(e.student)}: {e.detail}", file=sys.stderr)
            continue
        e.student.write_text(e.text, encoding="utf-8", newline="\n")
        verb = {"missing": "created", "stale": "updated"}.get(e.state, "overwritten (--force)")
        print(f"{verb:>15}: {rel(e.student)} (from {rel(e.solution)})")
    for p in orphans:
        print(f"        warning: {rel(p)} was generated from a solution notebook that is gone; left as is")
    if refused:
        print(
            "\nNothing a student typed is overwritten. To regenerate those notebooks, move them "
            "aside (or copy your work into the solution notebook) and run again, or pass --force "
            "to overwrite them.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
