"""How far apart two distributions are: every KL divergence of the course, and the
Bhattacharyya distance.

    KL(p || q) = sum_x p(x) log(p(x) / q(x))          (an integral for densities)
    D_B(p, q)  = -log sum_x sqrt(p(x) q(x))

Both are >= 0 and 0 only when p = q. KL is not symmetric: KL(p || q) != KL(q || p) in general;
D_B is. Natural logarithms throughout (units: nats).

    kl_discrete            two probability vectors (03)
    kl_on_grid             two densities given on a grid (06: the KL-direction demo)
    kl_gaussian            two 1-D Gaussians, closed form (03: the KL explorer)
    bernoulli_kl           two Bernoulli distributions, elementwise (03: the sparsity penalty)
    kl_to_standard_normal  N(mu, diag(sigma^2)) against N(0, I), per image (06, 07: the VAE)
    kl_gaussians           two k-dimensional Gaussians with full covariances (07)

The first three take and return NumPy values and floats; the last three are torch functions,
because training losses use them.
"""
from __future__ import annotations

import numpy as np
import torch

EPS = 1e-6   # keeps log() finite when a Bernoulli parameter reaches exactly 0 or 1


# --- discrete distributions and densities on a grid (NumPy) --------------------------------

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


def kl_on_grid(p, q, dx: float) -> float:
    """KL(p || q) = sum p log(p / q) dx for densities given on a grid (terms with p = 0 drop)."""
    mask = p > 1e-300
    return float(np.sum(p[mask] * (np.log(p[mask]) - np.log(np.maximum(q[mask], 1e-300)))) * dx)


# --- 1-D Gaussians in closed form (NumPy) --------------------------------------------------

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


# --- the KLs of training losses (torch) ----------------------------------------------------

def bernoulli_kl(rho, rho_hat) -> torch.Tensor:
    """KL(Bernoulli(rho) || Bernoulli(rho_hat)), elementwise, in nats."""
    rho_hat = torch.as_tensor(rho_hat, dtype=torch.float32).clamp(EPS, 1 - EPS)
    rho = torch.as_tensor(rho, dtype=rho_hat.dtype)
    return rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(sigma^2)) || N(0, I)) = 1/2 sum_j (-logvar_j + mu_j^2 + sigma_j^2 - 1),
    summed over the latent dimensions: shape (B,) for (B, k) inputs."""
    return 0.5 * (-logvar + mu ** 2 + logvar.exp() - 1).sum(dim=-1)


def kl_gaussians(mu0: torch.Tensor, cov0: torch.Tensor, mu1: torch.Tensor,
                 cov1: torch.Tensor) -> torch.Tensor:
    """KL(N(mu0, cov0) || N(mu1, cov1)) for full k x k covariances:
    1/2 [tr(cov1^-1 cov0) + (mu1 - mu0)^T cov1^-1 (mu1 - mu0) - k + log det cov1 / det cov0]."""
    k = mu0.shape[-1]
    cov1_inv = torch.linalg.inv(cov1)
    diff = (mu1 - mu0).unsqueeze(-1)
    trace = torch.diagonal(cov1_inv @ cov0, dim1=-2, dim2=-1).sum(-1)
    mahalanobis = (diff.transpose(-2, -1) @ cov1_inv @ diff).squeeze(-1).squeeze(-1)
    log_dets = torch.logdet(cov1) - torch.logdet(cov0)
    return 0.5 * (trace + mahalanobis - k + log_dets)


def _probabilities(p) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1 or not np.all(np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1) > 1e-6:
        raise ValueError("a probability vector must be 1-D, finite, non-negative and sum to 1")
    return p


def _check_sigmas(*sigmas) -> None:
    for s in sigmas:
        if not np.isfinite(s) or s <= 0:
            raise ValueError(f"a standard deviation must be a finite number > 0, got {s!r}")
