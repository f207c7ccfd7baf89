"""A fixed digit classifier, used as a judge: how confidently does it recognise an image?

A small MLP (784-256-10) trained once on the labelled training images and cached. Images a
generative model draws 'on the data' get confident answers; blends and blurs do not.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .models import device_of, mlp


def trained_classifier(name: str, data, sizes: list[int], *, epochs: int = 15,
                       batch_size: int = 128, lr: float = 1e-3, seed: int = 0,
                       verbose: bool = True):
    """An MLP `sizes` (ReLU between layers, logits out) trained with cross-entropy (mean over
    the batch) on data.x_train / y_train, held-out loss tracked on data.x_test / y_test.
    Returns (model, history)."""
    from .cache import code_fingerprint, train_or_load
    from .errors import check_sizes
    from .losses import cross_entropy_loss
    from .models import make_activation
    from .train import evaluate_loss, fit

    sizes = check_sizes("sizes", sizes, first=data.x_train.shape[1])
    config = dict(model=dict(kind="classifier", sizes=list(sizes)), data=data.fingerprint,
                  n_train=len(data.x_train), loss="cross_entropy_mean", epochs=epochs,
                  batch_size=batch_size, lr=lr, seed=seed,
                  code=code_fingerprint(trained_classifier, fit, evaluate_loss, cross_entropy_loss,
                                        mlp, make_activation))

    def run(model):
        return fit(model, data.x_train, data.y_train, x_val=data.x_test, y_val=data.y_test,
                   epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, desc=name)

    return train_or_load(name, config, lambda: mlp(list(sizes)), run, verbose)


@torch.no_grad()
def class_probabilities(classifier, x: torch.Tensor) -> torch.Tensor:
    """Softmax probabilities (N, 10) for images x (N, 784), on the CPU."""
    classifier.eval()
    return F.softmax(classifier(x.to(device_of(classifier))), dim=1).cpu()


def confidence(classifier, x: torch.Tensor) -> torch.Tensor:
    """The classifier's top probability for each image, shape (N,): near 1 = clearly a digit."""
    return class_probabilities(classifier, x).max(dim=1).values


def accuracy(classifier, x: torch.Tensor, y: torch.Tensor) -> float:
    return (class_probabilities(classifier, x).argmax(dim=1) == y.cpu()).float().mean().item()
