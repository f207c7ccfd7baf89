"""Sparse autoencoders: penalties that keep most hidden units quiet most of the time.

Method 1 (sigmoid hidden units, KL penalty; Ng's CS294A notes): the active ratio of unit j over
a batch of M images is rho_hat_j = 1/M sum_m a_j(x_m), and the penalty pulls every rho_hat_j
towards a small target rho:

    L_rho = sum_j KL(rho || rho_hat_j)
          = sum_j [rho log(rho / rho_hat_j) + (1 - rho) log((1 - rho) / (1 - rho_hat_j))]

Method 2 (ReLU hidden units, softplus output): an L1 penalty on the hidden activations,
L_1 = mean over images of sum_j |a_j|.

Total loss = MSE (per pixel, mean over pixels and images) + lambda * penalty. The model is a
helpers.models.Autoencoder: model.encode(x) gives the hidden activations a (for many images,
helpers.models.encode_all). The Bernoulli KL itself lives in helpers.divergences.
"""
from __future__ import annotations

import torch

from .divergences import EPS, bernoulli_kl
from .losses import mse_per_pixel


def active_ratio(hidden: torch.Tensor) -> torch.Tensor:
    """rho_hat_j: the mean activation of each hidden unit over the batch. (M, s) -> (s,)."""
    return hidden.mean(dim=0)


def kl_sparsity_penalty(hidden: torch.Tensor, rho: float) -> torch.Tensor:
    """L_rho = sum_j KL(rho || rho_hat_j) over the s hidden units (summed, not averaged)."""
    return bernoulli_kl(rho, active_ratio(hidden)).sum()


def l1_penalty(hidden: torch.Tensor) -> torch.Tensor:
    """sum_j |a_j|, averaged over the images of the batch."""
    return hidden.abs().sum(dim=1).mean()


def kl_sparse_loss(rho: float, weight: float):
    """Method 1's loss for helpers.train.fit: MSE per pixel + weight * L_rho."""
    check_rho(rho)

    def loss_fn(model, x):
        hidden = model.encode(x)
        return mse_per_pixel(model.decode(hidden), x) + weight * kl_sparsity_penalty(hidden, rho)
    return loss_fn


def l1_sparse_loss(weight: float):
    """Method 2's loss for helpers.train.fit: MSE per pixel + weight * L1 of the hidden layer."""
    def loss_fn(model, x):
        hidden = model.encode(x)
        return mse_per_pixel(model.decode(hidden), x) + weight * l1_penalty(hidden)
    return loss_fn


def near_zero_share(hidden: torch.Tensor, relative: float = 0.05) -> float:
    """Share of activations below `relative` times the layer's typical large activation (its
    99.9th percentile). Scale-free, so sigmoid units (at most 1) and ReLU units (unbounded)
    are measured alike."""
    hidden = hidden.detach().float().flatten()
    if len(hidden) > 1_000_000:     # torch.quantile takes at most 16M values; 1M is plenty
        hidden = hidden[torch.randperm(len(hidden), generator=torch.Generator().manual_seed(0))[:1_000_000]]
    scale = torch.quantile(hidden, 0.999).clamp_min(1e-12)
    return float((hidden.abs() < relative * scale).float().mean())


def check_rho(rho) -> None:
    if not isinstance(rho, (int, float)) or not 0 < rho < 1:
        raise ValueError(f"the target active ratio rho must be a number between 0 and 1, got {rho!r}")
