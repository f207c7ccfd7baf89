"""The variational autoencoder (VAE): model, loss, and the estimators of notebooks 06 and 07.

Names follow pytorch/examples' vae/main.py: x, x_hat, z, mu, logvar. Every loss here is in
nats (natural logarithms) and is SUMMED over pixels and over latent dimensions, then either
returned per image (shape (B,)) or AVERAGED over the images of a batch (a scalar): a number
per digit, directly comparable with the papers that report "nats per digit".
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .errors import check_choice, check_number, check_sizes
from .models import mlp

LOG_2PI = math.log(2 * math.pi)


class VAE(nn.Module):
    """x -> encoder -> (mu, logvar) -> z = mu + sigma * eps -> decoder -> x_hat.

    sizes: [784, hidden..., latent], e.g. [784, 400, 20] as pytorch/examples or [784, 512, 2].
    The encoder's last hidden layer feeds two linear heads, one for mu and one for
    logvar = log sigma^2 (a log, so any real number is a valid variance). The decoder mirrors
    the sizes and ends in a sigmoid: x_hat holds Bernoulli probabilities (pixel means) in (0, 1).
    """

    def __init__(self, sizes: list[int], activation: str = "relu"):
        super().__init__()
        sizes = check_sizes("sizes", sizes, min_length=3)     # [input, hidden..., latent]
        self.config = dict(kind="VAE", sizes=list(sizes), activation=activation)
        *body, latent = sizes
        self.encoder = mlp(body, activation, activation)          # 784 => hidden
        self.fc_mu = nn.Linear(body[-1], latent)
        self.fc_logvar = nn.Linear(body[-1], latent)
        self.decoder = mlp(list(sizes)[::-1], activation, "sigmoid")   # latent => 784

    @property
    def code_size(self) -> int:
        return self.config["sizes"][-1]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 784) -> mu (B, k), logvar (B, k): the Gaussian q(z|x) = N(mu, diag(exp(logvar)))."""
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """z = mu + sigma * eps with eps ~ N(0, I): the randomness sits in eps, so gradients
        reach mu and logvar through z."""
        std = torch.exp(0.5 * logvar)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + std * eps

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, k) -> x_hat (B, 784): pixel probabilities in (0, 1)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


# --- the terms of the loss, one value per image -------------------------------------------

def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(sigma^2)) || N(0, I)) = 1/2 sum_j (-logvar_j + mu_j^2 + sigma_j^2 - 1),
    summed over the latent dimensions: shape (B,) for (B, k) inputs."""
    return 0.5 * (-logvar + mu ** 2 + logvar.exp() - 1).sum(dim=-1)


def bernoulli_nll(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) for a Bernoulli decoder: binary cross-entropy SUMMED over pixels, shape (B,).
    (On grey values in (0, 1) this is a cross-entropy, not a normalised density: its minimum,
    reached at x_hat = x, is the entropy of the grey pixels, not 0.)"""
    return F.binary_cross_entropy(x_hat, x.expand_as(x_hat), reduction="none").sum(dim=-1)


def squared_error_nll(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Squared error SUMMED over pixels, shape (B,): the lecture's 'MSE' reconstruction term.
    It is -log p(x|z) of a Gaussian decoder N(x_hat, I/2), up to a constant."""
    return ((x - x_hat) ** 2).sum(dim=-1)


RECONSTRUCTION = {"bernoulli": bernoulli_nll, "squared_error": squared_error_nll}


def negative_elbo(model: VAE, x: torch.Tensor, beta: float = 1.0,
                  likelihood: str = "bernoulli") -> torch.Tensor:
    """Per image (B,): reconstruction (summed over pixels, one sample z ~ q(z|x))
    + beta * KL(q(z|x) || N(0, I)) (summed over latent dimensions). beta = 1 is the VAE."""
    x_hat, mu, logvar = model(x)
    return RECONSTRUCTION[likelihood](x_hat, x) + beta * kl_to_standard_normal(mu, logvar)


def vae_loss(model: VAE, x: torch.Tensor, beta: float = 1.0,
             likelihood: str = "bernoulli") -> torch.Tensor:
    """The training loss: negative ELBO in nats, summed over pixels and latent dimensions,
    AVERAGED over the images of the batch (pytorch/examples sums over the batch too and divides
    by the number of images when it prints: the same number per digit)."""
    return negative_elbo(model, x, beta, likelihood).mean()


def loss_terms(model: VAE, x: torch.Tensor, batch_size: int = 1000) -> dict:
    """Held-out reconstruction and KL, each in nats summed over pixels / latent dimensions and
    averaged over the images of x (one sample z per image, generator seeded)."""
    g = torch.Generator().manual_seed(0)
    device = next(model.parameters()).device
    recon, kl = 0.0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size].to(device)
            mu, logvar = model.encode(xb)
            z = model.reparameterize(mu.cpu(), logvar.cpu(), g).to(device)
            recon += bernoulli_nll(model.decode(z), xb).sum().item()
            kl += kl_to_standard_normal(mu, logvar).sum().item()
    return {"reconstruction": recon / len(x), "kl": kl / len(x),
            "negative_elbo": (recon + kl) / len(x)}


# --- densities and estimators --------------------------------------------------------------

def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))), summed over the last dimension."""
    return -0.5 * (LOG_2PI + logvar + (z - mu) ** 2 / logvar.exp()).sum(dim=-1)


@torch.no_grad()
def log_likelihood_importance(model: VAE, x: torch.Tensor, n_samples: int,
                              generator: torch.Generator | None = None,
                              chunk: int = 100) -> torch.Tensor:
    """Importance-sampled estimate of log p(x) per image, shape (B,) (Burda et al. 2016):
    log p(x) >= E[log 1/K sum_k p(x|z_k) p(z_k) / q(z_k|x)],  z_k ~ q(z|x).
    K = 1 gives the ELBO; the bound tightens as K grows. Bernoulli decoder, nats."""
    device = next(model.parameters()).device
    mu, logvar = model.encode(x.to(device))
    mu, logvar, xd = mu.cpu(), logvar.cpu(), x.cpu()
    terms = []
    for start in range(0, n_samples, chunk):
        k = min(chunk, n_samples - start)
        eps = torch.randn((k, *mu.shape), generator=generator)
        z = mu + (0.5 * logvar).exp() * eps                                 # (k, B, latent)
        x_hat = model.decode(z.reshape(-1, mu.shape[-1]).to(device)).cpu().reshape(k, *xd.shape)
        log_px_z = -bernoulli_nll(x_hat, xd)                                # (k, B)
        log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
        log_qz = log_normal(z, mu, logvar)
        terms.append(log_px_z + log_pz - log_qz)
    log_w = torch.cat(terms)                                               # (K, B)
    return torch.logsumexp(log_w, dim=0) - math.log(n_samples)


@torch.no_grad()
def log_likelihood_prior_sampling(model: VAE, x: torch.Tensor, n_samples: int,
                                  generator: torch.Generator | None = None,
                                  chunk: int = 5000) -> torch.Tensor:
    """The naive Monte Carlo estimate log (1/n sum_i p(x|z_i)), z_i ~ N(0, I), for ONE image
    x of shape (784,) or (1, 784); returns a 0-d tensor (nats). Computed with logsumexp,
    because each p(x|z_i) is far below the smallest float."""
    device = next(model.parameters()).device
    x = x.reshape(1, -1).cpu()
    parts = []
    for start in range(0, n_samples, chunk):
        z = torch.randn(min(chunk, n_samples - start), model.code_size, generator=generator)
        parts.append(-bernoulli_nll(model.decode(z.to(device)).cpu(), x))
    return torch.logsumexp(torch.cat(parts), dim=0) - math.log(n_samples)


@torch.no_grad()
def encode_gaussian(model: VAE, x: torch.Tensor, batch_size: int = 2048):
    """(mu, logvar) of q(z|x) for all rows of x, on the CPU."""
    device = next(model.parameters()).device
    parts = [model.encode(x[i:i + batch_size].to(device)) for i in range(0, len(x), batch_size)]
    return torch.cat([p[0] for p in parts]).cpu(), torch.cat([p[1] for p in parts]).cpu()


@torch.no_grad()
def sample_images(model: VAE, n: int, seed: int = 0) -> torch.Tensor:
    """n images decoded from z ~ N(0, I) (pixel means x_hat, not Bernoulli draws), on the CPU."""
    z = torch.randn(n, model.code_size, generator=torch.Generator().manual_seed(seed))
    return model.decode(z.to(next(model.parameters()).device)).cpu()


# --- KL between Gaussians ------------------------------------------------------------------

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


# --- training through the cache ------------------------------------------------------------

def trained_vae(name: str, data, sizes: list[int], *, beta: float = 1.0,
                likelihood: str = "bernoulli", epochs: int = 20, batch_size: int = 128,
                lr: float = 1e-3, seed: int = 0, verbose: bool = True):
    """A `VAE` trained on data.x_train to minimise vae_loss (held-out loss tracked on
    data.x_test), loaded from the cache when this exact model, data and recipe was trained
    before. Returns (model, history); the history's losses are nats per image (summed over
    pixels and latent dimensions, averaged over images)."""
    from .cache import code_fingerprint, train_or_load
    from .models import make_activation
    from .train import evaluate_loss, fit

    check_choice("likelihood", likelihood, sorted(RECONSTRUCTION))
    sizes = check_sizes("sizes", sizes, min_length=3, first=data.x_train.shape[1])
    check_number("beta", beta, 0)
    config = dict(model=dict(kind="VAE", sizes=list(sizes)), data=data.fingerprint,
                  n_train=len(data.x_train), loss=f"negative_elbo_{likelihood}_sum_pixels",
                  beta=beta, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                  code=code_fingerprint(trained_vae, fit, evaluate_loss, vae_loss, negative_elbo,
                                        kl_to_standard_normal, RECONSTRUCTION[likelihood], VAE,
                                        mlp, make_activation))

    def loss_fn(model, x):
        return vae_loss(model, x, beta, likelihood)

    def run(model):
        return fit(model, data.x_train, loss_fn=loss_fn, x_val=data.x_test, epochs=epochs,
                   batch_size=batch_size, lr=lr, seed=seed, desc=name)

    return train_or_load(name, config, lambda: VAE(sizes), run, verbose)
