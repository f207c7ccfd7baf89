"""Walking about a latent space (notebook 09): paths between two codes, and what a decoder
draws at a code as an average of training digits.

    interpolate, path     codes on the way from z0 to z1: "linear" (a straight line) or
                          "spherical" (an arc about the origin, White 2016)
    posterior_weights     how much each training digit could have produced the code z: its
                          q(z|x_i), normalised over the digits
    posterior_average     the training digits averaged with those weights: what a decoder that
                          minimises the VAE's reconstruction loss draws at z
    sharpness             the mean squared difference between neighbouring pixels (06, section 8)
"""
from __future__ import annotations

import torch

from .errors import check_choice, check_int

PATHS = ("linear", "spherical")


def interpolate(z0: torch.Tensor, z1: torch.Tensor, t, kind: str = "linear") -> torch.Tensor:
    """The codes at positions t (a number or a 1-D tensor of numbers in [0, 1]) on the way from
    z0 (t = 0) to z1 (t = 1), shape (len(t), k).

    linear:    z(t) = (1 - t) z0 + t z1, the straight line. Halfway between two codes of the same
               length it is shorter than both: in many dimensions a point the prior N(0, I)
               almost never draws (White 2016).
    spherical: z(t) = [sin((1 - t) w) z0 + sin(t w) z1] / sin(w), w the angle between z0 and z1:
               an arc about the origin, which keeps the length of two codes of equal length.
               When the two codes point the same way (w near 0) it is the straight line."""
    check_choice("kind", kind, PATHS)
    z0, z1 = torch.as_tensor(z0, dtype=torch.float32), torch.as_tensor(z1, dtype=torch.float32)
    t = torch.as_tensor(t, dtype=torch.float32).reshape(-1, 1)          # (len(t), 1)
    if not torch.isfinite(t).all():
        raise ValueError("t must hold finite numbers")
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm()).clamp_min(1e-12)
    w = torch.arccos(cos.clamp(-1, 1))                                   # the angle, radians
    if kind == "linear" or w < 1e-4:
        return (1 - t) * z0 + t * z1
    return (torch.sin((1 - t) * w) * z0 + torch.sin(t * w) * z1) / torch.sin(w)


def path(z0: torch.Tensor, z1: torch.Tensor, steps: int, kind: str = "linear") -> torch.Tensor:
    """`steps` codes from z0 to z1, both included, at equal steps of t: shape (steps, k)."""
    check_int("steps", steps, minimum=2)
    return interpolate(z0, z1, torch.linspace(0, 1, steps), kind)


def posterior_weights(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """For one code z (k,) and the encoder's q(z|x_i) = N(mu_i, diag(exp(logvar_i))) of N
    training digits (mu, logvar: (N, k)): weights w_i proportional to q(z|x_i), summing to 1,
    shape (N,). A digit whose Gaussian puts much density at z gets a large weight."""
    log_q = -0.5 * (logvar + (z - mu) ** 2 / logvar.exp()).sum(dim=1)   # log q(z|x_i) + a constant
    return torch.softmax(log_q, dim=0)


def posterior_average(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                      images: torch.Tensor) -> torch.Tensor:
    """sum_i w_i(z) x_i: the training images (N, 784) averaged with posterior_weights. The VAE's
    decoder is trained on pairs (x_i, z ~ q(z|x_i)); the output at z that makes the expected
    Bernoulli (or squared) error smallest is this average of the x_i that send codes to z."""
    return posterior_weights(z, mu, logvar) @ images


def sharpness(images: torch.Tensor) -> float:
    """The mean squared difference between neighbouring pixels (horizontal and vertical), over
    pixel pairs and images: large for crisp strokes, small for a blur, large for noise too."""
    images = torch.as_tensor(images).reshape(-1, 28, 28)
    dx, dy = images[:, :, 1:] - images[:, :, :-1], images[:, 1:, :] - images[:, :-1, :]
    return 0.5 * ((dx ** 2).mean() + (dy ** 2).mean()).item()
