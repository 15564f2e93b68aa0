"""Sphinx extension: exercise boxes numbered by chapter ("Exercise E1.4b: ...").

sphinx-exercise numbers ``{exercise}`` boxes itself, across the whole book, which does
not match the book's scheme (Exercise E1.4 belongs to chapter 1; its tasks are E1.4a,
E1.4b, ...). The "E" keeps an exercise's number apart from the section numbers (section
1.4 is a page of chapter 1, exercise E1.4 is not). So the boxes use ``:nonumber:`` and a
title that starts with the number, ``{exercise} E1.4b: the critical learning rate``,
which sphinx-exercise renders as "Exercise (E1.4b: the critical learning rate)" and its
solution as "Solution to Exercise (E1.4b: ...)". This post-transform drops those
parentheses when the title starts with such a number: "Exercise E1.4b: the critical
learning rate".

Add ``_ext.sphinx_exercise_titles`` to ``sphinx.extra_extensions`` after
``sphinx_exercise``. Other titles are left alone.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

__all__ = ["NUMBERED", "drop_parentheses", "ExerciseNumberTitles", "setup"]

#: A title that carries its own number: "E1.4b: ..." (E, chapter.exercise, optional task letter).
NUMBERED = re.compile(r"^E\d+\.\d+[a-z]?:")


def drop_parentheses(parent: nodes.Element) -> bool:
    """Rewrite ``... (`` *E1.4b: title* ``)`` among ``parent``'s children as ``... E1.4b: title``.

    Returns whether anything changed.
    """
    children = list(parent.children)
    for i, child in enumerate(children[:-2]):
        follower = children[i + 1]
        if (isinstance(child, nodes.Text) and child.astext() == " ("
                and isinstance(follower, nodes.Text) and NUMBERED.match(follower.astext())
                and isinstance(children[-1], nodes.Text) and children[-1].astext() == ")"):
            parent.replace(child, nodes.Text(" "))
            parent.remove(children[-1])
            return True
    return False


class ExerciseNumberTitles(SphinxPostTransform):
    """Runs after sphinx-exercise has resolved its titles (its transforms: 20, 21)."""

    default_priority = 30

    def run(self, **kwargs) -> None:
        for node in self.document.findall(lambda n: isinstance(n, (nodes.title, nodes.reference))):
            drop_parentheses(node)


def setup(app):
    app.add_post_transform(ExerciseNumberTitles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
