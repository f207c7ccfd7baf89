"""Train once, then load: every model of the course goes through `train_or_load(recipe, data)`.

    model, history = cache.train_or_load(recipes.DEEP_AE_2D, data)   # loaded if cached, else trained

A recipe (helpers.recipes) says how to build a network and how to train it; this module decides
whether that has to happen. A model is saved under a name made of the recipe's name and a hash
of everything that defines it: the recipe's settings, a fingerprint of the training images, and
a fingerprint of the source of the code that builds and trains it (helpers.fingerprint). The
file repeats that configuration inside, so a model is only ever loaded into the notebook that
would have trained exactly it.

Where: your own cache, data/cache/ in the course folder or $AE_CACHE_DIR (a relative
AE_CACHE_DIR is taken relative to the course folder, wherever a kernel was started). When the
course folder is read-only and AE_CACHE_DIR is not set, ~/.cache/autoencoders-hands-on is used.
On a class server a teacher may also set AE_SHARED_CACHE_DIR: a folder of models (a class
model pack, unpacked once) that is read first and never written.

Reading: `torch.load(weights_only=True)` (tensors and plain values only, never pickled code),
then every part is checked before it is used: the configuration, weights that fit the model
and are finite numbers, a loss history of finite numbers. A file that fails any check (empty,
truncated, corrupt, from another configuration) is named in one line, and the model is trained
again and saved in your own cache.

Writing: the file is serialised in memory, written to a temporary file beside the target,
flushed to the disk (fsync) and renamed over the target, so the target is always either the old
file or the whole new one. When the cache cannot be written (no permission, a read-only or a
full disk) no partial file is left, the trained model stays in memory for the session, and one
line says why and how to fix it (AE_CACHE_DIR). Two processes that want the same missing model
at once (two `make models`) train it once: the second waits for the first, then loads.

    train_or_load     a model (weights and training history), or a recipe's small result
    recording()       what the cache did inside a `with` block, as CacheEvent data (loaded,
                      trained or retrained, how long it took, saved or not); printing it is a
                      separate step (CacheEvent.message)
"""
from __future__ import annotations

import io
import json
import math
import numbers
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from .data import REPO_ROOT
from .errors import DISK_FULL, describe, write_error_in_words
from .fingerprint import config_key
from .train import pick_device, set_seed

FORMAT = 1   # bump when the file layout changes, so old files are retrained, not misread
HOME_CACHE = Path("~/.cache/autoencoders-hands-on")


def cache_dir() -> Path:
    """Your own cache, as an absolute path: $AE_CACHE_DIR (relative to the course folder when
    relative), else data/cache in the course folder, else (a read-only course folder, as on a
    class server) ~/.cache/autoencoders-hands-on."""
    chosen = os.environ.get("AE_CACHE_DIR")
    if chosen:
        return (REPO_ROOT / Path(chosen).expanduser()).resolve()
    default = REPO_ROOT / "data" / "cache"
    if _writable(default):
        return default
    return HOME_CACHE.expanduser().resolve()


def shared_cache_dir() -> Path | None:
    """$AE_SHARED_CACHE_DIR (relative to the course folder when relative): models to read,
    never to write. None when not set."""
    chosen = os.environ.get("AE_SHARED_CACHE_DIR")
    return (REPO_ROOT / Path(chosen).expanduser()).resolve() if chosen else None


def _writable(folder: Path) -> bool:
    """Can files be made in `folder` (or, when it does not exist yet, in the nearest existing
    folder above it)?"""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK)


def file_name(name: str, config: dict) -> str:
    """The cache file of the model `name` trained with `config`: <name>-<hash>.pt."""
    return f"{name}-{config_key(config)}.pt"


def checkpoint_path(name: str, config: dict) -> Path:
    """Where the model `name` trained with `config` is saved in your own cache."""
    return cache_dir() / file_name(name, config)


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
            model, history = train_or_load(recipes.DEEP_AE_2D, data)
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

def train_or_load(recipe, data, verbose: bool = True):
    """The model of `recipe` (helpers.recipes) trained on `data`: (model, history), or for a
    recipe of a small result (a table of numbers) (result, None). Loaded from the shared or your
    own cache when this recipe ran on this data with this code before; else trained (or
    computed) now and saved in your own cache. With verbose, prints what it did in one line;
    `recording()` collects the same as a CacheEvent."""
    recipe.check(data)
    config = recipe.key(data)
    needed = []             # what it is made from (an earlier stage, a stack): got first

    def get_needed():
        needed.extend(train_or_load(need, data, verbose)[0] for need in recipe.needs())

    if recipe.makes_result:
        return load_or_compute(recipe.cache_name, config, lambda: recipe.compute(data, *needed),
                               verbose, before=get_needed), None
    return load_or_train(recipe.cache_name, config, recipe.build,
                         lambda model: recipe.train(model, data, *needed), verbose, recipe.seed,
                         before=get_needed)


def load_or_train(name: str, config: dict, build: Callable[[], torch.nn.Module],
                  train: Callable[[torch.nn.Module], dict], verbose: bool = True, seed: int = 0,
                  before: Callable[[], None] = lambda: None):
    """The machinery under train_or_load, for one named configuration: load the model `name`
    trained with `config`, or build and train it and save it.

    build():      returns a fresh, untrained model (called after seeding with `seed`)
    train(model): trains it in place and returns its history (a dict of lists of floats)
    config:       everything that defines the model (JSON values)
    before():     runs when the model must be trained, before the line that says so
    Returns (model in evaluation mode on the course's device, history)."""
    say = print if verbose else (lambda *_: None)
    started = time.perf_counter()
    config_text = json.dumps(config, sort_keys=True)
    file = file_name(name, config)
    device = pick_device()

    def load(path):
        set_seed(seed)
        model = build()
        history, problem = load_checkpoint(path, config_text, model)
        return (model, history), problem

    found, problems = _look_up(file, load)
    if found is None:
        with _only_one_trains(cache_dir() / file, name, say):
            found, problems = _look_up(file, load)     # another process may have saved it
            if found is None:
                path = cache_dir() / file
                before()
                event = _starting(name, path, problems, "model", say)
                set_seed(seed)
                model = build()
                history = train(model)
                state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
                problem = _content_problem(state, history)
                if problem is not None:    # a file that would be refused on loading is not written
                    hint = ", often the sign of a learning rate that is too high" if "NaN" in problem else ""
                    say(f"Cache: {name} is not saved because training gave {problem}{hint}; the "
                        f"model is returned as it is.")
                    event.saved = False
                else:
                    history = {key: [float(v) for v in values] for key, values in history.items()}
                    event.saved = save_atomically(path, dict(format=FORMAT, config=config_text,
                                                             state_dict=state, history=history),
                                                  say, what=name)
                event.seconds = time.perf_counter() - started
                _done(event, say)
                return model.to(device).eval(), history
    (model, history), path = found
    _done(CacheEvent(name, path, "loaded", seconds=time.perf_counter() - started), say)
    return model.to(device).eval(), history


def load_or_compute(name: str, config: dict, compute: Callable[[], object], verbose: bool = True,
                    before: Callable[[], None] = lambda: None):
    """The same for a small result (numbers, lists and dicts of them): load the result `name`
    computed with `config`, or compute it and save it. Returns the result."""
    say = print if verbose else (lambda *_: None)
    started = time.perf_counter()
    config_text = json.dumps(config, sort_keys=True)
    file = file_name(name, config)

    def load(path):
        return load_result(path, config_text)

    found, problems = _look_up(file, load)
    if found is None:
        with _only_one_trains(cache_dir() / file, name, say):
            found, problems = _look_up(file, load)
            if found is None:
                path = cache_dir() / file
                before()
                event = _starting(name, path, problems, "result", say)
                result = compute()
                event.saved = save_atomically(path, dict(format=FORMAT, config=config_text,
                                                         result=result), say, what=name)
                event.seconds = time.perf_counter() - started
                _done(event, say)
                return result
    result, path = found
    _done(CacheEvent(name, path, "loaded", seconds=time.perf_counter() - started, what="result"), say)
    return result


def _look_up(file: str, load):
    """((what `load` gave, path), []) for the first usable file of this name, in the shared
    cache, then in your own; else (None, [(path, why it cannot be used), ...])."""
    problems = []
    for folder in (shared_cache_dir(), cache_dir()):
        if folder is None:
            continue
        path = folder / file
        if _found(path):
            found, problem = load(path)
            if problem is None:
                return (found, path), []
            problems.append((path, problem))
    return None, problems


def _starting(name: str, path: Path, problems: list, what: str, say) -> CacheEvent:
    """The event of a model about to be trained (or a result computed) into `path`, its line
    printed: the file that could not be used, and why, when there was one."""
    unusable, why = problems[-1] if problems else (path, "")
    event = CacheEvent(name, unusable, "retrained" if problems else "trained", why, what=what)
    say(event.message())
    event.path = path
    return event


@contextmanager
def _only_one_trains(path: Path, name: str, say):
    """Hold a lock on `path` (a file beside it) while a model is trained, so a second process
    that wants the same model waits, then loads it. No lock where the cache cannot be written
    or the system has no file locks (training goes on without one)."""
    try:
        import fcntl
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_name(f".{path.name}.lock"), "a")
    except (ImportError, OSError):
        yield
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"Cache: another process is training {name}; waiting for it to finish.")
            fcntl.flock(lock, fcntl.LOCK_EX)
        except OSError:
            pass                       # a file system without locks
        try:
            yield
        finally:                       # whoever waits on it finds the model saved; a newcomer
            _remove_quietly(Path(lock.name))   # makes a new lock file and finds it too


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
        _remove_stale_temporaries(path.parent)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())            # the bytes are on the disk before the rename
        return tmp
    except BaseException:
        _remove_quietly(tmp)
        raise


def _remove_stale_temporaries(folder: Path) -> None:
    """Remove the temporary files (.NAME.PID.tmp) of processes that no longer run: left by a
    process killed while it wrote (kill -9, a power cut)."""
    for tmp in folder.glob(".*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _running(int(pid)):
            _remove_quietly(tmp)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:              # it runs, as another user
        return True
    return True


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
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
