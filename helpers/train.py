"""Training: pick a device, seed, and `fit` a model on tensors held in memory.

No DataLoader and no per-sample transforms: the whole data set is one tensor, and each batch is
a slice of it in a shuffled order. For images this small that is the fastest way on a CPU.
"""
from __future__ import annotations

import math

import torch
from tqdm.auto import tqdm

from . import threads
from .errors import check_choice, check_int, check_number
from .losses import cross_entropy_loss, reconstruction_loss
from .models import device_of


def pick_device(verbose: bool = False) -> torch.device:
    """CUDA if there is a GPU, else Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        device = torch.device("cuda")
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    if verbose:
        print(f"Device: {device} ({threads.describe(torch.get_num_threads())})")
    return device


def set_seed(seed: int = 0) -> None:
    """Seed PyTorch's generators (CPU and GPU): called explicitly, never on import."""
    torch.manual_seed(seed)


SUBSET_TRAIN_SIZE = 4000   # training images in the default data set


def epochs_for(n_train: int, subset_epochs: int) -> int:
    """Epochs that show a model at least as many images as `subset_epochs` passes over the
    4,000-image subset: a notebook then takes about as long on full MNIST (60,000 images).
    Rounded up, never down: too few steps would leave a model under-trained."""
    return max(1, math.ceil(subset_epochs * SUBSET_TRAIN_SIZE / n_train))


def fit(model: torch.nn.Module, x_train: torch.Tensor, y_train: torch.Tensor | None = None, *,
        loss_fn=None, x_val: torch.Tensor | None = None, y_val: torch.Tensor | None = None,
        epochs: int = 10, steps: int | None = None, batch_size: int = 128, lr: float = 1e-3,
        schedule: str | None = None, weight_decay: float = 0.0, seed: int = 0,
        shuffle: torch.Generator | None = None, device: torch.device | None = None,
        progress: bool = True, desc: str = "training") -> dict:
    """Train `model` with Adam over shuffled batches of x_train, to minimise
    `loss_fn(model, x_batch)`, or with labels y_train, `loss_fn(model, x_batch, y_batch)`.
    The default loss is the autoencoder's MSE per pixel without labels, the cross-entropy with.

    steps=None trains `epochs` whole passes; a number of steps stops there instead (the last
    pass may be cut short), so that runs on different amounts of data take the same number of
    steps. schedule=None keeps the learning rate at `lr`; "cosine" lowers it along half a
    cosine from `lr` to 0 over the epochs, which lets a model settle into the bottom of a
    minimum. The batches' order comes from `shuffle`, a torch.Generator (by default a new one
    seeded with `seed`): the same order every run.

    Returns the history: {"train_loss": [mean over each epoch], "val_loss": [after each epoch]}
    (val_loss only when x_val is given). The model ends on `device` in evaluation mode.
    """
    check_fit_arguments(x_train, x_val, epochs, batch_size, lr, schedule, weight_decay, seed)
    labelled = y_train is not None
    check_labels(x_train, y_train, x_val, y_val)
    if steps is not None:
        check_int("steps", steps, minimum=1)
    loss_fn = loss_fn or (cross_entropy_loss if labelled else reconstruction_loss)
    device = device or pick_device()
    model.to(device).train()
    x_train = x_train.to(device)
    y_train = y_train.to(device) if labelled else None
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    n_batches = math.ceil(len(x_train) / batch_size)
    if steps is not None:
        epochs = math.ceil(steps / n_batches)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs) if schedule else None
    if shuffle is None:
        shuffle = torch.Generator().manual_seed(seed)      # its own generator: same order every run
    history = {"train_loss": [], "val_loss": []}
    steps_left = steps if steps is not None else epochs * n_batches

    bar = progress_bar(epochs, desc, enabled=progress)
    for _ in bar:
        order = torch.randperm(len(x_train), generator=shuffle).to(device)
        total, seen = torch.zeros((), device=device), 0
        for i in range(min(n_batches, steps_left)):
            index = order[i * batch_size:(i + 1) * batch_size]
            batch = (x_train[index], y_train[index]) if labelled else (x_train[index],)
            loss = loss_fn(model, *batch)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += loss.detach() * len(index)
            seen += len(index)
        steps_left -= min(n_batches, steps_left)
        history["train_loss"].append(total.item() / seen)   # one sync per epoch
        if scheduler is not None:
            scheduler.step()
        if x_val is not None:
            history["val_loss"].append(evaluate_loss(model, x_val, loss_fn, y=y_val))
        bar.set_postfix(loss=f"{history['train_loss'][-1]:.4f}")
    model.eval()
    if x_val is None:
        del history["val_loss"]
    return history


def progress_bar(epochs: int, desc: str, enabled: bool = True) -> tqdm:
    """A tqdm.auto bar over range(epochs) that leaves nothing behind when it finishes.

    In a terminal the text bar erases itself (leave=False). In a notebook the bar is a widget,
    and a closed widget still leaves its text form ("0%| | 0/25") in a saved or exported
    notebook. So there we show the widget through a display handle, and when the last epoch is
    done we replace that output by an empty one."""
    from tqdm.notebook import tqdm as notebook_tqdm
    if not enabled or not issubclass(tqdm, notebook_tqdm):
        return tqdm(range(epochs), desc=desc, disable=not enabled, leave=False)
    from IPython.display import display

    class TracelessBar(tqdm):
        def close(self):
            if getattr(self, "disable", True):      # closed already: tqdm calls close() again
                return                              # when the bar is garbage-collected
            super().close()
            if self.n >= self.total:                # finished (after an error the bar stays, in red)
                handle.update({"text/plain": ""}, raw=True)

    bar = TracelessBar(range(epochs), desc=desc, leave=False, display=False)
    handle = display(bar.container, display_id=True)
    return bar


def check_fit_arguments(x_train, x_val, epochs, batch_size, lr, schedule, weight_decay,
                        seed) -> None:
    """ValueError naming the argument and its allowed values, before anything is trained: a
    batch size of -5 would otherwise train nothing and report a loss of 0."""
    for name, x in (("x_train", x_train), ("x_val", x_val)):
        if x is None and name == "x_val":
            continue
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or len(x) == 0 or x.shape[1] == 0:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{name} must be a 2-D tensor (images, pixels) with at least one "
                             f"image, got {shape}")
    if x_val is not None and x_val.shape[1] != x_train.shape[1]:
        raise ValueError(f"x_val must have as many columns as x_train ({x_train.shape[1]}), "
                         f"got {x_val.shape[1]}")
    check_int("epochs", epochs, minimum=1)
    check_int("batch_size", batch_size, minimum=1)
    check_number("lr", lr, 0, strict=True)
    check_number("weight_decay", weight_decay, 0)
    check_int("seed", seed, minimum=0)
    check_choice("schedule", schedule, (None, "cosine"))


def check_labels(x_train, y_train, x_val, y_val) -> None:
    """With labels: one label per image, for the held-out images too."""
    for x, y, name in ((x_train, y_train, "y_train"), (x_val, y_val, "y_val")):
        if y is None:
            if name == "y_val" and y_train is not None and x_val is not None:
                raise ValueError("y_val must be given with x_val when training with labels")
            continue
        if x is None or not isinstance(y, torch.Tensor) or y.ndim != 1 or len(y) != len(x):
            raise ValueError(f"{name} must hold one label per image: a 1-D tensor of "
                             f"{len(x) if x is not None else 0} labels, got "
                             f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")


@torch.no_grad()
def evaluate_loss(model: torch.nn.Module, x: torch.Tensor, loss_fn=reconstruction_loss,
                  batch_size: int = 4096, y: torch.Tensor | None = None) -> float:
    """`loss_fn` averaged over all of x (with labels y: `loss_fn(model, x, y)`), in evaluation
    mode, as a float."""
    was_training = model.training
    model.eval()
    device = device_of(model)
    total = 0.0
    for i in range(0, len(x), batch_size):
        batch = (x[i:i + batch_size].to(device),) + (() if y is None else (y[i:i + batch_size].to(device),))
        total += loss_fn(model, *batch).item() * len(batch[0])
    model.train(was_training)
    return total / len(x)
