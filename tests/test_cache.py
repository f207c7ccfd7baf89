"""Train once, then load: hits, misses, unusable files, other configurations, other code,
atomic writes, and a cache that cannot be written (as a non-root user, in a user namespace)."""
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from tests.conftest import AS_A_USER, WITH_MOUNTS, run_python_as
from helpers import cache, models, recipes
from helpers.errors import describe

REPO = Path(__file__).resolve().parents[1]


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
    model, history = cache.load_or_train("toy", CONFIG, build, train)
    assert calls == [1] and history == {"train_loss": [0.5, 0.25]}
    assert "no saved toy yet" in capsys.readouterr().out
    path = cache.checkpoint_path("toy", CONFIG)
    assert path.exists() and path.parent == cache_dir

    loaded, history2 = cache.load_or_train("toy", CONFIG, build, train)
    assert calls == [1], "a cached model must not be trained again"
    assert history2 == history and "Cache: loaded toy" in capsys.readouterr().out
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a.cpu(), b.cpu())
    assert not loaded.training


def test_a_changed_configuration_is_a_different_file(cache_dir):
    calls = []
    build, train = make_parts(calls)
    cache.load_or_train("toy", CONFIG, build, train, verbose=False)
    cache.load_or_train("toy", dict(CONFIG, epochs=3), build, train, verbose=False)
    assert calls == [1, 1] and len(list(cache_dir.glob("toy-*.pt"))) == 2


def test_corrupt_file_is_retrained_and_replaced(cache_dir, capsys):
    calls = []
    build, train = make_parts(calls)
    path = cache.checkpoint_path("toy", CONFIG)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a checkpoint")
    cache.load_or_train("toy", CONFIG, build, train)
    assert calls == [1] and "cannot be read" in capsys.readouterr().out
    cache.load_or_train("toy", CONFIG, build, train)     # the replacement loads
    assert calls == [1]


def test_file_from_another_configuration_is_not_loaded(cache_dir, capsys):
    calls = []
    build, train = make_parts(calls)
    cache.load_or_train("toy", dict(CONFIG, seed=1), build, train, verbose=False)
    other = cache.checkpoint_path("toy", dict(CONFIG, seed=1))
    os.replace(other, cache.checkpoint_path("toy", CONFIG))   # copied under the wrong name
    cache.load_or_train("toy", CONFIG, build, train)
    assert calls == [1, 1] and "written for another configuration" in capsys.readouterr().out


def test_weights_of_another_model_are_not_loaded(cache_dir, capsys):
    calls = []
    build_small, train = make_parts(calls, sizes=(784, 8, 2))
    build_big, _ = make_parts(calls, sizes=(784, 16, 2))
    cache.load_or_train("toy", CONFIG, build_small, train, verbose=False)
    model, _ = cache.load_or_train("toy", CONFIG, build_big, train)   # same config, other model
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
    cache.load_or_train("toy", CONFIG, build, train)
    assert calls == [1] and "cannot be read" in capsys.readouterr().out


def test_interrupt_while_saving_leaves_the_old_file_whole(cache_dir, monkeypatch):
    calls = []
    build, train = make_parts(calls)
    cache.load_or_train("toy", CONFIG, build, train, verbose=False)
    path = cache.checkpoint_path("toy", CONFIG)
    before = path.read_bytes()

    def interrupted(fd):                  # Ctrl-C after the bytes went out, before the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.save_atomically(path, {"new": 1})
    assert path.read_bytes() == before
    assert [p.name for p in cache_dir.iterdir()] == [path.name], "no temporary file left behind"


def test_the_bytes_reach_the_disk_before_the_rename(cache_dir, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    assert cache.save_atomically(cache_dir / "x.pt", {"a": torch.ones(3)})
    assert events[:2] == ["fsync", "replace"] and events[2:] == ["fsync"], \
        f"file flushed, renamed, then the folder flushed: {events}"
    assert torch.equal(torch.load(cache_dir / "x.pt", weights_only=True)["a"], torch.ones(3))


def test_unwritable_cache_keeps_the_model_in_memory(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("AE_CACHE_DIR", str(blocker / "cache"))   # cannot be created
    calls = []
    build, train = make_parts(calls)
    model, history = cache.load_or_train("toy", CONFIG, build, train)
    assert calls == [1] and history["train_loss"] == [0.5, 0.25]
    out = capsys.readouterr().out
    assert "part of that path is a file, not a folder" in out and "kept in memory" in out
    assert "AE_CACHE_DIR" in out


TINY_AE = recipes.AutoencoderRecipe(name="tiny", title="tiny AE", notebook="01", sizes=(784, 8, 2),
                                    subset_epochs=1)


def test_a_recipe_is_keyed_on_the_data(cache_dir, tiny_data):
    model, history = cache.train_or_load(TINY_AE, tiny_data, verbose=False)
    assert len(history["train_loss"]) == 20 and len(history["val_loss"]) == 20   # 1 x 4,000 / 200
    tiny_data.x_train[0, 0] = 0.123456            # other training images => other model
    del tiny_data._fingerprint
    cache.train_or_load(TINY_AE, tiny_data, verbose=False)
    assert len(list(cache_dir.glob("tiny-*.pt"))) == 2


def test_a_recipe_is_keyed_on_its_settings_not_its_names(cache_dir, tiny_data):
    import dataclasses
    key = TINY_AE.key(tiny_data)
    for change in (dict(lr=2e-3), dict(batch_size=64), dict(sizes=(784, 8, 3)), dict(seed=1),
                   dict(subset_epochs=2), dict(schedule="cosine"), dict(code_activation="relu")):
        assert dataclasses.replace(TINY_AE, **change).key(tiny_data) != key, change
    for change in (dict(title="another title"), dict(notebook="02"), dict(used_in=("08",))):
        assert dataclasses.replace(TINY_AE, **change).key(tiny_data) == key, change


# --- files that must not be trusted: named, retrained, replaced ------------------------------

def trained_toy():
    """The toy model as train_or_load trains it for CONFIG (seeded build, then +1 per weight)."""
    cache.set_seed(CONFIG["seed"])
    model = make_parts([])[0]()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    return model


def checkpoint_bytes(**changes) -> bytes:
    """A checkpoint for CONFIG as train_or_load writes it, with some parts changed or removed
    (a value of DROP removes the key)."""
    checkpoint = dict(format=cache.FORMAT, config=json.dumps(CONFIG, sort_keys=True),
                      state_dict=trained_toy().state_dict(), history={"train_loss": [0.5, 0.25]})
    for key, value in changes.items():
        if value is DROP:
            del checkpoint[key]
        else:
            checkpoint[key] = value
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    return buffer.getvalue()


DROP = object()


def nan_in_first_weight():
    state = trained_toy().state_dict()
    state["encoder.0.weight"][0, 0] = float("nan")
    return state


def without_a_weight():
    state = trained_toy().state_dict()
    del state["decoder.0.bias"]
    return state


UNUSABLE = {   # what is in the file -> words the message must contain
    "empty file": (lambda: b"", "it is empty (0 bytes)"),
    "truncated file": (lambda: checkpoint_bytes()[:700], "it cannot be read (RuntimeError"),
    "no history": (lambda: checkpoint_bytes(history=DROP), "no loss history"),
    "history not lists": (lambda: checkpoint_bytes(history={"train_loss": 0.5}), "no loss history"),
    "NaN in history": (lambda: checkpoint_bytes(history={"train_loss": [0.5, float("nan")]}),
                       "NaN, infinite or non-numeric values in its loss history (train_loss)"),
    "state_dict a list": (lambda: checkpoint_bytes(state_dict=[torch.zeros(3)]), "no weights"),
    "state_dict of numbers": (lambda: checkpoint_bytes(state_dict={"encoder.0.weight": 1.0}), "no weights"),
    "no state_dict": (lambda: checkpoint_bytes(state_dict=DROP), "no weights"),
    "NaN weights": (lambda: checkpoint_bytes(state_dict=nan_in_first_weight()),
                    "NaN or infinite weights (encoder.0.weight)"),
    "a weight missing": (lambda: checkpoint_bytes(state_dict=without_a_weight()),
                         "its weights do not fit this model"),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_unusable_checkpoint_is_named_retrained_and_replaced(case, cache_dir, capsys):
    content, reason = UNUSABLE[case]
    path = cache.checkpoint_path("toy", CONFIG)
    path.parent.mkdir(parents=True)
    path.write_bytes(content())
    calls = []
    build, train = make_parts(calls)
    model, history = cache.load_or_train("toy", CONFIG, build, train)
    lines = capsys.readouterr().out.strip().splitlines()
    assert calls == [1], f"{case}: the model must be trained again"
    assert len(lines) == 1 and str(path) in lines[0] and reason in lines[0] \
        and "training toy again" in lines[0], f"{case}: one line naming the file and why: {lines}"
    expected = trained_toy()
    assert all(torch.equal(a.cpu(), b) for a, b in zip(model.state_dict().values(),
                                                     expected.state_dict().values()))
    again, history_again = cache.load_or_train("toy", CONFIG, build, train)
    assert calls == [1] and "Cache: loaded toy" in capsys.readouterr().out, "the file was replaced"
    assert history_again == history == {"train_loss": [0.5, 0.25]}


def test_describe_never_fails_on_an_empty_message():
    assert describe(EOFError()) == "EOFError"
    assert describe(RuntimeError("\n\n")) == "RuntimeError"
    assert describe(OSError(2, "No such file")) == "FileNotFoundError: [Errno 2] No such file"


def test_a_model_trained_into_nan_is_kept_but_not_saved(cache_dir, capsys):
    def build():
        return models.Autoencoder([784, 8, 2])

    def train(model):
        with torch.no_grad():
            model.encoder[0].weight.fill_(float("nan"))
        return {"train_loss": [float("nan")]}

    model, history = cache.load_or_train("toy", CONFIG, build, train)
    out = capsys.readouterr().out
    assert "toy is not saved because training gave NaN or infinite weights" in out
    assert torch.isnan(model.encoder[0].weight).all(), "the model is returned as it is"
    assert not list(cache_dir.glob("*")), "a file that would be refused is not written"


# --- a cache that cannot be written, as a learner meets it ------------------------------------
# Root ignores file permissions, so these run as an unprivileged user: in a user namespace
# (`unshare --user`), or, where those are not allowed, as uid 65534 through `setpriv` (root
# only). A read-only and a full file system are tmpfs mounts in a mount namespace of the test's
# own: they vanish with the process, nothing to clean up.

FAULT_SCRIPT = r'''
import contextlib, io, json, os, sys
import torch
from helpers import cache, recipes
from helpers.data import ImageData
from helpers.train import evaluate_loss

g = torch.Generator().manual_seed(0)
data = ImageData(torch.rand(200, 784, generator=g), torch.arange(200) % 10,
                 torch.rand(50, 784, generator=g), torch.arange(50) % 10, "subset", "random")
results = {}
for case, folder in json.loads(sys.argv[1]).items():
    os.environ["AE_CACHE_DIR"] = folder
    listing = lambda: sorted(os.listdir(folder)) if os.path.isdir(folder) else None
    before, out = listing(), io.StringIO()
    with contextlib.redirect_stdout(out):     # 400 KB of weights: more than the full disk holds
        model, history = cache.train_or_load(recipes.AutoencoderRecipe(
            name="kept", title="kept", notebook="01", sizes=(784, 64, 2), subset_epochs=1), data)
    results[case] = dict(
        printed=out.getvalue().splitlines(), epochs=len(history["train_loss"]) // 20,
        # the model returned is the one just trained: its held-out loss is the last one recorded
        same_model=evaluate_loss(model, data.x_test) == history["val_loss"][-1],
        writable=os.access(folder if os.path.isdir(folder) else os.path.dirname(folder), os.W_OK),
        read_only=os.path.isdir(folder) and bool(os.statvfs(folder).f_flag & os.ST_RDONLY),
        files_before=before, files_after=listing())
print(json.dumps(results))
'''


def run_as(ways: list, folders: dict, home: Path, setup: str = "") -> dict:
    return run_python_as(ways, FAULT_SCRIPT, [json.dumps(folders)], home, setup)


@pytest.fixture(scope="module")
def shared_folder():
    """A folder that the unprivileged user (uid 65534) can enter (pytest's own are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="ae-cache-faults-"))
    folder.chmod(0o755)
    (folder / "home").mkdir()
    (folder / "home").chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def assert_kept_and_explained(result: dict, words: str, fix: str):
    cache_lines = [line for line in result["printed"] if "cannot save" in line]
    assert len(cache_lines) == 1, f"one line says what happened: {result['printed']}"
    line = cache_lines[0]
    assert words in line and fix in line and "kept in memory" in line, line
    assert result["epochs"] == 1 and result["same_model"], "the trained model is returned"
    assert result["files_after"] == result["files_before"], \
        f"nothing partial is left: {result['files_before']} -> {result['files_after']}"


@pytest.fixture(scope="module")
def permission_faults(shared_folder):
    tmp = shared_folder
    existing, parent = tmp / "existing-cache", tmp / "parent"
    existing.mkdir()
    parent.mkdir()
    existing.chmod(0o555)                     # made read-only after creating it
    parent.chmod(0o555)
    try:
        yield run_as(AS_A_USER, {"existing": str(existing), "cannot create": str(parent / "cache")},
                     tmp / "home")
    finally:
        existing.chmod(0o755)
        parent.chmod(0o755)


@pytest.mark.parametrize("case", ["existing", "cannot create"])
def test_cache_without_write_permission_keeps_the_model(case, permission_faults):
    result = permission_faults[case]
    assert not result["writable"], "the test must run as a user who cannot write there"
    assert_kept_and_explained(result, "(no permission to write there)",
                              "set AE_CACHE_DIR to a folder you can write to")


@pytest.fixture(scope="module")
def mount_faults(shared_folder):
    tmp = shared_folder
    read_only, full = tmp / "read-only", tmp / "full"
    read_only.mkdir()
    full.mkdir()
    # a tmpfs made read-only after creating cache/ in it, and a 64 KB tmpfs that the 400 KB
    # checkpoint cannot fit into
    setup = (f"mount -t tmpfs -o size=1m tmpfs {read_only} && mkdir {read_only}/cache && "
             f"mount -o remount,ro {read_only} && "
             f"mount -t tmpfs -o size=64k tmpfs {full} && mkdir {full}/cache")
    return run_as(WITH_MOUNTS, {"read-only": f"{read_only}/cache", "full": f"{full}/cache"},
                  tmp / "home", setup)


def test_cache_on_a_read_only_file_system_keeps_the_model(mount_faults):
    result = mount_faults["read-only"]
    assert result["read_only"], "the folder must really be on a read-only mount"
    assert_kept_and_explained(result, "(it is on a read-only file system)",
                              "set AE_CACHE_DIR to a folder you can write to")


def test_cache_on_a_full_disk_keeps_the_model_and_leaves_no_partial_file(mount_faults):
    assert_kept_and_explained(mount_faults["full"], "(the disk is full)",
                              "free some space, or set AE_CACHE_DIR to a folder on another disk")


def test_the_cache_reports_what_it_did_as_data(cache_dir, capsys):
    calls = []
    build, train = make_parts(calls)
    with cache.recording() as events:
        cache.load_or_train("toy", CONFIG, build, train, verbose=False)
        cache.load_or_train("toy", CONFIG, build, train, verbose=False)
    assert [e.action for e in events] == ["trained", "loaded"] and capsys.readouterr().out == ""
    assert all(e.name == "toy" and e.path == cache.checkpoint_path("toy", CONFIG) and e.saved
               and e.seconds >= 0 for e in events)
    assert events[1].message().startswith("Cache: loaded toy from ")
    cache.checkpoint_path("toy", CONFIG).write_bytes(b"garbage")
    with cache.recording() as outer, cache.recording() as inner:
        cache.load_or_train("toy", CONFIG, build, train)
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
        first = cache.load_or_compute("table", {"kind": "t", "n": 3}, compute)
        again = cache.load_or_compute("table", {"kind": "t", "n": 3}, compute)
        cache.load_or_compute("table", {"kind": "t", "n": 4}, compute, verbose=False)
    assert first == again and computed == [1, 1]
    assert [(e.action, e.what) for e in events] == [("trained", "result"), ("loaded", "result"), ("trained", "result")]
    out = capsys.readouterr().out
    assert "no saved table yet; computing it" in out and "Cache: loaded table" in out
    # a file that holds weights, not a result, under the result's name is not taken for one
    path = cache.checkpoint_path("table", {"kind": "t", "n": 3})
    cache.save_atomically(path, {"format": cache.FORMAT, "config": '{"kind": "t", "n": 3}',
                                 "state_dict": {}, "history": {}})
    assert cache.load_or_compute("table", {"kind": "t", "n": 3}, compute, verbose=False) == first
    assert computed == [1, 1, 1]


def test_recordings_nest(cache_dir):
    calls = []
    build, train = make_parts(calls)
    with cache.recording() as outer:
        with cache.recording() as inner:
            cache.load_or_train("toy", CONFIG, build, train, verbose=False)
        cache.load_or_train("toy", CONFIG, build, train, verbose=False)
    assert [e.action for e in inner] == ["trained"]
    assert [e.action for e in outer] == ["trained", "loaded"]
    assert cache._recordings == [], "every recording is closed"


# --- where the cache is: your own, a shared read-only one, the home fallback ---------------------

def test_a_shared_folder_is_read_first_and_never_written(cache_dir, tmp_path, monkeypatch, capsys):
    shared = tmp_path / "shared"
    monkeypatch.setenv("AE_SHARED_CACHE_DIR", str(shared))
    calls = []
    build, train = make_parts(calls)
    # the teacher's copy, made into the shared folder
    monkeypatch.setenv("AE_CACHE_DIR", str(shared))
    cache.load_or_train("toy", CONFIG, build, train, verbose=False)
    monkeypatch.setenv("AE_CACHE_DIR", str(cache_dir))
    before = sorted(p.name for p in shared.iterdir())
    with cache.recording() as events:
        cache.load_or_train("toy", CONFIG, build, train)
    assert calls == [1] and events[0].action == "loaded" and events[0].path.parent == shared
    assert f"Cache: loaded toy from {shared}" in capsys.readouterr().out
    assert not cache_dir.exists(), "nothing is written into your own cache"
    # a model the shared folder lacks, or holds damaged, is trained into your own cache
    cache.load_or_train("toy", dict(CONFIG, epochs=3), build, train, verbose=False)
    (shared / before[0]).write_bytes(b"damaged")
    with cache.recording() as events:
        cache.load_or_train("toy", CONFIG, build, train)
    assert calls == [1, 1, 1] and [e.action for e in events] == ["retrained"]
    assert str(shared / before[0]) in capsys.readouterr().out, "the damaged shared file is named"
    assert sorted(p.name for p in cache_dir.glob("*.pt")) == sorted(
        {cache.file_name("toy", CONFIG), cache.file_name("toy", dict(CONFIG, epochs=3))})
    assert sorted(p.name for p in shared.iterdir()) == before, "the shared folder is never written"
    with cache.recording() as events:            # your own copy is found after the shared one failed
        cache.load_or_train("toy", CONFIG, build, train, verbose=False)
    assert events[0].action == "loaded" and events[0].path.parent == cache_dir


def test_a_relative_cache_folder_is_taken_from_the_course_folder(monkeypatch):
    monkeypatch.setenv("AE_CACHE_DIR", "my cache")
    monkeypatch.setenv("AE_SHARED_CACHE_DIR", "../class/models")
    monkeypatch.chdir(REPO / "notebooks")
    assert cache.cache_dir() == REPO / "my cache"
    assert cache.shared_cache_dir() == REPO.parent / "class" / "models"


def test_a_read_only_course_folder_falls_back_to_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("AE_CACHE_DIR", raising=False)
    assert cache.cache_dir() == REPO / "data" / "cache"
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(cache, "_writable", lambda folder: False)
    assert cache.cache_dir() == tmp_path / ".cache" / "autoencoders-hands-on"


def test_a_cache_folder_that_is_a_file_is_named_so(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("AE_CACHE_DIR", str(blocker))
    build, train = make_parts([])
    cache.load_or_train("toy", CONFIG, build, train)
    out = capsys.readouterr().out
    assert "(it is a file, not a folder)" in out and "file exists" not in out.lower()


def test_temporary_files_of_dead_processes_are_cleaned_on_the_next_write(cache_dir):
    cache_dir.mkdir()
    dead = cache_dir / ".old-model-0123456789ab.pt.4194999.tmp"     # beyond pid_max: never running
    alive = cache_dir / f".other-0123456789ab.pt.{os.getppid()}.tmp"  # a running process's
    for tmp in (dead, alive):
        tmp.write_bytes(b"half a file")
    assert cache.save_atomically(cache_dir / "x.pt", {"a": 1})
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted([alive.name, "x.pt"])


TWO_AT_ONCE = r'''
import os, sys, time, torch
from helpers import cache, models
CONFIG = {"model": [784, 8, 2], "epochs": 2, "seed": 0, "data": "abc"}

def train(model):
    print("TRAINING", flush=True)
    while not os.path.exists(sys.argv[1]):        # until the test lets it finish
        time.sleep(0.05)
    return {"train_loss": [0.5]}

with cache.recording() as events:
    cache.load_or_train("toy", CONFIG, lambda: models.Autoencoder([784, 8, 2]), train)
print("ACTION", events[-1].action, flush=True)
'''


def test_two_processes_wanting_the_same_model_train_it_once(cache_dir, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO), AE_CACHE_DIR=str(cache_dir))
    release = tmp_path / "release"

    def start():
        return subprocess.Popen([sys.executable, "-c", TWO_AT_ONCE, str(release)],
                                stdout=subprocess.PIPE, text=True, env=env)
    first = start()
    assert first.stdout.readline().startswith("Cache: no saved toy yet")
    assert first.stdout.readline().strip() == "TRAINING"          # it holds the lock now
    second = start()
    waiting = second.stdout.readline()
    release.touch()
    out_first, out_second = first.communicate(timeout=300)[0], second.communicate(timeout=300)[0]
    assert "ACTION trained" in out_first
    assert "another process is training toy; waiting for it to finish" in waiting
    assert "TRAINING" not in out_second and "ACTION loaded" in out_second
    assert [p.name for p in cache_dir.iterdir()] == [cache.file_name("toy", {"model": [784, 8, 2],
                                                     "epochs": 2, "seed": 0, "data": "abc"})], \
        "one model file, no lock or temporary file left"
