"""Train once, then load: hits, misses, corrupt files, other configurations, atomic writes."""
import os

import pytest
import torch

from helpers import cache, models


def make_parts(calls, sizes=(784, 8, 2)):
    def build():
        return models.Autoencoder(list(sizes))

    def train(model):
        calls.append(1)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)                 # 'training' that leaves a mark we can recognise
        return {"train_loss": [0.5, 0.25]}
    return build, train


CONFIG = {"model": [784, 8, 2], "epochs": 2, "seed": 0, "data": "abc"}


def test_miss_then_hit(cache_dir, capsys):
    calls = []
    build, train = make_parts(calls)
    model, history = cache.train_or_load("toy", CONFIG, build, train)
    assert calls == [1] and history == {"train_loss": [0.5, 0.25]}
    assert "no saved toy yet" in capsys.readouterr().out
    path = cache.checkpoint_path("toy", CONFIG)
    assert path.exists() and path.parent == cache_dir

    loaded, history2 = cache.train_or_load("toy", CONFIG, build, train)
    assert calls == [1], "a cached model must not be trained again"
    assert history2 == history and "Cache: loaded toy" in capsys.readouterr().out
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a.cpu(), b.cpu())
    assert not loaded.training


def test_a_changed_configuration_is_a_different_file(cache_dir):
    calls = []
    build, train = make_parts(calls)
    cache.train_or_load("toy", CONFIG, build, train, verbose=False)
    cache.train_or_load("toy", dict(CONFIG, epochs=3), build, train, verbose=False)
    assert calls == [1, 1] and len(list(cache_dir.glob("toy-*.pt"))) == 2


def test_corrupt_file_is_retrained_and_replaced(cache_dir, capsys):
    calls = []
    build, train = make_parts(calls)
    path = cache.checkpoint_path("toy", CONFIG)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a checkpoint")
    cache.train_or_load("toy", CONFIG, build, train)
    assert calls == [1] and "cannot be read" in capsys.readouterr().out
    cache.train_or_load("toy", CONFIG, build, train)     # the replacement loads
    assert calls == [1]


def test_file_from_another_configuration_is_not_loaded(cache_dir, capsys):
    calls = []
    build, train = make_parts(calls)
    cache.train_or_load("toy", dict(CONFIG, seed=1), build, train, verbose=False)
    other = cache.checkpoint_path("toy", dict(CONFIG, seed=1))
    os.replace(other, cache.checkpoint_path("toy", CONFIG))   # copied under the wrong name
    cache.train_or_load("toy", CONFIG, build, train)
    assert calls == [1, 1] and "written for another configuration" in capsys.readouterr().out


def test_weights_of_another_model_are_not_loaded(cache_dir, capsys):
    calls = []
    build_small, train = make_parts(calls, sizes=(784, 8, 2))
    build_big, _ = make_parts(calls, sizes=(784, 16, 2))
    cache.train_or_load("toy", CONFIG, build_small, train, verbose=False)
    model, _ = cache.train_or_load("toy", CONFIG, build_big, train)   # same config, other model
    assert calls == [1, 1] and "do not fit this model" in capsys.readouterr().out
    assert model.encoder[0].weight.shape == (16, 784)


class Payload:
    """A class in a checkpoint: loading it would need pickle to run code."""


def test_pickled_code_is_refused(cache_dir, capsys):
    calls = []
    build, train = make_parts(calls)
    path = cache.checkpoint_path("toy", CONFIG)
    path.parent.mkdir(parents=True)
    torch.save({"format": cache.FORMAT, "config": "{}", "payload": Payload()}, path)
    cache.train_or_load("toy", CONFIG, build, train)
    assert calls == [1] and "cannot be read" in capsys.readouterr().out


def test_interrupt_while_saving_leaves_the_old_file_whole(cache_dir, monkeypatch):
    calls = []
    build, train = make_parts(calls)
    cache.train_or_load("toy", CONFIG, build, train, verbose=False)
    path = cache.checkpoint_path("toy", CONFIG)
    before = path.read_bytes()

    def half_written_then_interrupted(obj, f, *args, **kwargs):
        with open(f, "wb") as out:
            out.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", half_written_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.save_atomically(path, {"new": 1})
    assert path.read_bytes() == before
    assert [p.name for p in cache_dir.iterdir()] == [path.name], "no temporary file left behind"


def test_unwritable_cache_keeps_the_model_in_memory(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("AE_CACHE_DIR", str(blocker / "cache"))   # cannot be created
    calls = []
    build, train = make_parts(calls)
    model, history = cache.train_or_load("toy", CONFIG, build, train)
    assert calls == [1] and history["train_loss"] == [0.5, 0.25]
    assert "kept in memory only" in capsys.readouterr().out


def test_trained_autoencoder_keys_on_the_data(cache_dir, tiny_data):
    model, history = cache.trained_autoencoder("tiny", tiny_data, [784, 8, 2], epochs=1, verbose=False)
    assert len(history["train_loss"]) == 1 and len(history["val_loss"]) == 1
    tiny_data.x_train[0, 0] = 0.123456            # other training images => other model
    del tiny_data._fingerprint
    cache.trained_autoencoder("tiny", tiny_data, [784, 8, 2], epochs=1, verbose=False)
    assert len(list(cache_dir.glob("tiny-*.pt"))) == 2


def test_the_cache_reports_what_it_did_as_data(cache_dir, capsys):
    calls = []
    build, train = make_parts(calls)
    with cache.recording() as events:
        cache.train_or_load("toy", CONFIG, build, train, verbose=False)
        cache.train_or_load("toy", CONFIG, build, train, verbose=False)
    assert [e.action for e in events] == ["trained", "loaded"] and capsys.readouterr().out == ""
    assert all(e.name == "toy" and e.path == cache.checkpoint_path("toy", CONFIG) and e.saved
               and e.seconds >= 0 for e in events)
    assert events[1].message().startswith("Cache: loaded toy from ")
    cache.checkpoint_path("toy", CONFIG).write_bytes(b"garbage")
    with cache.recording() as outer, cache.recording() as inner:
        cache.train_or_load("toy", CONFIG, build, train)
    assert outer == inner and [e.action for e in inner] == ["retrained"]
    assert "cannot be read" in inner[0].reason and inner[0].message() in capsys.readouterr().out
    with cache.recording() as after:
        pass
    assert after == [] and calls == [1, 1]


def test_results_go_through_the_same_cache(cache_dir, capsys):
    computed = []

    def compute():
        computed.append(1)
        return {"pixels": 0.5, "1": 0.75, "counts": [1, 2, 3]}

    with cache.recording() as events:
        first = cache.compute_or_load("table", {"kind": "t", "n": 3}, compute)
        again = cache.compute_or_load("table", {"kind": "t", "n": 3}, compute)
        cache.compute_or_load("table", {"kind": "t", "n": 4}, compute, verbose=False)
    assert first == again and computed == [1, 1]
    assert [(e.action, e.what) for e in events] == [("trained", "result"), ("loaded", "result"), ("trained", "result")]
    out = capsys.readouterr().out
    assert "no saved table yet; computing it" in out and "Cache: loaded table" in out
    # a file that holds weights, not a result, under the result's name is not taken for one
    path = cache.checkpoint_path("table", {"kind": "t", "n": 3})
    cache.save_atomically(path, {"format": cache.FORMAT, "config": '{"kind": "t", "n": 3}',
                                 "state_dict": {}, "history": {}})
    assert cache.compute_or_load("table", {"kind": "t", "n": 3}, compute, verbose=False) == first
    assert computed == [1, 1, 1]
