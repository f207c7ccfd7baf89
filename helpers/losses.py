"""Reconstruction losses. Each name states its reduction: every number a learner compares
depends on it.

    ..._per_pixel   averaged over the pixels and over the images: one number (a scalar)
    ..._per_image   summed over the pixels of each image: one number per image, shape (B,)

A training loss, the average over the batch of a per-image loss, is `per_image(...).mean()`.
A loss for `helpers.train.fit` is a function `loss_fn(model, x) -> scalar tensor` (or
`loss_fn(model, x, y)` for labelled data), so that each kind of autoencoder can put its own
terms (noise, penalties, KL) in one place.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def mse_per_pixel(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error, averaged over pixels and over the batch:
    L = 1/(B*D) * sum_b sum_d (x_bd - x_hat_bd)^2, with B images of D pixels."""
    return ((x - x_hat) ** 2).mean()


def squared_error_per_image(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Squared error summed over the pixels of each image: one value per image, shape (B,).
    It is -log p(x|z) of a Gaussian decoder N(x_hat, I/2), up to a constant."""
    return ((x - x_hat) ** 2).sum(dim=-1)


def bernoulli_nll_per_image(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) for a Bernoulli decoder: binary cross-entropy summed over the pixels of each
    image, shape (B,). (On grey values in (0, 1) this is a cross-entropy, not a normalised
    density: its minimum, reached at x_hat = x, is the entropy of the grey pixels, not 0.)"""
    return F.binary_cross_entropy(x_hat, x.expand_as(x_hat), reduction="none").sum(dim=-1)


def reconstruction_loss(model, x: torch.Tensor) -> torch.Tensor:
    """The plain autoencoder's objective: MSE between x and G(E(x)), per pixel, batch mean."""
    return mse_per_pixel(model(x), x)


def cross_entropy_loss(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """A classifier's objective: cross-entropy of its logits model(x) against the labels y,
    averaged over the batch."""
    return F.cross_entropy(model(x), y)
