r"""Real data for the book's experiments, offline by default.

- :func:`digits`: scikit-learn's bundled handwritten digits (1,797 images of 8x8 pixels,
  10 classes; shipped inside the package, no network), split into train and test sets
  stratified by class with a seed, and standardised with the training set's statistics
  only (:math:`\tilde x = (x - \hat\mu_{\text{train}})/\hat\sigma_{\text{train}}`, a
  feature that is constant on the training set is only centred).
- :func:`mnist`: opt-in MNIST from its raw IDX files, which must already be on disk
  (:func:`download_mnist` fetches them with torchvision when there is a network; nothing
  here downloads at import or test time, and torchvision is imported only there).
- :func:`read_idx`: the IDX format, parsed with NumPy.

Contents
--------
Dataset         train/test tensors and the standardisation used
digits          the bundled digits, split and standardised (torch tensors)
read_idx        parse one IDX file (optionally gzipped) into a NumPy array
mnist           MNIST from IDX files in a folder (torchvision's layout or flat)
download_mnist  fetch the IDX files with torchvision (needs a network; opt-in)
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lrnotes.schedules import _int_at_least, _real

__all__ = ["Dataset", "digits", "read_idx", "mnist", "download_mnist"]

STANDARDIZE = ("feature", "global", "none")


@dataclass
class Dataset:
    """A classification data set as torch tensors.

    ``x_train (n_train, n_features)``, ``y_train (n_train,)`` (int64), ``x_test``,
    ``y_test``; ``mean`` and ``std`` are the training-set statistics used to standardise
    (NumPy arrays, per feature or one value), ``n_classes`` the number of classes.
    """

    x_train: object
    y_train: object
    x_test: object
    y_test: object
    mean: np.ndarray
    std: np.ndarray
    n_classes: int
    name: str

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def to(self, device=None, dtype=None) -> "Dataset":
        """The same data on another device and/or floating dtype (labels stay int64)."""
        def move(t, floating):
            return t.to(device=device, dtype=dtype if floating else None)

        return Dataset(move(self.x_train, True), move(self.y_train, False), move(self.x_test, True),
                       move(self.y_test, False), self.mean, self.std, self.n_classes, self.name)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}: {len(self.y_train)} train / {len(self.y_test)} test, "
                f"{self.n_features} features, {self.n_classes} classes, "
                f"{self.x_train.dtype}, {self.x_train.device})")


def _standardise(x_train, x_test, how: str):
    if how not in STANDARDIZE:
        raise ValueError(f"standardize must be one of {STANDARDIZE}, got {how!r}")
    if how == "none":
        return x_train, x_test, np.zeros(1), np.ones(1)
    if how == "global":
        mean, std = np.array([x_train.mean()]), np.array([x_train.std()])
    else:
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a constant feature is only centred
    return (x_train - mean) / std, (x_test - mean) / std, mean, std


def _tensors(name, x_train, y_train, x_test, y_test, how, dtype, device, n_classes) -> Dataset:
    import torch

    x_train, x_test, mean, std = _standardise(x_train.astype(np.float64), x_test.astype(np.float64), how)
    dtype = torch.float32 if dtype is None else dtype

    def tx(a):
        return torch.as_tensor(a, dtype=dtype, device=device)

    def ty(a):
        return torch.as_tensor(np.asarray(a, dtype=np.int64), device=device)

    return Dataset(tx(x_train), ty(y_train), tx(x_test), ty(y_test), mean, std, n_classes, name)


def digits(seed: int = 0, test_frac: float = 0.25, *, standardize: str = "feature", dtype=None,
           device="cpu") -> Dataset:
    """scikit-learn's bundled digits, stratified train/test split, standardised on train.

    Parameters
    ----------
    seed : int >= 0
        Seeds the split (``train_test_split(..., stratify=y, random_state=seed)``).
    test_frac : float in (0, 1)
        Fraction held out for testing (0.25: 1,347 train and 450 test images).
    standardize : "feature" (default), "global" or "none"
    dtype : torch dtype (default float32); device : torch device

    Returns
    -------
    Dataset
        64 features (pixel intensities 0..16 before standardising), 10 classes.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    seed = _int_at_least("seed", seed, 0)
    test_frac = _real("test_frac", test_frac, low=0.0, high=1.0, low_open=True, high_open=True)
    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_frac, stratify=y, random_state=seed)
    return _tensors("digits", x_tr, y_tr, x_te, y_te, standardize, dtype, device, 10)


# --------------------------------------------------------------------------- IDX / MNIST
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Parse an IDX file (the MNIST format), plain or gzipped (by its ``.gz`` suffix).

    Layout: two zero bytes, a type byte (``0x08`` uint8, ``0x09`` int8, ``0x0B`` int16,
    ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64), the number of dimensions
    :math:`k`, then :math:`k` big-endian uint32 sizes, then the data, big-endian, in C order.
    Raises ``ValueError`` on a malformed file.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {raw[:4]!r})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) != header + count * dtype.itemsize:
        raise ValueError(f"{path}: IDX header says shape {shape} of {dtype}, i.e. "
                         f"{count * dtype.itemsize} bytes of data, but the file has {len(raw) - header}")
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _find(root: Path, stem: str) -> Path:
    for folder in (root, root / "MNIST" / "raw", root / "raw"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    raise FileNotFoundError(
        f"MNIST file {stem}[.gz] not found under {root} (looked in ., MNIST/raw, raw). "
        f"With a network, lrnotes.nets.data.download_mnist({str(root)!r}) fetches it.")


def mnist(root, *, n_train: int | None = None, n_test: int | None = None, seed: int = 0,
          standardize: str = "global", dtype=None, device="cpu") -> Dataset:
    """MNIST from the four raw IDX files in ``root`` (opt-in; never downloads).

    Looks for ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each maybe ``.gz``) in
    ``root``, ``root/MNIST/raw`` (torchvision's layout) or ``root/raw``.  Images are
    flattened to 784 features in [0, 1] and standardised with training statistics
    (``"global"``: one mean and std, the usual choice for MNIST).  ``n_train`` /
    ``n_test`` keep a random subset (drawn with ``seed``, stratification not enforced).
    """
    root = Path(root)
    arrays = {k: read_idx(_find(root, v)) for k, v in MNIST_FILES.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"MNIST {split} files disagree: images {x.shape}, labels {y.shape}")
    rng = np.random.default_rng(_int_at_least("seed", seed, 0))
    for split, n in (("train", n_train), ("test", n_test)):
        if n is not None:
            total = len(arrays[f"y_{split}"])
            n = _int_at_least(f"n_{split}", n, 1)
            if n > total:
                raise ValueError(f"n_{split} must be in [1, {total}], got {n}")
            keep = np.sort(rng.choice(total, size=n, replace=False))
            arrays[f"x_{split}"], arrays[f"y_{split}"] = arrays[f"x_{split}"][keep], arrays[f"y_{split}"][keep]

    def flat(x):
        return x.reshape(len(x), -1).astype(np.float64) / 255.0

    return _tensors("mnist", flat(arrays["x_train"]), arrays["y_train"], flat(arrays["x_test"]),
                    arrays["y_test"], standardize, dtype, device, 10)


def download_mnist(root) -> Path:  # pragma: no cover - needs a network
    """Fetch MNIST's IDX files into ``root/MNIST/raw`` with torchvision; return ``root``.

    Opt-in, for a machine with a network and torchvision installed; the book never calls
    it.  Afterwards ``mnist(root)`` reads the files.
    """
    try:
        from torchvision.datasets import MNIST
    except ImportError as err:
        raise ImportError("download_mnist needs torchvision (pip install torchvision), "
                          "or put the four IDX files in the folder by hand") from err
    root = Path(root)
    for train in (True, False):
        MNIST(str(root), train=train, download=True)
    return root
