"""The stacked autoencoder: greedy layer-wise training, then supervised fine-tuning.

Stage k trains one layer, layer k, as the encoder of a small autoencoder whose input is the
output of layers 1..k-1 (frozen: requires_grad=False) and whose decoder (decoder k) must give
that input back. After the last stage, the layers form a deep feature extractor; a classifier
head on top, trained with the labels, turns it into a classifier (fine-tuning updates every
layer). All units are sigmoids, as in the stacked autoencoders of Bengio et al. (2007).
"""
from __future__ import annotations

import copy
import hashlib

import numpy as np
import torch
from torch import nn

from .cache import checkpoint_path, code_fingerprint, compute_or_load, train_or_load
from .classifier import accuracy, class_probabilities
from .errors import check_int, check_sizes
from .losses import cross_entropy_loss, mse_per_pixel
from .models import apply_in_batches
from .tensors import to_numpy
from .train import fit, progress_bar


class StackedAutoencoder(nn.Module):
    """Encoder layers sizes[0] -> sizes[1] -> ... -> sizes[-1] (Linear + sigmoid each), and one
    decoder per layer: decoder k maps layer k's output back to layer k's input (sigmoid)."""

    def __init__(self, sizes: list[int]):
        super().__init__()
        sizes = check_sizes("sizes", sizes)      # an input and at least one layer
        self.sizes = list(sizes)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.decoders = nn.ModuleList(nn.Linear(b, a) for a, b in zip(sizes[:-1], sizes[1:]))

    @property
    def n_stages(self) -> int:
        return len(self.layers)

    def encode(self, x: torch.Tensor, depth: int | None = None) -> torch.Tensor:
        """Features after layers 1..depth (depth 0 is x itself; None means all layers)."""
        depth = self.n_stages if depth is None else depth
        for layer in self.layers[:depth]:
            x = torch.sigmoid(layer(x))
        return x

    def decode_level(self, h: torch.Tensor, stage: int) -> torch.Tensor:
        """Decoder `stage` (1-based): level-`stage` features -> level-(stage-1) features."""
        return torch.sigmoid(self.decoders[stage - 1](h))

    def reconstruct(self, x: torch.Tensor, stage: int) -> torch.Tensor:
        """x -> layers 1..stage -> decoders stage..1 -> pixels: what survives at that level."""
        h = self.encode(x, stage)
        for k in range(stage, 0, -1):
            h = self.decode_level(h, k)
        return h

    def set_trainable(self, stage: int) -> None:
        """Only layer `stage` and decoder `stage` learn; everything else is frozen."""
        for k in range(1, self.n_stages + 1):
            for p in [*self.layers[k - 1].parameters(), *self.decoders[k - 1].parameters()]:
                p.requires_grad_(k == stage)


def stage_loss(stage: int):
    """Loss for stage k: MSE (mean over units and images) between decoder k's output and the
    level-(k-1) features it must rebuild. Earlier layers only compute those features."""
    def loss_fn(model, x):
        with torch.no_grad():
            target = model.encode(x, stage - 1)            # frozen layers 1..k-1
        h = torch.sigmoid(model.layers[stage - 1](target))
        return mse_per_pixel(model.decode_level(h, stage), target)
    return loss_fn


def greedy_stage(name: str, data, sizes: list[int], stage: int, epochs: int = 10,
                 lr: float = 3e-3, batch_size: int = 128, seed: int = 0, verbose: bool = True):
    """The stack after greedy stage `stage` (stages 1..stage trained, one at a time), through
    the cache. Stage k starts from the cached stage k-1 and trains only layer k and decoder k.
    Returns (model, history of stage k)."""
    sizes = check_sizes("sizes", sizes, first=data.x_train.shape[1])
    check_int("stage", stage, minimum=1, maximum=len(sizes) - 1)
    config = dict(model=dict(kind="StackedAutoencoder", sizes=list(sizes)), stage=stage,
                  data=data.fingerprint, n_train=len(data.x_train), loss="mse_per_unit",
                  epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                  code=code_fingerprint(greedy_stage, fit, stage_loss, mse_per_pixel, StackedAutoencoder))

    def previous_stage():
        return greedy_stage(name, data, sizes, stage - 1, epochs, lr, batch_size, seed, verbose)[0]

    # Stage k is trained from stage k-1: get that first, so that its cache line comes before
    # the line that says stage k is being trained.
    previous = None
    if stage > 1 and not checkpoint_path(f"{name}-stage{stage}", config).exists():
        previous = previous_stage()

    def run(model):
        if stage > 1:
            model.load_state_dict((previous or previous_stage()).state_dict())
        model.set_trainable(stage)
        history = fit(model, data.x_train, loss_fn=stage_loss(stage), epochs=epochs,
                      batch_size=batch_size, lr=lr, seed=seed + stage, desc=f"{name} stage {stage}")
        model.requires_grad_(True)
        return history

    return train_or_load(f"{name}-stage{stage}", config, lambda: StackedAutoencoder(sizes), run,
                         verbose)


def features(model: StackedAutoencoder, x: torch.Tensor, depth: int | None = None) -> torch.Tensor:
    """Level-`depth` features of all rows of x, on the CPU, shape (N, sizes[depth])."""
    return apply_in_batches(lambda batch: model.encode(batch, depth), model, x)


def linear_probe_accuracy(f_train, y_train, f_test, y_test) -> float:
    """Test accuracy of a logistic-regression classifier (linear) trained on the features."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):   # tiny matrices: threads only fight
        clf = LogisticRegression(max_iter=300)
        clf.fit(np.asarray(f_train), np.asarray(y_train))
        return float(clf.score(np.asarray(f_test), np.asarray(y_test)))


def probe_table(name: str, stack: StackedAutoencoder, data, n_train: int = 4000,
                verbose: bool = True) -> dict:
    """Linear-probe test accuracy on raw pixels and on each level's features, using the first
    n_train training images: {"pixels": acc, "1": acc, ..., str(n_stages): acc}, cached under
    `name` and keyed by everything that defines the numbers."""
    n = min(n_train, len(data.x_train))
    x, y = data.x_train[:n], data.y_train[:n]
    config = dict(kind="probe_table", data=data.fingerprint, n_train=n,
                  weights=_weights_digest(stack), probe="logistic_regression_max_iter300",
                  code=code_fingerprint(probe_table, linear_probe_accuracy, features, apply_in_batches))

    def compute():
        table = {"pixels": linear_probe_accuracy(x, y, data.x_test, data.y_test)}
        for k in range(1, stack.n_stages + 1):
            table[str(k)] = linear_probe_accuracy(features(stack, x, k), y,
                                                  features(stack, data.x_test, k), data.y_test)
        return table

    return compute_or_load(name, config, compute, verbose)


class StackedClassifier(nn.Module):
    """The stack's encoder layers (sigmoid) with a linear head on top: logits for n_classes."""

    def __init__(self, sizes: list[int], n_classes: int = 10):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.head = nn.Linear(sizes[-1], n_classes)

    @classmethod
    def from_pretrained(cls, stack: StackedAutoencoder, n_classes: int = 10):
        model = cls(stack.sizes, n_classes)
        model.layers = copy.deepcopy(stack.layers).cpu()
        return model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.sigmoid(layer(x))
        return self.head(x)


def label_budget_indices(y: torch.Tensor, per_class: int, seed: int = 0) -> torch.Tensor:
    """Indices of `per_class` randomly chosen examples of each class (fixed by `seed`)."""
    g = torch.Generator().manual_seed(seed)
    chosen = []
    for c in torch.unique(y):
        idx = torch.nonzero(y == c).flatten()
        if per_class > len(idx):
            raise ValueError(f"class {int(c)} has only {len(idx)} examples, asked for {per_class}")
        chosen.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    return torch.cat(chosen)


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 300,
                     batch_size: int = 128, lr: float = 3e-3, seed: int = 0) -> nn.Module:
    """Fine-tune every weight of `model` with Adam on cross-entropy (mean over the batch),
    for a fixed number of steps whatever the number of labels, so budgets compare fairly."""
    shuffle = torch.Generator().manual_seed(seed)
    # The first order drawn is never used: so it was when the course's label-budget tables
    # were first computed, and skipping it keeps every accuracy of notebook 05 as it was.
    torch.randperm(len(x), generator=shuffle)
    fit(model, x, y, steps=steps, batch_size=batch_size, lr=lr, shuffle=shuffle, progress=False)
    return model


def label_budget_table(name: str, stack: StackedAutoencoder, data, budgets: list[int],
                       seeds: list[int], steps: int = 300, lr: float = 3e-3,
                       verbose: bool = True) -> dict:
    """Test accuracy of pretrained-then-fine-tuned against randomly initialised classifiers of
    the same shape, for each labels-per-class budget and seed:
    {"budgets": [...], "seeds": [...], "pretrained": [[acc per seed] per budget], "random": ...}.
    Cached under `name`, keyed by everything that defines the numbers."""
    config = dict(kind="label_budget_table", stack=stack.sizes,
                  data=data.fingerprint, budgets=list(budgets), seeds=list(seeds), steps=steps,
                  lr=lr, weights=_weights_digest(stack),
                  code=code_fingerprint(label_budget_table, label_budget_indices, train_classifier,
                                        fit, cross_entropy_loss, StackedClassifier, accuracy,
                                        class_probabilities))

    def compute():
        table = {"budgets": list(budgets), "seeds": list(seeds), "pretrained": [], "random": []}
        for b in progress_bar(len(budgets), "fine-tuning, label budgets", enabled=verbose):
            per_class = budgets[b]
            pre, rnd = [], []
            for seed in seeds:
                idx = label_budget_indices(data.y_train, per_class, seed)
                x, y = data.x_train[idx], data.y_train[idx]
                torch.manual_seed(seed)
                pretrained = StackedClassifier.from_pretrained(stack, len(data.class_names))
                pre.append(accuracy(train_classifier(pretrained, x, y, steps, lr=lr, seed=seed),
                                    data.x_test, data.y_test))
                torch.manual_seed(seed)
                scratch = StackedClassifier(stack.sizes, len(data.class_names))
                rnd.append(accuracy(train_classifier(scratch, x, y, steps, lr=lr, seed=seed),
                                    data.x_test, data.y_test))
            table["pretrained"].append(pre)
            table["random"].append(rnd)
        return table

    return compute_or_load(name, config, compute, verbose)


def _weights_digest(model: nn.Module) -> str:
    """A short hash of a model's weights, so results of other weights are never reused."""
    h = hashlib.sha1()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(to_numpy(v).tobytes())
    return h.hexdigest()[:12]
