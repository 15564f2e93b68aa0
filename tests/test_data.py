"""Tests for lrnotes.nets.data: the bundled digits, the IDX parser and the opt-in MNIST loader."""

import gzip
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from lrnotes.nets import data as D


def test_digits_split_is_stratified_seeded_and_standardised_on_train_only():
    d = D.digits(seed=0)
    assert d.x_train.shape == (1347, 64) and d.x_test.shape == (450, 64)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert d.n_classes == 10 and d.n_features == 64
    # stratified: each class's share differs by less than one example between the splits
    _, y = load_digits(return_X_y=True)
    full = np.bincount(y, minlength=10)
    tr = np.bincount(d.y_train.numpy(), minlength=10)
    te = np.bincount(d.y_test.numpy(), minlength=10)
    np.testing.assert_array_equal(tr + te, full)
    assert np.all(np.abs(te - 0.25 * full) <= 1)
    # standardised with training statistics: train is centred and scaled, test only approximately
    d64 = D.digits(seed=0, dtype=torch.float64)
    xt = d64.x_train.numpy()
    np.testing.assert_allclose(xt.mean(axis=0), 0, atol=1e-12)
    varying = d64.std != 1.0
    np.testing.assert_allclose(xt.std(axis=0)[varying], 1, rtol=1e-12)
    assert np.all(xt[:, ~varying] == 0)                 # constant pixels are only centred
    raw_test = d64.x_test.numpy() * d64.std + d64.mean
    assert np.allclose(raw_test, np.round(raw_test), atol=1e-9)   # back to integer intensities 0..16
    assert abs(d64.x_test.numpy().mean()) > 1e-4        # test statistics were not used
    # seeded
    again, other = D.digits(seed=0), D.digits(seed=1)
    assert torch.equal(again.x_train, d.x_train) and torch.equal(again.y_test, d.y_test)
    assert not torch.equal(other.y_train, d.y_train)


def test_digits_options_and_errors():
    g = D.digits(standardize="global", test_frac=0.5, dtype=torch.float64)
    assert g.mean.shape == (1,) and len(g.y_test) in (898, 899)
    assert g.x_train.mean().item() == pytest.approx(0.0, abs=1e-12)
    n = D.digits(standardize="none")
    assert n.x_train.max().item() == 16.0
    assert "digits" in repr(n)
    with pytest.raises(ValueError, match=r"test_frac must be in \(0.0, 1.0\)"):
        D.digits(test_frac=1.0)
    with pytest.raises(ValueError, match=r"seed must be an integer >= 0"):
        D.digits(seed=-1)
    with pytest.raises(ValueError, match=r"standardize must be one of"):
        D.digits(standardize="minmax")


def _idx_bytes(array: np.ndarray, code: int, fmt: str) -> bytes:
    """An IDX file written by hand (independently of lrnotes): magic, sizes, big-endian data."""
    head = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(fmt).tobytes()


@pytest.mark.parametrize("code,fmt,dtype", [(0x08, "u1", np.uint8), (0x09, "i1", np.int8),
                                            (0x0B, ">i2", np.int16), (0x0C, ">i4", np.int32),
                                            (0x0D, ">f4", np.float32), (0x0E, ">f8", np.float64)])
def test_read_idx_all_types_plain_and_gzipped(tmp_path, code, fmt, dtype):
    rng = np.random.default_rng(0)
    a = (rng.integers(-100, 100, size=(3, 4, 2)) if code in (0x09, 0x0B, 0x0C) else
         rng.integers(0, 255, size=(3, 4, 2)) if code == 0x08 else rng.normal(size=(3, 4, 2))).astype(dtype)
    raw = _idx_bytes(a, code, fmt)
    (tmp_path / "a.idx").write_bytes(raw)
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(raw))
    for name in ("a.idx", "a.idx.gz"):
        got = D.read_idx(tmp_path / name)
        assert got.shape == a.shape and got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, a)


def test_read_idx_rejects_malformed_files(tmp_path):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    good = _idx_bytes(a, 0x08, "u1")
    for name, raw, msg in [("magic", b"\x01" + good[1:], "not an IDX file"),
                           ("type", good[:2] + b"\x07" + good[3:], "not an IDX file"),
                           ("short", good[:-1], "header says shape"),
                           ("head", good[:6], "truncated IDX header")]:
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(ValueError, match=msg):
            D.read_idx(tmp_path / name)


def _fake_mnist(folder, n_train=12, n_test=5, gz=False):
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for key, stem in D.MNIST_FILES.items():
        n = n_train if "train" in key else n_test
        a = rng.integers(0, 256, size=(n, 28, 28)) if key.startswith("x") else rng.integers(0, 10, size=n)
        a = a.astype(np.uint8)
        raw = _idx_bytes(a, 0x08, "u1")
        (folder / (stem + (".gz" if gz else ""))).write_bytes(gzip.compress(raw) if gz else raw)
        out[key] = a
    return out


def test_mnist_from_local_idx_files(tmp_path):
    raw = _fake_mnist(tmp_path / "MNIST" / "raw", gz=True)        # torchvision's layout
    m = D.mnist(tmp_path, dtype=torch.float64)
    assert m.x_train.shape == (12, 784) and m.x_test.shape == (5, 784)
    np.testing.assert_array_equal(m.y_train.numpy(), raw["y_train"])
    x = raw["x_train"].reshape(12, -1) / 255.0
    np.testing.assert_allclose(m.x_train.numpy(), (x - x.mean()) / x.std())
    np.testing.assert_allclose(m.x_test.numpy(), (raw["x_test"].reshape(5, -1) / 255.0 - x.mean()) / x.std())
    sub = D.mnist(tmp_path, n_train=4, n_test=2, seed=3)
    assert sub.x_train.shape == (4, 784) and sub.y_test.shape == (2,)
    flat = tmp_path / "flat"
    _fake_mnist(flat)
    assert D.mnist(flat).x_train.shape == (12, 784)
    with pytest.raises(ValueError, match=r"n_train must be in \[1, 12\]"):
        D.mnist(tmp_path, n_train=13)
    with pytest.raises(FileNotFoundError, match=r"download_mnist"):
        D.mnist(tmp_path / "nowhere")


def test_no_torchvision_at_import():
    code = "import sys, lrnotes.nets.data, lrnotes.nets.train, lrnotes.sim.sharpness; print('torchvision' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
