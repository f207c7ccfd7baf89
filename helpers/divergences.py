"""How far apart two distributions are: KL divergence and the Bhattacharyya distance.

    KL(p || q) = sum_x p(x) log(p(x) / q(x))          (an integral for densities)
    D_B(p, q)  = -log sum_x sqrt(p(x) q(x))

Both are >= 0 and 0 only when p = q. KL is not symmetric: KL(p || q) != KL(q || p) in general;
D_B is. Natural logarithms throughout (units: nats). Closed forms for two 1-D Gaussians are
given too, because the widget of notebook 03 and the VAE notebooks use them.
"""
from __future__ import annotations

import numpy as np


def kl_discrete(p, q) -> float:
    """KL(p || q) for two probability vectors of the same length. Terms with p = 0 count 0;
    a q = 0 where p > 0 gives infinity (q cannot explain what p does)."""
    p, q = _probabilities(p), _probabilities(q)
    support = p > 0
    with np.errstate(divide="ignore"):
        return float(np.sum(p[support] * (np.log(p[support]) - np.log(q[support]))))


def bhattacharyya_discrete(p, q) -> float:
    """D_B(p, q) = -log sum sqrt(p q): symmetric, 0 for equal p and q, infinite for disjoint ones."""
    p, q = _probabilities(p), _probabilities(q)
    with np.errstate(divide="ignore"):
        return float(-np.log(np.sum(np.sqrt(p * q))))


def kl_gaussian(mu_p: float, sigma_p: float, mu_q: float, sigma_q: float) -> float:
    """KL(N(mu_p, sigma_p^2) || N(mu_q, sigma_q^2))
    = log(sigma_q / sigma_p) + (sigma_p^2 + (mu_p - mu_q)^2) / (2 sigma_q^2) - 1/2."""
    _check_sigmas(sigma_p, sigma_q)
    return float(np.log(sigma_q / sigma_p)
                 + (sigma_p ** 2 + (mu_p - mu_q) ** 2) / (2 * sigma_q ** 2) - 0.5)


def bhattacharyya_gaussian(mu_p: float, sigma_p: float, mu_q: float, sigma_q: float) -> float:
    """D_B between two 1-D Gaussians
    = (mu_p - mu_q)^2 / (4 (sigma_p^2 + sigma_q^2)) + 1/2 log((sigma_p^2 + sigma_q^2) / (2 sigma_p sigma_q))."""
    _check_sigmas(sigma_p, sigma_q)
    total = sigma_p ** 2 + sigma_q ** 2
    return float((mu_p - mu_q) ** 2 / (4 * total) + 0.5 * np.log(total / (2 * sigma_p * sigma_q)))


def gaussian_pdf(x, mu: float, sigma: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def _probabilities(p) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1 or not np.all(np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1) > 1e-6:
        raise ValueError("a probability vector must be 1-D, finite, non-negative and sum to 1")
    return p


def _check_sigmas(*sigmas) -> None:
    for s in sigmas:
        if not np.isfinite(s) or s <= 0:
            raise ValueError(f"a standard deviation must be a finite number > 0, got {s!r}")
