"""A fixed digit classifier, used as a judge: how confidently does it recognise an image?

A small MLP (784-256-10) trained once on the labelled training images and cached (its recipe
is helpers.recipes.JUDGE). Images a generative model draws 'on the data' get confident
answers; blends and blurs do not.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .models import device_of


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
