"""Loss functions. Each states its reduction: every number a learner compares depends on it.

A loss for `helpers.train.fit` is a function `loss_fn(model, x) -> scalar tensor`, so that each
kind of autoencoder can put its own terms (noise, penalties, KL) in one place.
"""
from __future__ import annotations

import torch


def mse_per_pixel(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error, averaged over pixels and over the batch:
    L = 1/(B*D) * sum_b sum_d (x_bd - x_hat_bd)^2, with B images of D pixels."""
    return ((x - x_hat) ** 2).mean()


def mse_per_image(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Squared error summed over the pixels of each image: one value per image, shape (B,)."""
    return ((x - x_hat) ** 2).sum(dim=1)


def reconstruction_loss(model, x: torch.Tensor) -> torch.Tensor:
    """The plain autoencoder's objective: MSE between x and G(E(x)), per pixel, batch mean."""
    return mse_per_pixel(model(x), x)
