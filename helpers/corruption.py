"""Corrupting images on purpose, for the denoising autoencoder (Vincent et al. 2008).

A denoising autoencoder (DAE) sees a corrupted image x_tilde ~ q(x_tilde | x) and is trained
to give back the clean x: loss = MSE(G(E(x_tilde)), x). Three kinds of corruption, each with
one `level` in [0, 1]:

    masking          each pixel is set to 0 with probability `level`
    gaussian         N(0, level^2) noise is added to each pixel, then clipped to [0, 1]
    salt-and-pepper  each pixel is, with probability `level`, set to 0 or 1 (a fair coin)

Every function takes a torch.Generator, so the same seed always gives the same noise. The
noise is drawn on the CPU (where a seeded generator is portable) and moved to x's device.
The recipe of the course's DAEs is helpers.recipes.DenoisingRecipe.
"""
from __future__ import annotations

import math

import torch

from .losses import mse_per_pixel

NOISE_KINDS = ("masking", "gaussian", "salt-and-pepper")
SALT_SHARE = 0.5     # salt-and-pepper: a hit pixel turns white (salt) with this probability


def masking_noise(x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x with each pixel set to 0 independently with probability `level`."""
    keep = uniform_like(x, generator) >= level
    return x * keep


def gaussian_noise(x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x + N(0, level^2) per pixel, clipped to [0, 1] so it is still an image."""
    noise = torch.randn(x.shape, generator=generator).to(x.device)
    return (x + level * noise).clamp(0, 1)


def salt_and_pepper(x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x with a share `level` of its pixels (on average) replaced by 0 or 1, each half the time."""
    hit = uniform_like(x, generator) < level
    salt = (uniform_like(x, generator) < SALT_SHARE).to(x.dtype)   # 1 = white (salt), 0 = black (pepper)
    return torch.where(hit, salt, x)


def corrupt(x: torch.Tensor, kind: str, level: float,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """One of NOISE_KINDS at `level` (a probability for masking and salt-and-pepper, a standard
    deviation in pixel units for gaussian). Raises ValueError on an unknown kind or a level
    outside [0, 1]."""
    check_noise(kind, level)
    noise = {"masking": masking_noise, "gaussian": gaussian_noise,
             "salt-and-pepper": salt_and_pepper}[kind]
    return noise(x, level, generator)


def check_noise(kind: str, level: float) -> None:
    if kind not in NOISE_KINDS:
        raise ValueError(f"Unknown noise {kind!r}: choose one of {', '.join(NOISE_KINDS)}")
    if not isinstance(level, (int, float)) or not math.isfinite(level) or not 0 <= level <= 1:
        raise ValueError(f"The noise level must be a number between 0 and 1, got {level!r}")


def denoising_loss(kind: str, level: float, seed: int = 0):
    """The DAE's objective as a loss for helpers.train.fit: a fresh corruption of every batch,
    then MSE between the reconstruction and the CLEAN batch (per pixel, mean over pixels and
    images). The noise comes from its own generator, seeded once: reproducible runs."""
    check_noise(kind, level)
    generator = torch.Generator().manual_seed(seed)

    def loss_fn(model, x):
        x_tilde = corrupt(x, kind, level, generator)
        return mse_per_pixel(model(x_tilde), x)
    return loss_fn


def masking_as_dropout(x: torch.Tensor, p: float, seed: int = 0) -> dict:
    """Apply torch's dropout to x and read off the mask it used.

    Returns {"dropout": F.dropout(x, p) (what an nn.Dropout layer outputs in training mode),
             "mask": the kept pixels (1) and dropped ones (0), "masked": x * mask (masking noise)}.
    Dropout = masking noise times 1/(1-p): the rescaling keeps the expected input unchanged.
    The mask is recovered by dropping out a tensor of ones with the same seed (same draws)."""
    with torch.random.fork_rng(devices=[]):       # leave the global generator as it was
        torch.manual_seed(seed)
        dropped = torch.nn.functional.dropout(x, p, training=True)
        torch.manual_seed(seed)
        mask = (torch.nn.functional.dropout(torch.ones_like(x), p, training=True) > 0).to(x.dtype)
    return {"dropout": dropped, "mask": mask, "masked": x * mask}


def uniform_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Uniform random numbers in [0, 1) of x's shape, drawn on the CPU, on x's device."""
    return torch.rand(x.shape, generator=generator).to(x.device)
