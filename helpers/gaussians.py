"""Small Gaussian models where every quantity is exact, for notebooks 06 and 07.

1. Fitting ONE Gaussian q to a two-mode target p in 1-D, by either direction of the KL
   divergence, on a grid (the KL-direction demo).
2. A linear-Gaussian latent model (probabilistic PCA): z ~ N(0, I), x|z ~ N(W z + b, s^2 I).
   Its p(x) and its posterior p(z|x) are Gaussians in closed form, so the ELBO identity
   log p(x) = ELBO(q) + KL(q || p(z|x)) can be checked to the last digit.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import minimize

from .divergences import gaussian_pdf, kl_gaussians, kl_on_grid

GRID = np.linspace(-12, 12, 2401)          # x values for the 1-D demo; spacing 0.01


# --- 1. one Gaussian against a two-mode target ---------------------------------------------

def two_modes(separation: float, weight: float, std: float = 1.0):
    """The target p: weight * N(-separation/2, std^2) + (1 - weight) * N(+separation/2, std^2).
    Returns (means, stds, weights) as arrays of two."""
    if not (np.isfinite(separation) and 0 <= separation <= 20):
        raise ValueError(f"separation must be a number in [0, 20], got {separation!r}")
    if not (np.isfinite(weight) and 0 < weight < 1):
        raise ValueError(f"weight must be strictly between 0 and 1, got {weight!r}")
    return (np.array([-separation / 2, separation / 2]), np.array([std, std]),
            np.array([weight, 1 - weight]))


def mixture_pdf(x, means, stds, weights):
    return sum(w * gaussian_pdf(x, m, s) for m, s, w in zip(means, stds, weights))


def fit_gaussian(p, direction: str, grid=GRID, starts=None) -> tuple[float, float]:
    """The (mean, std) of the Gaussian q that minimises KL(q||p) (direction 'reverse',
    mode-seeking) or KL(p||q) (direction 'forward', mass-covering), by numerical optimisation
    over (mean, log std) on the grid, from several starting points (the reverse KL has one
    local minimum per mode)."""
    if direction not in ("reverse", "forward"):
        raise ValueError(f"direction must be 'reverse' or 'forward', got {direction!r}")
    dx = grid[1] - grid[0]

    def objective(theta):
        q = gaussian_pdf(grid, theta[0], math.exp(theta[1]))
        return kl_on_grid(q, p, dx) if direction == "reverse" else kl_on_grid(p, q, dx)

    mean_p = float(np.sum(grid * p) * dx)
    starts = starts or [grid[np.argmax(p)], mean_p, grid[::-1][np.argmax(p[::-1])]]
    # Bounds keep q inside the grid: a q far wider than the grid would have its mass off the
    # grid, and the grid sum would miss it (a fake KL near 0).
    bounds = [(grid[0] / 2, grid[-1] / 2), (math.log(0.05), math.log(grid[-1] / 1.5))]
    best = min((minimize(objective, [s, 0.0], method="Nelder-Mead", bounds=bounds,
                         options=dict(xatol=1e-4, fatol=1e-7)) for s in starts),
               key=lambda result: result.fun)
    return float(best.x[0]), float(math.exp(best.x[1]))


def moment_match(means, stds, weights) -> tuple[float, float]:
    """The Gaussian with the mixture's mean and variance: the exact minimiser of KL(p || q)."""
    mean = float(np.sum(weights * means))
    var = float(np.sum(weights * (stds ** 2 + means ** 2)) - mean ** 2)
    return mean, math.sqrt(var)


def kl_direction_fits(separation: float, weight: float) -> dict:
    """Everything the KL-direction demo draws: the target p on GRID, and both fits with their
    KL values (nats)."""
    means, stds, weights = two_modes(separation, weight)
    p = mixture_pdf(GRID, means, stds, weights)
    dx = GRID[1] - GRID[0]
    reverse = fit_gaussian(p, "reverse")
    forward = moment_match(means, stds, weights)
    q_rev, q_fwd = gaussian_pdf(GRID, *reverse), gaussian_pdf(GRID, *forward)
    return dict(x=GRID, p=p, means=means, reverse=reverse, forward=forward, q_reverse=q_rev,
                q_forward=q_fwd, kl_reverse=kl_on_grid(q_rev, p, dx),
                kl_forward=kl_on_grid(p, q_fwd, dx))


# --- 2. the linear-Gaussian latent model (probabilistic PCA) -------------------------------

class LinearGaussianModel:
    """z ~ N(0, I_k), x | z ~ N(W z + b, s2 I_d). All in float64.

    p(x)   = N(b, W W^T + s2 I)                          (exact marginal likelihood)
    p(z|x) = N(M^-1 W^T (x - b), s2 M^-1), M = W^T W + s2 I   (exact posterior)
    """

    def __init__(self, W: torch.Tensor, b: torch.Tensor, s2: float):
        self.W, self.b, self.s2 = W.double(), b.double(), float(s2)
        self.d, self.k = self.W.shape

    @classmethod
    def random(cls, d: int = 5, k: int = 2, s2: float = 0.5, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        return cls(torch.randn(d, k, generator=g, dtype=torch.float64),
                   torch.randn(d, generator=g, dtype=torch.float64), s2)

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.k, generator=g, dtype=torch.float64)
        return z @ self.W.T + self.b + math.sqrt(self.s2) * torch.randn(n, self.d, generator=g,
                                                                         dtype=torch.float64)

    def log_px(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) (nats), one value per row of x."""
        cov = self.W @ self.W.T + self.s2 * torch.eye(self.d, dtype=torch.float64)
        return torch.distributions.MultivariateNormal(self.b, cov).log_prob(x.double())

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact p(z|x) for one x (d,): (mean (k,), covariance (k, k))."""
        M = self.W.T @ self.W + self.s2 * torch.eye(self.k, dtype=torch.float64)
        M_inv = torch.linalg.inv(M)
        return M_inv @ self.W.T @ (x.double() - self.b), self.s2 * M_inv

    def expected_log_lik(self, x: torch.Tensor, m: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
        """E_{z ~ N(m, S)}[log p(x|z)] in closed form, for one x:
        log N(x; W m + b, s2 I) - tr(W^T W S) / (2 s2)."""
        residual = x.double() - self.W @ m - self.b
        return (-0.5 * self.d * math.log(2 * math.pi * self.s2)
                - 0.5 * residual @ residual / self.s2
                - 0.5 * torch.trace(self.W.T @ self.W @ S) / self.s2)

    def elbo(self, x: torch.Tensor, m: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
        """ELBO(q) = E_q[log p(x|z)] - KL(q || p(z)) for q = N(m, S), exact (no sampling)."""
        eye = torch.eye(self.k, dtype=torch.float64)
        return self.expected_log_lik(x, m, S) - kl_gaussians(m, S, torch.zeros(self.k,
                                                             dtype=torch.float64), eye)
