"""Train once, then load: trained models are saved under data/cache/.

A file's name holds a hash of everything that defines the model and its data (architecture,
training settings, seed, and a fingerprint of the training images), and the file repeats that
configuration inside, so a model is only ever loaded into the notebook that would have trained
exactly it. Files are read with `torch.load(weights_only=True)`: tensors and plain values only,
never pickled code. They are written to a temporary file first and then renamed, so a crash
while saving leaves the old file whole. A corrupt file, or one from another configuration, is
not loaded: the model is trained again and the file replaced, with a message.
"""
from __future__ import annotations

import hashlib
import json
import os
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


def train_or_load(name: str, config: dict, build: Callable[[], torch.nn.Module],
                  train: Callable[[torch.nn.Module], dict], verbose: bool = True):
    """Load the model `name` trained with `config`, or build and train it and save it.

    build():      returns a fresh, untrained model
    train(model): trains it in place and returns its history (a dict of lists of floats)
    Returns (model in evaluation mode on the course's device, history).
    """
    say = print if verbose else (lambda *_: None)
    config_text = json.dumps(config, sort_keys=True)
    path = checkpoint_path(name, config)
    device = pick_device()

    if path.exists():
        problem, checkpoint = None, None
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:
            problem = f"it cannot be read ({type(err).__name__}: {str(err).splitlines()[0][:100]})"
        if checkpoint is not None:
            if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT \
                    or checkpoint.get("config") != config_text:
                problem = "it was written for another configuration"
            else:
                set_seed(config.get("seed", 0))
                model = build()
                try:
                    model.load_state_dict(checkpoint["state_dict"])
                except (RuntimeError, KeyError) as err:
                    problem = f"its weights do not fit this model ({str(err).splitlines()[0][:100]})"
                else:
                    say(f"Cache: loaded {name} from {_shown(path)}")
                    return model.to(device).eval(), checkpoint["history"]
        say(f"Cache: {_shown(path)} is not used because {problem}; training {name} again.")
    else:
        say(f"Cache: no saved {name} yet; training it (saved to {_shown(path)} for next time).")

    set_seed(config.get("seed", 0))
    model = build()
    history = train(model)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    save_atomically(path, dict(format=FORMAT, config=config_text, state_dict=state,
                               history=history), say)
    return model.to(device).eval(), history


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
