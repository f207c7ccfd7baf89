"""The variational autoencoder (VAE): model, loss, and the estimators of notebooks 06 and 07;
the conditional VAE of notebook 09.

Names follow pytorch/examples' vae/main.py: x, x_hat, z, mu, logvar. Every loss here is in
nats (natural logarithms) and is SUMMED over pixels and over latent dimensions, then either
returned per image (shape (B,)) or AVERAGED over the images of a batch (a scalar): a number
per digit, directly comparable with the papers that report "nats per digit".
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .divergences import kl_to_standard_normal
from .errors import check_int, check_number, check_sizes
from .losses import bernoulli_nll_per_image, squared_error_per_image
from .models import decode_all, device_of, mlp

LOG_2PI = math.log(2 * math.pi)


def check_input_dropout(share) -> float:
    """ValueError unless `share` is a number from 0 up to (not including) 1."""
    if check_number("input_dropout", share, 0) >= 1:
        raise ValueError(f"input_dropout must be below 1 (a share of pixels), got {share!r}")
    return float(share)


class VAE(nn.Module):
    """x -> encoder -> (mu, logvar) -> z = mu + sigma * eps -> decoder -> x_hat.

    sizes: [784, hidden..., latent], e.g. [784, 400, 20] as pytorch/examples or [784, 512, 2].
    The encoder's last hidden layer feeds two linear heads, one for mu and one for
    logvar = log sigma^2 (a log, so any real number is a valid variance). The decoder mirrors
    the sizes and ends in a sigmoid: x_hat holds Bernoulli probabilities (pixel means) in (0, 1).

    input_dropout: the share of the encoder's input pixels set to 0 (the others scaled up to
    keep the mean) in each training step; 0 (the default) switches it off. Why it helps on
    4,000 digits: the encoder can no longer memorise each training digit pixel by pixel, so
    it encodes held-out digits about as well as training ones (dropout: Srivastava et al. 2014;
    on the inputs it is the denoising autoencoder's masking noise, notebook 02). It acts only
    in training: in evaluation mode (model.eval()) the encoder sees every pixel.
    """

    def __init__(self, sizes: list[int], activation: str = "relu", input_dropout: float = 0.0):
        super().__init__()
        sizes = check_sizes("sizes", sizes, min_length=3)     # [input, hidden..., latent]
        check_input_dropout(input_dropout)
        self.config = dict(kind="VAE", sizes=list(sizes), activation=activation,
                           input_dropout=input_dropout)
        *body, latent = sizes
        self.input_dropout = nn.Dropout(input_dropout)            # no weights: nothing to save
        self.encoder = mlp(body, activation, activation)          # 784 => hidden
        self.fc_mu = nn.Linear(body[-1], latent)
        self.fc_logvar = nn.Linear(body[-1], latent)
        self.decoder = mlp(list(sizes)[::-1], activation, "sigmoid")   # latent => 784

    @property
    def code_size(self) -> int:
        return self.config["sizes"][-1]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 784) -> mu (B, k), logvar (B, k): the Gaussian q(z|x) = N(mu, diag(exp(logvar)))."""
        h = self.encoder(self.input_dropout(x))
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


# --- the loss --------------------------------------------------------------------------------
# Its terms, one value per image: helpers.losses.bernoulli_nll_per_image (or
# squared_error_per_image, the lecture's 'MSE') and helpers.divergences.kl_to_standard_normal.

RECONSTRUCTION = {"bernoulli": bernoulli_nll_per_image, "squared_error": squared_error_per_image}


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


# --- ingredients that help a VAE learn from 4,000 digits -------------------------------------
# Each one is off by default; helpers.recipes (VAERecipe) says which model uses which. Three
# more live elsewhere: dropout on the encoder's input pixels is part of the model (VAE's
# input_dropout), the decoder started at the mean training image is
# helpers.models.set_output_bias_to_mean_pixel, and the learning rate lowered along a cosine is
# helpers.train.fit's schedule.

def random_shift(x: torch.Tensor, max_shift: int = 1,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Square images (B, side * side) each moved by a random whole number of pixels from
    -max_shift to max_shift across and, independently, down; pixels that come in from outside
    are 0 (black). Why it helps on 4,000 digits: each batch shows a slightly moved copy of
    every digit, so the network learns digits rather than memorising 4,000 pixel patterns
    (small distortions of the training digits: Simard, Steinkraus and Platt 2003)."""
    check_int("max_shift", max_shift, minimum=0)
    n, side = len(x), math.isqrt(x.shape[-1])
    if side * side != x.shape[-1]:
        raise ValueError(f"random_shift needs square images, got {x.shape[-1]} pixels per image")
    padded = nn.functional.pad(x.reshape(n, side, side), (max_shift,) * 4)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n, 1), generator=generator).to(x.device)
    rows = (dy + torch.arange(side, device=x.device))[:, :, None]        # (n, side, 1)
    cols = (dx + torch.arange(side, device=x.device))[:, None, :]        # (n, 1, side)
    return padded[torch.arange(n, device=x.device)[:, None, None], rows, cols].reshape(n, -1)


def kl_weight(step: int, warmup_steps: int, beta: float = 1.0) -> float:
    """The weight of the KL term at training step `step` (0 = the first): rising in a straight
    line from beta / (warmup_steps + 1) to beta over the first warmup_steps steps, then beta.
    Why a warm-up helps on 4,000 digits: the decoder first learns to use the code, before the KL
    term pulls every q(z|x) towards N(0, I), so fewer latent dimensions are switched off for
    good (Bowman et al. 2016; Sønderby et al. 2016). warmup_steps = 0: always beta."""
    return beta * min(1.0, (step + 1) / (warmup_steps + 1))


def training_loss(beta: float = 1.0, likelihood: str = "bernoulli", warmup_steps: int = 0,
                  max_shift: int = 0, seed: int = 0):
    """The loss a VAE is trained on, for helpers.train.fit: vae_loss with the KL weight of
    `kl_weight` (a warm-up over warmup_steps steps) on each batch moved by `random_shift`
    (max_shift = 0: not moved). With the defaults it is vae_loss itself. Only training steps
    count and move: in evaluation mode (fit's held-out loss) it is the plain vae_loss, the
    negative ELBO. The shifts come from their own generator, seeded once: reproducible runs."""
    check_int("warmup_steps", warmup_steps, minimum=0)
    check_int("max_shift", max_shift, minimum=0)
    generator = torch.Generator().manual_seed(seed)
    step = 0

    def loss_fn(model, x):
        nonlocal step
        if not model.training:
            return vae_loss(model, x, beta, likelihood)
        weight = kl_weight(step, warmup_steps, beta)
        step += 1
        if max_shift:
            x = random_shift(x, max_shift, generator)
        return vae_loss(model, x, weight, likelihood)
    return loss_fn


def loss_terms(model: VAE, x: torch.Tensor, batch_size: int = 1000) -> dict:
    """Held-out reconstruction and KL, each in nats summed over pixels / latent dimensions and
    averaged over the images of x (one sample z per image, generator seeded)."""
    g = torch.Generator().manual_seed(0)
    device = device_of(model)
    recon, kl = 0.0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size].to(device)
            mu, logvar = model.encode(xb)
            z = model.reparameterize(mu.cpu(), logvar.cpu(), g).to(device)
            recon += bernoulli_nll_per_image(model.decode(z), xb).sum().item()
            kl += kl_to_standard_normal(mu, logvar).sum().item()
    return {"reconstruction": recon / len(x), "kl": kl / len(x),
            "negative_elbo": (recon + kl) / len(x)}


# --- the conditional VAE (notebook 09) ------------------------------------------------------

class ConditionalVAE(nn.Module):
    """A VAE that is told the label y (Sohn, Lee and Yan 2015; Kingma et al. 2014, "M2"):
    the encoder sees (x, y) and gives q(z|x, y), the decoder sees (z, y) and gives p(x|z, y).
    The label goes in as a one-hot vector glued to the input of each network:

        x (784) + one-hot y (10) -> hidden -> mu, logvar (k)
        z (k)   + one-hot y (10) -> hidden -> x_hat (784, sigmoid)

    Since the decoder is told which class to draw, the code z need not say it: z is free to
    hold what the label does not (slant, width, thickness). sizes: [784, hidden..., k]."""

    def __init__(self, sizes: list[int], n_classes: int = 10, activation: str = "relu"):
        super().__init__()
        sizes = check_sizes("sizes", sizes, min_length=3)
        self.config = dict(kind="ConditionalVAE", sizes=list(sizes), n_classes=n_classes,
                           activation=activation)
        self.n_classes = n_classes
        *body, latent = sizes
        self.encoder = mlp([body[0] + n_classes, *body[1:]], activation, activation)  # 794 => hidden
        self.fc_mu = nn.Linear(body[-1], latent)
        self.fc_logvar = nn.Linear(body[-1], latent)
        self.decoder = mlp([latent + n_classes, *body[::-1][:-1], body[0]], activation,
                           "sigmoid")                                              # k + 10 => 784

    @property
    def code_size(self) -> int:
        return self.config["sizes"][-1]

    def one_hot(self, y: torch.Tensor) -> torch.Tensor:
        """Labels (B,) -> (B, n_classes) rows of 0s with a 1 at the label."""
        return nn.functional.one_hot(y.long(), self.n_classes).float()

    def encode(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(torch.cat([x, self.one_hot(y).to(x.device)], dim=1))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.cat([z, self.one_hot(y).to(z.device)], dim=1))

    def forward(self, x: torch.Tensor, y: torch.Tensor):
        mu, logvar = self.encode(x, y)
        z = VAE.reparameterize(mu, logvar)
        return self.decode(z, y), mu, logvar


def conditional_vae_loss(model: ConditionalVAE, x: torch.Tensor, y: torch.Tensor,
                         beta: float = 1.0) -> torch.Tensor:
    """The VAE's loss with the label given to both networks: Bernoulli reconstruction summed
    over pixels + beta * KL(q(z|x, y) || N(0, I)) summed over latent dimensions, averaged over
    the images of the batch (nats per digit)."""
    x_hat, mu, logvar = model(x, y)
    return (bernoulli_nll_per_image(x_hat, x) + beta * kl_to_standard_normal(mu, logvar)).mean()


@torch.no_grad()
def sample_class(model: ConditionalVAE, label: int, n: int, seed: int = 0) -> torch.Tensor:
    """n images of class `label` decoded from z ~ N(0, I) (pixel means), on the CPU."""
    z = torch.randn(n, model.code_size, generator=torch.Generator().manual_seed(seed))
    y = torch.full((n,), int(label))
    device = device_of(model)
    model.eval()
    return model.decode(z.to(device), y.to(device)).cpu()


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
    device = device_of(model)
    mu, logvar = model.encode(x.to(device))
    mu, logvar, xd = mu.cpu(), logvar.cpu(), x.cpu()
    terms = []
    step = max(1, min(chunk, 10_000 // len(xd)))    # at most 10,000 images decoded at once (memory)
    for start in range(0, n_samples, step):
        k = min(step, n_samples - start)
        eps = torch.randn((k, *mu.shape), generator=generator)
        z = mu + (0.5 * logvar).exp() * eps                                 # (k, B, latent)
        x_hat = model.decode(z.reshape(-1, mu.shape[-1]).to(device)).cpu().reshape(k, *xd.shape)
        log_px_z = -bernoulli_nll_per_image(x_hat, xd)                                # (k, B)
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
    device = device_of(model)
    x = x.reshape(1, -1).cpu()
    parts = []
    for start in range(0, n_samples, chunk):
        z = torch.randn(min(chunk, n_samples - start), model.code_size, generator=generator)
        parts.append(-bernoulli_nll_per_image(model.decode(z.to(device)).cpu(), x))
    return torch.logsumexp(torch.cat(parts), dim=0) - math.log(n_samples)


@torch.no_grad()
def sample_images(model: VAE, n: int, seed: int = 0) -> torch.Tensor:
    """n images decoded from z ~ N(0, I) (pixel means x_hat, not Bernoulli draws), on the CPU."""
    z = torch.randn(n, model.code_size, generator=torch.Generator().manual_seed(seed))
    return decode_all(model, z)
