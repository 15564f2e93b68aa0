"""lrnotes.nb.progress: a progress bar in full mode only."""

from lrnotes.nb import progress


def test_quick_mode_returns_the_iterable_itself(monkeypatch):
    monkeypatch.setenv("LRNOTES_SCALE", "quick")
    items = [1, 2, 3]
    assert progress(items, desc="x") is items


def test_full_mode_wraps_it_in_tqdm(monkeypatch):
    monkeypatch.setenv("LRNOTES_SCALE", "full")
    bar = progress(range(3), desc="x")
    assert type(bar).__name__ == "tqdm" or hasattr(bar, "update")
    assert list(bar) == [0, 1, 2]
