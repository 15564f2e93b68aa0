"""Trainer checkpoints (issue 19): atomic saves, clear errors for damaged files, and a
configuration check that sees dtype, data, clip_norm and the optimizer factory."""

import os

import pytest
import torch

from lrnotes.nets import data as D
from lrnotes import schedules as S
from lrnotes.nets import train as T

SCHEDS = {"cos": S.cosine(20, peak=0.1)}
KW = dict(hidden=(4,), batch_size=100, momentum=0.9)


def _run(trainer, steps):
    trainer.run(steps)
    return trainer


@pytest.fixture(scope="module")
def digits():
    return D.digits(seed=0)


def test_a_failed_save_keeps_the_previous_checkpoint(digits, tmp_path, monkeypatch):
    tr = _run(T.Trainer(digits, SCHEDS, [0], **KW), 3)
    path = tmp_path / "ckpt.pt"
    tr.save(path)
    good = path.read_bytes()

    def full_disk(obj, f, *a, **k):
        f.write(b"partial")
        raise OSError(28, "No space left on device")

    tr.run(5)
    monkeypatch.setattr(T.torch, "save", full_disk)
    with pytest.raises(OSError, match="No space"):
        tr.save(path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["ckpt.pt"]          # no temporary file left behind


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_a_damaged_checkpoint_names_the_file(digits, tmp_path, damage):
    tr = _run(T.Trainer(digits, SCHEDS, [0], **KW), 3)
    path = tmp_path / "ckpt.pt"
    tr.save(path)
    raw = path.read_bytes()
    path.write_bytes({"truncate": raw[: len(raw) // 2], "garbage": b"not a checkpoint" * 10, "empty": b""}[damage])
    with pytest.raises(ValueError, match="ckpt.pt.*truncated or corrupt"):
        T.Trainer(digits, SCHEDS, [0], **KW).load(path)


@pytest.mark.parametrize("change", [
    dict(dtype=torch.float64), dict(clip_norm=1.0), dict(data_seed=1), dict(standardize="global")])
def test_the_configuration_check_sees_dtype_data_and_clipping(digits, change):
    change = dict(change)
    data = digits
    if "data_seed" in change or "standardize" in change:
        data = D.digits(seed=change.pop("data_seed", 0), standardize=change.pop("standardize", "feature"))
    sd = _run(T.Trainer(digits, SCHEDS, [0], **KW), 2).state_dict()
    other = T.Trainer(data, SCHEDS, [0], **KW, **change)
    with pytest.raises(ValueError, match="configuration .* differs"):
        other.load_state_dict(sd)


def test_optimizer_factories_are_compared_by_class_and_hyperparameters(digits):
    def make(params):
        return torch.optim.SGD(params, lr=0.1, momentum=0.9)
    sd = _run(T.Trainer(digits, SCHEDS, [0], hidden=(4,), optimizer=make), 2).state_dict()

    def make(params):  # noqa: F811 - same __name__, another optimizer
        return torch.optim.AdamW(params, lr=0.1)
    with pytest.raises(ValueError, match="optimizer_class"):
        T.Trainer(digits, SCHEDS, [0], hidden=(4,), optimizer=make).load_state_dict(sd)


def test_new_reset_momentum_flag_wins_over_the_checkpoint(digits):
    sd = _run(T.Trainer(digits, SCHEDS, [0], **KW), 2).state_dict()
    tr = T.Trainer(digits, SCHEDS, [0], reset_momentum=True, **KW).load_state_dict(sd)
    assert tr.schedulers["cos"].reset_momentum is True
