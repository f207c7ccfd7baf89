"""Train once, then load: trained models (and small results) are saved under data/cache/.

A file's name holds a hash of everything that defines the model and its data (architecture,
training settings, seed, and a fingerprint of the training images), and the file repeats that
configuration inside, so a model is only ever loaded into the notebook that would have trained
exactly it. Files are read with `torch.load(weights_only=True)`: tensors and plain values only,
never pickled code. They are written to a temporary file first and then renamed, so a crash
while saving leaves the old file whole. A corrupt file, or one from another configuration, is
not loaded: the model is trained again and the file replaced, with a message.

    train_or_load     a model: weights and training history
    compute_or_load   a small result (a table of numbers) computed from models
    recording()       what the cache did inside a `with` block, as CacheEvent data (loaded,
                      trained or retrained, and how long it took); printing is a separate step

Which models the course trains, and with which settings, is in helpers.recipes.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from .data import DATA_DIR
from .train import pick_device, set_seed

FORMAT = 1   # bump when the file layout changes, so old files are retrained, not misread


def cache_dir() -> Path:
    """data/cache, or $AE_CACHE_DIR when set (the tests and benchmarks use their own)."""
    return Path(os.environ.get("AE_CACHE_DIR") or DATA_DIR / "cache")


def config_key(config: dict) -> str:
    """A short, stable hash of a JSON-able configuration."""
    text = json.dumps(config, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def checkpoint_path(name: str, config: dict) -> Path:
    return cache_dir() / f"{name}-{config_key(config)}.pt"


@dataclass
class CacheEvent:
    """What the cache did for one model or result: data a caller can count and tabulate.

    action: "loaded" (from its file), "trained" (no file yet) or "retrained" (a file was there
    but not usable: `reason` says why). seconds: the loading or training time. saved: False
    when the file could not be written (the model is kept in memory only)."""
    name: str
    path: Path
    action: str
    reason: str = ""
    seconds: float = 0.0
    saved: bool = True
    what: str = "model"            # "model" (weights) or "result" (a small table of numbers)

    def message(self) -> str:
        """One line for people, as the cache prints it."""
        verb = "training" if self.what == "model" else "computing"
        if self.action == "loaded":
            return f"Cache: loaded {self.name} from {_shown(self.path)}"
        if self.action == "retrained":
            return f"Cache: {_shown(self.path)} is not used because {self.reason}; {verb} {self.name} again."
        return f"Cache: no saved {self.name} yet; {verb} it (saved to {_shown(self.path)} for next time)."


_recordings: list[list] = []


@contextmanager
def recording():
    """Collect a CacheEvent for every model or result loaded, trained or computed inside:

        with cache.recording() as events:
            model, history = trained_autoencoder(...)
        trained = [e.name for e in events if e.action != "loaded"]
    """
    events: list[CacheEvent] = []
    _recordings.append(events)
    try:
        yield events
    finally:
        _recordings.remove(events)


def train_or_load(name: str, config: dict, build: Callable[[], torch.nn.Module],
                  train: Callable[[torch.nn.Module], dict], verbose: bool = True):
    """Load the model `name` trained with `config`, or build and train it and save it.

    build():      returns a fresh, untrained model
    train(model): trains it in place and returns its history (a dict of lists of floats)
    Returns (model in evaluation mode on the course's device, history). With verbose, prints
    one line saying what it did; `recording()` collects the same as a CacheEvent.
    """
    started = time.perf_counter()
    device = pick_device()
    path, checkpoint, problem = _read(name, config, "state_dict")
    if checkpoint is not None:
        set_seed(config.get("seed", 0))
        model = build()
        try:
            model.load_state_dict(checkpoint["state_dict"])
        except (RuntimeError, KeyError) as err:
            problem = f"its weights do not fit this model ({str(err).splitlines()[0][:100]})"
        else:
            _done(CacheEvent(name, path, "loaded", seconds=time.perf_counter() - started), verbose)
            return model.to(device).eval(), checkpoint["history"]
    event = CacheEvent(name, path, "retrained" if problem else "trained", problem or "")
    if verbose:
        print(event.message())
    set_seed(config.get("seed", 0))
    model = build()
    history = train(model)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    event.saved = _save(path, config, dict(state_dict=state, history=history), verbose)
    event.seconds = time.perf_counter() - started
    _done(event, verbose=False)
    return model.to(device).eval(), history


def compute_or_load(name: str, config: dict, compute: Callable[[], object], verbose: bool = True):
    """Load the result `name` computed with `config`, or compute it and save it: the same
    cache for small results (numbers, lists, dicts of them, tensors) as for trained models.
    Returns the result."""
    started = time.perf_counter()
    path, checkpoint, problem = _read(name, config, "result")
    if checkpoint is not None:
        _done(CacheEvent(name, path, "loaded", seconds=time.perf_counter() - started,
                         what="result"), verbose)
        return checkpoint["result"]
    event = CacheEvent(name, path, "retrained" if problem else "trained", problem or "",
                       what="result")
    if verbose:
        print(event.message())
    result = compute()
    event.saved = _save(path, config, dict(result=result), verbose)
    event.seconds = time.perf_counter() - started
    _done(event, verbose=False)
    return result


def _read(name: str, config: dict, payload: str):
    """(path, checkpoint or None, why it is not used or None). A missing file is no problem."""
    path = checkpoint_path(name, config)
    if not path.exists():
        return path, None, None
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        return path, None, f"it cannot be read ({type(err).__name__}: {str(err).splitlines()[0][:100]})"
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT \
            or checkpoint.get("config") != json.dumps(config, sort_keys=True) or payload not in checkpoint:
        return path, None, "it was written for another configuration"
    return path, checkpoint, None


def _save(path: Path, config: dict, payload: dict, verbose: bool) -> bool:
    return save_atomically(path, dict(format=FORMAT, config=json.dumps(config, sort_keys=True),
                                      **payload), print if verbose else (lambda *_: None))


def _done(event: CacheEvent, verbose: bool) -> None:
    if verbose:
        print(event.message())
    for events in _recordings:
        events.append(event)


def save_atomically(path: Path, obj: dict, say=print) -> bool:
    """torch.save to a temporary file beside `path`, then rename it over `path`.
    Returns False (with a message) when the folder is not writable: the course goes on."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(obj, tmp)
        os.replace(tmp, path)
        return True
    except OSError as err:
        say(f"Cache: cannot save to {path.parent} ({err.strerror or err}); "
            f"the model is kept in memory only.")
        _remove_quietly(tmp)
        return False
    except BaseException:
        _remove_quietly(tmp)          # an interrupt while saving: leave the old file alone
        raise


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _shown(path: Path) -> str:
    """The path relative to the repository when it is inside it (shorter to read)."""
    try:
        return str(path.relative_to(DATA_DIR.parent))
    except ValueError:
        return str(path)


def trained_autoencoder(name: str, data, sizes: list[int], *, activation: str | None = "relu",
                        code_activation: str | None = None, out_activation: str | None = "sigmoid",
                        epochs: int = 20, batch_size: int = 128, lr: float = 1e-3,
                        schedule: str | None = None, seed: int = 0, verbose: bool = True):
    """An `Autoencoder` trained with MSE on data.x_train (test loss tracked on data.x_test),
    loaded from the cache when this exact model, data and recipe was trained before.
    Returns (model, history)."""
    from .models import Autoencoder
    from .train import fit

    model_config = dict(sizes=list(sizes), activation=activation,
                        code_activation=code_activation, out_activation=out_activation)
    config = dict(model=model_config, data=data.fingerprint, n_train=len(data.x_train),
                  loss="mse_per_pixel", epochs=epochs, batch_size=batch_size, lr=lr,
                  schedule=schedule, seed=seed)

    def run(model):
        return fit(model, data.x_train, x_val=data.x_test, epochs=epochs, batch_size=batch_size,
                   lr=lr, schedule=schedule, seed=seed, desc=name)

    return train_or_load(name, config, lambda: Autoencoder(**model_config), run, verbose)
