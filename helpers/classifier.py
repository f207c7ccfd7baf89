"""A fixed digit classifier, used as a judge: how confidently does it recognise an image?

A small MLP (784-256-10) trained once on the labelled training images and cached. Images a
generative model draws 'on the data' get confident answers; blends and blurs do not.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .models import mlp


def trained_classifier(data, epochs: int = 15, seed: int = 0, verbose: bool = True):
    """An MLP 784-256-10 (ReLU) trained with cross-entropy on data.x_train / y_train.
    Returns (model, history)."""
    from .cache import code_fingerprint, train_or_load
    from .models import make_activation
    from .train import evaluate_loss, fit

    def loss_fn(model, xy):
        return F.cross_entropy(model(xy[:, :-1]), xy[:, -1].long())

    config = dict(model=dict(kind="classifier", sizes=[784, 256, 10]), data=data.fingerprint,
                  n_train=len(data.x_train), loss="cross_entropy_mean", epochs=epochs,
                  batch_size=128, lr=1e-3, seed=seed,
                  code=code_fingerprint(trained_classifier, fit, evaluate_loss, mlp, make_activation))
    # fit() hands the loss one tensor per batch: the label travels as a 785th column.
    xy_train = torch.cat([data.x_train, data.y_train[:, None].float()], dim=1)
    xy_test = torch.cat([data.x_test, data.y_test[:, None].float()], dim=1)

    def run(model):
        return fit(model, xy_train, loss_fn=loss_fn, x_val=xy_test, epochs=epochs,
                   seed=seed, desc="digit classifier")

    return train_or_load("classifier-784-256-10", config, lambda: mlp([784, 256, 10]),
                         run, verbose)


@torch.no_grad()
def class_probabilities(classifier, x: torch.Tensor) -> torch.Tensor:
    """Softmax probabilities (N, 10) for images x (N, 784), on the CPU."""
    device = next(classifier.parameters()).device
    classifier.eval()
    return F.softmax(classifier(x.to(device)), dim=1).cpu()


def confidence(classifier, x: torch.Tensor) -> torch.Tensor:
    """The classifier's top probability for each image, shape (N,): near 1 = clearly a digit."""
    return class_probabilities(classifier, x).max(dim=1).values


def accuracy(classifier, x: torch.Tensor, y: torch.Tensor) -> float:
    return (class_probabilities(classifier, x).argmax(dim=1) == y.cpu()).float().mean().item()
