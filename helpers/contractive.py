"""The contractive autoencoder (CAE): how sensitive the code is to the input, and a penalty on it.

The encoder f maps an image x (D pixels) to a code h = f(x) (H units). Its Jacobian J_f(x) is
the (H, D) matrix of partial derivatives dh_j/dx_i; its squared Frobenius norm

    ||J_f(x)||_F^2 = sum_ij (dh_j / dx_i)^2

says how much the code moves when x moves a little, in any direction. The CAE (Rifai et al.
2011) adds lambda * ||J_f(x)||_F^2 to the reconstruction loss.

For one sigmoid layer h = sigmoid(W x + b) the Jacobian is diag(h * (1 - h)) W, so the norm has
a closed form that costs one extra matrix product; for a deep encoder autograd has to build J
row by row (one backward pass per code unit), which is where the real cost of a CAE lies.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.func import jacrev, vmap

from .corruption import masking_noise   # the DAE's corruption (notebook 02)
from .losses import squared_error_per_image


def sigmoid_layer_jacobian(h: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """J of h = sigmoid(W x + b) for each image: (B, H, D) = diag(h(1-h)) W.
    h: (B, H) activations, weight: (H, D)."""
    return (h * (1 - h))[:, :, None] * weight[None]


def sigmoid_jacobian_norm_sq(h: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Closed form ||J_f(x)||_F^2 = sum_j (h_j(1-h_j))^2 sum_i W_ji^2 for each image, shape (B,).
    h: (B, H) sigmoid activations, weight: (H, D)."""
    return (h * (1 - h)) ** 2 @ (weight ** 2).sum(dim=1)


def encoder_jacobian(encoder: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """J_f(x) of any encoder by autograd (torch.func.jacrev, vectorised over the batch):
    (B, H, D) for x of shape (B, D). Reverse mode: one backward pass per code unit."""
    return vmap(jacrev(lambda one: encoder(one[None])[0]))(x)


def jacobian_norm_sq_autograd(encoder: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """||J_f(x)||_F^2 for each image by autograd, shape (B,): works for any encoder."""
    return encoder_jacobian(encoder, x).pow(2).sum(dim=(1, 2))


def contractive_loss(lam: float, mask: float = 0.0, seed: int = 0):
    """A loss for helpers.train.fit on a one-layer sigmoid autoencoder (model.encoder =
    Linear + Sigmoid):  reconstruction (summed over pixels, mean over images)
                        + lam * ||J_f(x)||_F^2 (mean over images).
    lam = 0 is the plain autoencoder; mask > 0 corrupts the input with masking noise first
    (a denoising autoencoder; the target stays the clean x)."""
    if not (lam >= 0):                                   # also rejects NaN
        raise ValueError(f"lambda must be >= 0, got {lam}")
    if not (0 <= mask < 1):
        raise ValueError(f"masking probability must be in [0, 1), got {mask}")
    noise = torch.Generator().manual_seed(seed)          # its own generator: same noise every run

    def loss_fn(model, x):
        x_in = masking_noise(x, mask, noise) if mask > 0 else x
        h = model.encoder(x_in)
        loss = squared_error_per_image(model.decoder(h), x).mean()
        if lam > 0:
            loss = loss + lam * sigmoid_jacobian_norm_sq(h, model.encoder[0].weight).mean()
        return loss

    return loss_fn


@torch.no_grad()
def mean_jacobian_norm(model, x: torch.Tensor) -> float:
    """Mean over images of ||J_f(x)||_F (not squared) for a one-layer sigmoid encoder."""
    h = model.encoder(x)
    return sigmoid_jacobian_norm_sq(h, model.encoder[0].weight).sqrt().mean().item()


@torch.no_grad()
def jacobian_singular_values(model, x: torch.Tensor) -> torch.Tensor:
    """Singular values of J_f(x) for each image, largest first: (B, H), for H <= D.
    They are the square roots of the eigenvalues of J J^T = diag(d) W W^T diag(d) with
    d = h(1-h): an (H, H) matrix per image, much cheaper than an SVD of the (H, D) J itself."""
    h = model.encoder(x)
    weight = model.encoder[0].weight
    d = h * (1 - h)                                           # (B, H)
    gram = d[:, :, None] * (weight @ weight.T)[None] * d[:, None, :]
    return torch.linalg.eigvalsh(gram).clamp(min=0).sqrt().flip(-1)


@torch.no_grad()
def code_sensitivity(encoder, x: torch.Tensor, sigma: float = 0.05, repeats: int = 5,
                     seed: int = 0) -> torch.Tensor:
    """How far the code moves per unit of input movement, ||f(x + e) - f(x)|| / ||e|| with
    e ~ N(0, sigma^2 I), averaged over `repeats` draws: one value per image, shape (B,)."""
    if not (sigma > 0):
        raise ValueError(f"sigma must be > 0, got {sigma}")
    g = torch.Generator().manual_seed(seed)
    h = encoder(x)
    ratios = []
    for _ in range(repeats):
        e = sigma * torch.randn(x.shape, generator=g).to(x.device)
        ratios.append((encoder(x + e) - h).norm(dim=1) / e.norm(dim=1))
    return torch.stack(ratios).mean(dim=0)
