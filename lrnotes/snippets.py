"""Code from the book's sources, verbatim (bugs included), kept in one place.

Each snippet is a string of source code exactly as a source prints it, plus a namespace
holding what it defines, so that an exercise can show the code, run it, and grade a
repair of it without a second copy anywhere.

Contents
--------
WSD_6_3     the identity notes' warmup-stable-decay code (source §6.3, T = 20000); its bug: the
            stable phase ends at ``stable_steps`` (a duration) instead of
            ``warmup_steps + stable_steps``
wsd_6_3     its namespace: ``T, warmup_steps, stable_steps, decay_steps, wsd_schedule``
show        display a snippet as highlighted code (plain text outside Jupyter)
"""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["WSD_6_3", "wsd_6_3", "namespace", "show"]

# The notes give T = 20000 in their text, not in the code; it is the first line here.
WSD_6_3 = '''\
T = 20000
warmup_steps = 1000  # 5%
stable_steps = 17000  # 85%
decay_steps = 2000   # 10%

def wsd_schedule(step):
    if step < warmup_steps:
        return step / warmup_steps  # Linear warmup
    elif step < stable_steps:
        return 1.0  # Constant
    else:
        remaining = (T - step) / decay_steps
        return max(0.0, remaining)  # Linear decay
'''


def namespace(source: str) -> SimpleNamespace:
    """Run a snippet in a fresh namespace and return what it defines."""
    ns: dict = {}
    exec(compile(source, "<snippet>", "exec"), ns)  # noqa: S102 - our own, fixed source
    ns.pop("__builtins__", None)
    return SimpleNamespace(**ns)


wsd_6_3 = namespace(WSD_6_3)


def show(source: str) -> None:
    """Show a snippet as highlighted Python in Jupyter (printed elsewhere)."""
    try:
        from IPython.display import Code, display
    except ImportError:  # pragma: no cover - IPython is there wherever notebooks run
        print(source)
        return
    display(Code(source, language="python"))
