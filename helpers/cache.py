"""Train once, then load: trained models are saved under data/cache/.

A file's name holds a hash of everything that defines the model and its data (architecture,
training settings, seed, a fingerprint of the training images, and a fingerprint of the code
that trains it: see `code_fingerprint`), and the file repeats that configuration inside, so a
model is only ever loaded into the notebook that would have trained exactly it.

Reading: `torch.load(weights_only=True)` (tensors and plain values only, never pickled code),
then every part is checked before it is used: the configuration, weights that fit the model
and are finite numbers, a loss history of finite numbers. A file that fails any check (empty,
truncated, corrupt, from another configuration) is named in one line, and the model is trained
again and the file replaced.

Writing: the file is serialised in memory, written to a temporary file beside the target,
flushed to the disk (fsync) and renamed over the target, so the target is always either the old
file or the whole new one. When the cache cannot be written (no permission, a read-only or a
full disk) no partial file is left, the trained model stays in memory for the session, and one
line says why and how to fix it (AE_CACHE_DIR).

    train_or_load     a model: weights and training history
    compute_or_load   a small result (a table of numbers) computed from models
    recording()       what the cache did inside a `with` block, as CacheEvent data (loaded,
                      trained or retrained, how long it took, saved or not); printing it is a
                      separate step (CacheEvent.message)

Which models the course trains, and with which settings, is in helpers.recipes.
"""
from __future__ import annotations

import hashlib
import inspect
import io
import json
import math
import numbers
import os
import time
import types
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from .data import DATA_DIR
from .errors import DISK_FULL, check_sizes, describe, write_error_in_words
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


# --- which code trained a model --------------------------------------------------------------

def code_fingerprint(*objects) -> str:
    """A short hash of the code of the given functions and classes, for a cache key: edit the
    loss, the model or the training loop, and the models they train are trained again instead
    of loaded. Pass everything that decides how a model trains; nothing else counts, not even a
    module constant that the code reads (pass it too when it matters, e.g. an epsilon).

    What is hashed is the compiled code that is running (instructions, constants, the names it
    uses, default argument values), not the text of the file. So comments, docstrings, blank
    lines and line breaks do not count, and a file edited but not yet re-imported (restart the
    kernel to use it) cannot give a model of the old code the new code's key. A new Python
    version compiles differently: its first run trains the models again."""
    h = hashlib.sha1()
    for obj in objects:
        h.update(f"{_stable_repr(obj)}\n".encode())     # its name (or value, for a constant)
        _hash_object(obj, h)
    return h.hexdigest()[:12]


def _hash_object(obj, h) -> None:
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, property):
        for part in (obj.fget, obj.fset, obj.fdel):
            if part is not None:
                _hash_object(part, h)
    elif isinstance(obj, type):                   # a class: its bases and what it defines
        h.update(_stable_repr(obj.__bases__).encode())
        for name, value in sorted(vars(obj).items()):
            if name not in ("__doc__", "__module__", "__qualname__", "__dict__", "__weakref__",
                            "__annotations__", "__firstlineno__", "__static_attributes__"):
                h.update(name.encode())
                _hash_object(value, h)
    elif isinstance(obj, types.FunctionType):
        _hash_code(obj.__code__, h, is_function=True)
        h.update(_stable_repr((obj.__defaults__, obj.__kwdefaults__)).encode())
    else:
        h.update(_stable_repr(obj).encode())      # a constant, e.g. a class attribute


def _hash_code(code: types.CodeType, h, is_function: bool) -> None:
    h.update(code.co_code)
    h.update(repr((code.co_names, code.co_varnames, code.co_freevars)).encode())
    consts = code.co_consts
    # A function's docstring is its first constant (or a None in its place, up to Python 3.13;
    # from 3.14 a flag says whether there is one): it is left out.
    has_docstring = getattr(inspect, "CO_HAS_DOCSTRING", None)
    if is_function and consts and (has_docstring is None or code.co_flags & has_docstring):
        consts = consts[1:]
    for const in consts:
        if isinstance(const, types.CodeType):     # nested functions, lambdas, comprehensions
            _hash_code(const, h, is_function=const.co_name.isidentifier())
        else:
            h.update(_stable_repr(const).encode())


def _stable_repr(value) -> str:
    """repr() that is the same in every process: sets sorted (string hashes vary between
    runs), functions and classes by name (their repr holds a memory address)."""
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_stable_repr(v) for v in value) + ")"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(_stable_repr(v) for v in value)) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(sorted(f"{k!r}: {_stable_repr(v)}" for k, v in value.items())) + "}"
    if hasattr(value, "__qualname__") and hasattr(value, "__module__"):
        return f"{value.__module__}.{value.__qualname__}"
    text = repr(value)
    return type(value).__qualname__ if " at 0x" in text else text


# --- what the cache did, as data ------------------------------------------------------------

@dataclass
class CacheEvent:
    """What the cache did for one model or result: data a caller can count and tabulate.

    action: "loaded" (from its file), "trained" (no file yet) or "retrained" (a file was there
    but not usable: `reason` says why). seconds: the loading or training time. saved: False
    when nothing was written (the folder could not be written, or training gave NaN)."""
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
    finally:   # by identity: a nested recording's list holds the same events, so compares equal
        _recordings[:] = [r for r in _recordings if r is not events]


def _done(event: CacheEvent, say) -> None:
    if event.action == "loaded":
        say(event.message())
    for events in _recordings:
        events.append(event)


# --- train or load ---------------------------------------------------------------------------

def train_or_load(name: str, config: dict, build: Callable[[], torch.nn.Module],
                  train: Callable[[torch.nn.Module], dict], verbose: bool = True):
    """Load the model `name` trained with `config`, or build and train it and save it.

    build():      returns a fresh, untrained model
    train(model): trains it in place and returns its history (a dict of lists of floats)
    config:       everything that defines the model, including code_fingerprint(...) of the
                  code that trains it
    Returns (model in evaluation mode on the course's device, history). With verbose, prints
    what it did in one line; `recording()` collects the same as a CacheEvent.
    """
    say = print if verbose else (lambda *_: None)
    started = time.perf_counter()
    config_text = json.dumps(config, sort_keys=True)
    path = checkpoint_path(name, config)
    device = pick_device()

    problem = None
    if _found(path):
        set_seed(config.get("seed", 0))
        model = build()
        history, problem = load_checkpoint(path, config_text, model)
        if problem is None:
            _done(CacheEvent(name, path, "loaded", seconds=time.perf_counter() - started), say)
            return model.to(device).eval(), history
    event = CacheEvent(name, path, "retrained" if problem else "trained", problem or "")
    say(event.message())

    set_seed(config.get("seed", 0))
    model = build()
    history = train(model)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    problem = _content_problem(state, history)
    if problem is not None:    # a file that would be refused on loading is not written
        hint = ", often the sign of a learning rate that is too high" if "NaN" in problem else ""
        say(f"Cache: {name} is not saved because training gave {problem}{hint}; the model is "
            f"returned as it is.")
        event.saved = False
    else:
        history_floats = {key: [float(v) for v in values] for key, values in history.items()}
        event.saved = save_atomically(path, dict(format=FORMAT, config=config_text, state_dict=state,
                                                 history=history_floats), say, what=name)
    event.seconds = time.perf_counter() - started
    _done(event, say)
    return model.to(device).eval(), history


def compute_or_load(name: str, config: dict, compute: Callable[[], object], verbose: bool = True):
    """Load the result `name` computed with `config`, or compute it and save it: the same
    cache, checks and messages for small results (numbers, lists and dicts of them) as for
    trained models. Returns the result."""
    say = print if verbose else (lambda *_: None)
    started = time.perf_counter()
    config_text = json.dumps(config, sort_keys=True)
    path = checkpoint_path(name, config)
    problem = None
    if _found(path):
        result, problem = load_result(path, config_text)
        if problem is None:
            _done(CacheEvent(name, path, "loaded", seconds=time.perf_counter() - started,
                             what="result"), say)
            return result
    event = CacheEvent(name, path, "retrained" if problem else "trained", problem or "",
                       what="result")
    say(event.message())
    result = compute()
    event.saved = save_atomically(path, dict(format=FORMAT, config=config_text, result=result),
                                  say, what=name)
    event.seconds = time.perf_counter() - started
    _done(event, say)
    return result


def _found(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:            # e.g. a folder we may not look into: reading it will say why
        return True


def _read(path: Path, config_text: str):
    """(checkpoint, None) for a readable file of this configuration, else (None, why not)."""
    try:
        if path.stat().st_size == 0:
            return None, "it is empty (0 bytes)"
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:     # truncated, corrupt, pickled code, unreadable: all the same
        return None, f"it cannot be read ({describe(err)})"
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT \
            or checkpoint.get("config") != config_text:
        return None, "it was written for another configuration"
    return checkpoint, None


def load_result(path: Path, config_text: str):
    """(result, None) when the file at `path` holds a result of this configuration, else
    (None, why it cannot be used)."""
    checkpoint, problem = _read(path, config_text)
    if problem is None and "result" not in checkpoint:
        problem = "it holds no result"
    return (None, problem) if problem else (checkpoint["result"], None)


def load_checkpoint(path: Path, config_text: str, model: torch.nn.Module):
    """Load the weights saved at `path` into `model` if the file passes every check.
    Returns (history, None), or (None, why the file cannot be used: words for a message)."""
    checkpoint, problem = _read(path, config_text)
    if problem is not None:
        return None, problem
    state, history = checkpoint.get("state_dict"), checkpoint.get("history")
    problem = _content_problem(state, history)
    if problem is not None:
        return None, f"it holds {problem}"
    try:
        model.load_state_dict(state)          # strict: every weight there, every shape right
    except Exception as err:
        return None, f"its weights do not fit this model ({describe(err)})"
    return history, None


def _content_problem(state, history) -> str | None:
    """What is wrong with a state_dict and a history, in words, or None when both are usable:
    tensors of finite numbers, and {name: [finite numbers]}."""
    if not isinstance(state, dict) or not state \
            or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        return "no weights (its state_dict is not a table of named tensors)"
    for key, tensor in state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            return f"NaN or infinite weights ({key})"
    if not isinstance(history, dict) or not all(
            isinstance(k, str) and isinstance(v, list) for k, v in history.items()):
        return "no loss history (a table of lists of numbers)"
    for key, values in history.items():
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
                   for v in values):
            return f"NaN, infinite or non-numeric values in its loss history ({key})"
    return None


def file_problem(file_name: str, data: bytes) -> str | None:
    """Why the bytes `data` are not a usable cache file called `file_name`, in words, or None:
    read with weights_only=True (never pickled code), this file format, a configuration whose
    hash is the one in the name (<name>-<hash>.pt), and usable weights and history, or a result.
    For files that arrive from elsewhere (tools/pack.py), before they go into the cache."""
    try:
        checkpoint = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:
        return f"it cannot be read with weights_only=True ({describe(err)})"
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        return f"it is not a cache file of format {FORMAT}"
    try:
        key = config_key(json.loads(checkpoint["config"]))
    except (KeyError, TypeError, ValueError):
        return "its configuration is missing or is not JSON"
    if not file_name.endswith(f"-{key}.pt"):
        return f"its configuration (hash {key}) is not the one its name says"
    if "result" in checkpoint:
        return None
    problem = _content_problem(checkpoint.get("state_dict"), checkpoint.get("history"))
    return f"it holds {problem}" if problem else None


# --- writing ---------------------------------------------------------------------------------

def save_atomically(path: Path, obj: dict, say=print, what: str | None = None) -> bool:
    """Save `obj` at `path` so that `path` is always the old file or the whole new one: write
    the bytes to a temporary file beside it, flush them to the disk, rename the temporary file
    over `path`, and flush the folder too (the rename is then on the disk as well).
    Returns False, with a one-line message, when the folder cannot be written: the caller keeps
    what it computed in memory and the course goes on. No temporary file is ever left."""
    what = what or path.stem
    buffer = io.BytesIO()
    try:
        torch.save(obj, buffer)             # in memory: a failure here is not the disk's
    except Exception as err:
        say(f"Cache: cannot save {what} ({describe(err)}); it is kept in memory for this "
            f"session only.")
        return False
    tmp = None
    try:
        tmp = write_temporary(path, buffer.getbuffer())
        os.replace(tmp, path)
        _fsync_folder(path.parent)
        return True
    except OSError as err:
        say(f"Cache: cannot save {what} in {_shown(path.parent)} ({write_error_in_words(err)}); "
            f"it is kept in memory for this session only and trained again next time. "
            f"To keep trained models, {how_to_fix(err)}.")
        return False
    finally:
        if tmp is not None:
            _remove_quietly(tmp)      # after the rename there is nothing left to remove


def write_temporary(path: Path, data) -> Path:
    """Write the bytes `data` to a temporary file beside `path` and flush them to the disk;
    return that file, for the caller to rename over `path` (os.replace). If anything fails, or
    the write is interrupted, no temporary file is left and the error is raised."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())            # the bytes are on the disk before the rename
        return tmp
    except BaseException:
        _remove_quietly(tmp)
        raise


def how_to_fix(err: OSError) -> str:
    """What to do when the cache folder cannot be written, for the end of a message."""
    return ("free some space, or set AE_CACHE_DIR to a folder on another disk"
            if err.errno in DISK_FULL else "set AE_CACHE_DIR to a folder you can write to")


def _fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename) to the disk; not possible on every system."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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


# --- the plain autoencoder -------------------------------------------------------------------

def trained_autoencoder(name: str, data, sizes: list[int], *, activation: str | None = "relu",
                        code_activation: str | None = None, out_activation: str | None = "sigmoid",
                        epochs: int = 20, batch_size: int = 128, lr: float = 1e-3,
                        schedule: str | None = None, seed: int = 0, verbose: bool = True):
    """An `Autoencoder` trained with MSE on data.x_train (test loss tracked on data.x_test),
    loaded from the cache when this exact model, data and recipe was trained before.
    Returns (model, history)."""
    from .losses import mse_per_pixel, reconstruction_loss
    from .models import Autoencoder, make_activation, mlp
    from .train import evaluate_loss, fit

    sizes = check_sizes("sizes", sizes, first=data.x_train.shape[1])
    model_config = dict(sizes=sizes, activation=activation,
                        code_activation=code_activation, out_activation=out_activation)
    config = dict(model=model_config, data=data.fingerprint, n_train=len(data.x_train),
                  loss="mse_per_pixel", epochs=epochs, batch_size=batch_size, lr=lr,
                  schedule=schedule, seed=seed,
                  code=code_fingerprint(trained_autoencoder, fit, evaluate_loss, reconstruction_loss,
                                        mse_per_pixel, Autoencoder, mlp, make_activation))

    def run(model):
        return fit(model, data.x_train, x_val=data.x_test, epochs=epochs, batch_size=batch_size,
                   lr=lr, schedule=schedule, seed=seed, desc=name)

    return train_or_load(name, config, lambda: Autoencoder(**model_config), run, verbose)
