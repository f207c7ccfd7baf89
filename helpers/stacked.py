"""The stacked autoencoder: greedy layer-wise training, then supervised fine-tuning.

Stage k trains one layer, layer k, as the encoder of a small autoencoder whose input is the
output of layers 1..k-1 (frozen: requires_grad=False) and whose decoder (decoder k) must give
that input back. After the last stage, the layers form a deep feature extractor; a classifier
head on top, trained with the labels, turns it into a classifier (fine-tuning updates every
layer). All units are sigmoids, as in the stacked autoencoders of Bengio et al. (2007).
"""
from __future__ import annotations


import copy
import math

import numpy as np
import torch
from torch import nn

from .cache import (cache_dir, checkpoint_path, code_fingerprint, config_key, save_atomically,
                    train_or_load)
from .classifier import accuracy, class_probabilities
from .errors import check_int, check_sizes, describe
from .train import fit, pick_device, progress_bar


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
        return ((model.decode_level(h, stage) - target) ** 2).mean()
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
                  code=code_fingerprint(greedy_stage, fit, stage_loss, StackedAutoencoder))

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


@torch.no_grad()
def features(model: StackedAutoencoder, x: torch.Tensor, depth: int | None = None) -> torch.Tensor:
    """Level-`depth` features of all rows of x, on the CPU, shape (N, sizes[depth])."""
    device = next(model.parameters()).device
    return torch.cat([model.encode(x[i:i + 2048].to(device), depth).cpu()
                      for i in range(0, len(x), 2048)])


def linear_probe_accuracy(f_train, y_train, f_test, y_test) -> float:
    """Test accuracy of a logistic-regression classifier (linear) trained on the features."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):   # tiny matrices: threads only fight
        clf = LogisticRegression(max_iter=300)
        clf.fit(np.asarray(f_train), np.asarray(y_train))
        return float(clf.score(np.asarray(f_test), np.asarray(y_test)))


def cached_result(name: str, config: dict, compute, verbose: bool = True):
    """compute() -> a small value of plain numbers, lists and dicts, saved under cache_dir()
    with the same atomic write as the models, and loaded next time for the same `config`."""
    say = print if verbose else (lambda *_, **__: None)
    path = cache_dir() / f"{name}-{config_key(config)}.pt"
    try:
        found = path.is_file()
    except OSError:            # e.g. a folder we may not look into: reading it will say why
        found = True
    if found:
        try:
            saved = torch.load(path, weights_only=True)
            ok = isinstance(saved, dict) and saved.get("config") == config and "result" in saved
            problem = None if ok else "it was written for another configuration"
        except Exception as err:                          # empty, truncated, corrupt
            problem = f"it cannot be read ({describe(err)})"
        if problem is None:
            say(f"Cache: loaded {name} from {path.name}")
            return saved["result"]
        say(f"Cache: {path.name} is not used because {problem}; computing {name} again.")
    result = compute()
    save_atomically(path, dict(config=config, result=result), say, what=name)
    return result


def probe_table(stack: StackedAutoencoder, data, n_train: int = 4000, verbose: bool = True) -> dict:
    """Linear-probe test accuracy on raw pixels and on each level's features, using the first
    n_train training images: {"pixels": acc, 1: acc, ..., n_stages: acc} (keys as strings)."""
    n = min(n_train, len(data.x_train))
    x, y = data.x_train[:n], data.y_train[:n]
    config = dict(kind="probe_table", data=data.fingerprint, n_train=n,
                  weights=_weights_digest(stack), probe="logistic_regression_max_iter300",
                  code=code_fingerprint(probe_table, linear_probe_accuracy, features))

    def compute():
        table = {"pixels": linear_probe_accuracy(x, y, data.x_test, data.y_test)}
        for k in range(1, stack.n_stages + 1):
            table[str(k)] = linear_probe_accuracy(features(stack, x, k), y,
                                                  features(stack, data.x_test, k), data.y_test)
        return table

    return cached_result("linear-probes", config, compute, verbose)


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
    device = pick_device()
    model.to(device).train()
    x, y = x.to(device), y.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    batch_size = min(batch_size, len(x))
    per_epoch = math.ceil(len(x) / batch_size)
    order = torch.randperm(len(x), generator=g)
    for step in range(steps):
        if step % per_epoch == 0:
            order = torch.randperm(len(x), generator=g)
        i = (step % per_epoch) * batch_size
        batch = order[i:i + batch_size].to(device)
        loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    return model.eval()


def label_budget_table(stack: StackedAutoencoder, data, budgets: list[int], seeds: list[int],
                       steps: int = 300, lr: float = 3e-3, stack_config: dict | None = None,
                       verbose: bool = True) -> dict:
    """Test accuracy of pretrained-then-fine-tuned against randomly initialised classifiers of
    the same shape, for each labels-per-class budget and seed:
    {"budgets": [...], "seeds": [...], "pretrained": [[acc per seed] per budget], "random": ...}.
    Cached as a small file under cache_dir(), keyed by everything that defines the numbers."""
    config = dict(kind="label_budget_table", stack=stack_config or stack.sizes,
                  data=data.fingerprint, budgets=list(budgets), seeds=list(seeds), steps=steps,
                  lr=lr, weights=_weights_digest(stack),
                  code=code_fingerprint(label_budget_table, label_budget_indices, train_classifier,
                                        StackedClassifier, accuracy, class_probabilities))

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

    return cached_result("label-budgets", config, compute, verbose)


def _weights_digest(model: nn.Module) -> str:
    """A short hash of a model's weights, so results of other weights are never reused."""
    import hashlib
    h = hashlib.sha1()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:12]
