"""The notebook timing plugin reports against the budgets and fails only a runaway."""

from types import SimpleNamespace

from tests import nbtiming


def _finish(tmp_path, durations):
    nbtiming._durations.clear()
    nbtiming._durations.update(durations)
    session = SimpleNamespace(exitstatus=0, config=SimpleNamespace(rootpath=tmp_path))
    nbtiming.pytest_sessionfinish(session, 0)
    return session.exitstatus, (tmp_path / "_build" / "timings.md").read_text()


def test_over_budget_is_reported_not_failed(tmp_path):
    status, table = _finish(tmp_path, {"chapters/a.ipynb": 100.0, "exercises/b.ipynb": 20.0})
    assert status == 0
    assert "| chapters/a.ipynb | 100.0 | 60 | NO |" in table and "| exercises/b.ipynb | 20.0 | 15 | NO |" in table


def test_a_runaway_fails(tmp_path):
    assert _finish(tmp_path, {"chapters/a.ipynb": 181.0})[0] == 1
    assert _finish(tmp_path, {"exercises/b.ipynb": 46.0})[0] == 1
    assert _finish(tmp_path, {f"chapters/{i}.ipynb": 59.0 for i in range(30)})[0] == 0  # 1,770 s < 3 x 600
    assert _finish(tmp_path, {f"chapters/{i}.ipynb": 59.0 for i in range(31)})[0] == 1  # 1,829 s
    nbtiming._durations.clear()
