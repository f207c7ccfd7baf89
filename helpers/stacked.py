"""The stacked autoencoder: greedy layer-wise training, then supervised fine-tuning.

Stage k trains one layer, layer k, as the encoder of a small autoencoder whose input is the
output of layers 1..k-1 (frozen: requires_grad=False) and whose decoder (decoder k) must give
that input back. After the last stage, the layers form a deep feature extractor; a classifier
head on top, trained with the labels, turns it into a classifier (fine-tuning updates every
layer). All units are sigmoids, as in the stacked autoencoders of Bengio et al. (2007).
The course's stages are recipes (helpers.recipes.STACK_STAGES); `stage_loss` is what each trains on.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from .classifier import accuracy, class_probabilities
from .errors import check_sizes
from .losses import mse_per_pixel
from .models import apply_in_batches
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


def probe_accuracies(stack: StackedAutoencoder, data, n_train: int = 4000) -> dict:
    """Linear-probe test accuracy on raw pixels and on each level's features, using the first
    n_train training images: {"pixels": acc, "1": acc, ..., str(n_stages): acc}."""
    n = min(n_train, len(data.x_train))
    x, y = data.x_train[:n], data.y_train[:n]
    table = {"pixels": linear_probe_accuracy(x, y, data.x_test, data.y_test)}
    for k in range(1, stack.n_stages + 1):
        table[str(k)] = linear_probe_accuracy(features(stack, x, k), y,
                                              features(stack, data.x_test, k), data.y_test)
    return table


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


def label_budget_accuracies(stack: StackedAutoencoder, data, budgets: list[int],
                            seeds: list[int], steps: int = 300, lr: float = 3e-3) -> dict:
    """Test accuracy of pretrained-then-fine-tuned against randomly initialised classifiers of
    the same shape, for each labels-per-class budget and seed:
    {"budgets": [...], "seeds": [...], "pretrained": [[acc per seed] per budget], "random": ...}."""
    table = {"budgets": list(budgets), "seeds": list(seeds), "pretrained": [], "random": []}
    for b in progress_bar(len(budgets), "fine-tuning, label budgets"):
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
