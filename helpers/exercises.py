"""Every exercise of the course, keyed by notebook and number ("06.2": notebook 06, exercise 2):
what its check compares the answer with, the inputs a function is tried on, two hints and the
mistakes it names. A notebook's check cell is one call, `checks.exercise("06.2", reparameterize)`;
helpers/checks.py does the comparing and the printing.

A word to the learner: the references below compute the answers (mostly with the course's own
helpers), and the hints are printed only after a wrong try. Nothing stops you reading this file,
but try each exercise first: that is where the learning is.

Everything an exercise needs is made here, from fixed seeds (or, for the few that need real
digits or trained models, from the course's data and model cache), so a check gives the same
verdict in any notebook, whatever the cells above it changed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Callable

import numpy as np
import torch


@dataclass(frozen=True)
class Exercise:
    key: str                         # "06.2"
    name: str                        # what the check prints
    kind: str                        # "value", "function" or "judge" (a yes/no test of a function)
    hints: tuple[str, str]           # the first after one wrong try, the second from then on
    expected: Callable | None = None     # value: () -> the expected value
    reference: Callable | None = None    # function: the reference function ...
    inputs: Callable | None = None       # ... and () -> the argument tuples it is tried on
    adapt: Callable | None = None        # function: answer -> what is compared with `reference`
    judge: Callable | None = None        # judge: answer -> None if right, else what is wrong
    detail: str = ""                     # judge: what ✓ says
    mistakes: dict = field(default_factory=dict)
    rtol: float = 1e-4
    atol: float = 1e-6


EXERCISES: dict[str, Exercise] = {}


def get(key: str) -> Exercise:
    if key not in EXERCISES:
        raise KeyError(f"no exercise {key!r}; the course's exercises are {', '.join(EXERCISES)}")
    return EXERCISES[key]


def _add(key: str, name: str, kind: str, hints: tuple[str, str], **parts) -> None:
    EXERCISES[key] = Exercise(key, name, kind, hints, **parts)


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _made_with_seed(seed: int, make: Callable):
    """make(), with torch's global generator seeded for it and then put back as it was, so a
    check never changes the random numbers of the notebook's next cells."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return make()


def _images(n: int, seed: int) -> torch.Tensor:
    """n random 'images' of 784 pixels in [0, 1)."""
    return torch.rand(n, 784, generator=_seeded(seed))


@cache
def _data():
    """The course's digits, as the notebooks load them (AE_DATA decides which)."""
    from .data import load_data
    return load_data(verbose=False)


@cache
def _pca(k: int):
    from .evaluate import PCACodec
    return PCACodec(_data().x_train, k)


# --- 01 · the vanilla autoencoder ----------------------------------------------------------

_add("01.1", "compression ratio", "value", expected=lambda: 784 / 2,
     hints=("Section 9 (Compression) counts how many numbers describe one digit before and "
            "after encoding.",
            "Divide the number of pixels by the number of code values: the ratio is larger than 1."),
     mistakes={2: "did you count the pixels without dividing by the code size?"})


def _squared_error_sum(x, x_hat):
    from .losses import squared_error_per_image
    return squared_error_per_image(x_hat, x)


_add("01.2", "mse_summed_per_image", "function", reference=_squared_error_sum,
     inputs=lambda: [(_images(3, 0), _images(3, 1)),
                     (_images(5, 2).round(), _images(5, 2).round() * 0.9 + 0.05)],
     hints=("Section 2 writes the loss as a mean; this exercise asks for a sum over the pixels of "
            "each image, and no reduction over the images.",
            "Square the differences, then sum over dim=1 only (the pixel axis), so that one number "
            "per row remains."),
     mistakes={1 / 784: "did you average over the pixels where a sum was asked?"})

_add("01.3", "pca_encode", "function",
     reference=lambda x, components, mean: _pca(2).encode(x),
     inputs=lambda: [(_data().x_test[:10],
                      torch.as_tensor(_pca(2).components, dtype=torch.float32),
                      torch.as_tensor(_pca(2).pca.mean_, dtype=torch.float32))],
     rtol=1e-3, atol=1e-4,
     hints=("Section 5: PCA codes are coordinates along the principal directions, measured from "
            "the training mean.",
            "Subtract `mean` from every row of x, then multiply by `components`: "
            "(batch, 784) @ (784, k) gives (batch, k)."))

# --- 02 · the denoising autoencoder --------------------------------------------------------


def _masking(x, level, seed):
    from .corruption import masking_noise
    return masking_noise(x, level, _seeded(seed))


def _kept_pixel():
    out = _made_with_seed(0, lambda: torch.nn.Dropout(0.2).train()(torch.full((1000,), 0.6)))
    return out[out > 0][0].item()


def _blank_pixel_changes():
    from .corruption import salt_and_pepper
    blank = torch.zeros(100_000)
    return (salt_and_pepper(blank, 0.4, _seeded(0)) != blank).float().mean().item()


_add("02.1", "my_masking", "function", reference=_masking,
     inputs=lambda: [(_images(5, 0), 0.3, 0), (_images(5, 1), 0.7, 3), (_images(2, 2), 0.0, 1)],
     hints=("Section 2 defines masking: each pixel is kept with probability 1 - level, else set "
            "to 0. Draw the uniform numbers exactly as the exercise says, so that your draws match "
            "the helper's.",
            "Make a mask torch.rand(x.shape, generator=...) >= level (True = keep), with a new "
            "generator seeded with `seed`, and multiply x by it."),
     mistakes={1 / (1 - 0.3): "did you divide by 1 - level, as dropout does? Masking noise keeps "
                              "the surviving pixels as they are"})

_add("02.2", "value of a kept pixel", "value", expected=_kept_pixel, rtol=1e-5,
     hints=("Section 5: dropout keeps each input with probability 1 - p and rescales the ones it "
            "keeps.",
            "The kept inputs are multiplied by 1/(1 - p), so that the expected value of each input "
            "stays what it was."),
     mistakes={0.8: "that is the pixel as it was: dropout rescales the pixels it keeps",
               0.64: "did you multiply by 1 - p? Dropout divides by it"})

_add("02.3", "probability that a blank pixel changes", "value", expected=_blank_pixel_changes,
     rtol=0, atol=0.01,
     hints=("Section 2: salt-and-pepper hits a pixel with probability `level`; then a fair coin "
            "picks salt (1) or pepper (0).",
            "Both must happen: the pixel is hit AND the coin says salt. Multiply the two "
            "probabilities."),
     mistakes={2: "pepper sets a pixel to 0: on a blank pixel it changes nothing"})

# --- 03 · the sparse autoencoder -----------------------------------------------------------

ACTIVATIONS_03 = torch.tensor([[0.9, 0.1], [0.0, 0.1], [0.0, 0.1]])   # exercise 2's table A
DICE_03 = (np.full(6, 1 / 6), np.array([0.5, 0.1, 0.1, 0.1, 0.1, 0.1]))   # exercise 3's p and q
_NATS = "did you use log base 2? The course measures KL in nats, with the natural log"


def _bernoulli_kl(rho, rho_hat):
    from .divergences import bernoulli_kl
    return bernoulli_kl(rho, rho_hat)


def _dice():
    from .divergences import bhattacharyya_discrete, kl_discrete
    p, q = DICE_03
    return [kl_discrete(p, q), kl_discrete(q, p), bhattacharyya_discrete(p, q)]


def _sparsity(what: str):
    from . import sparsity
    if what == "ratios":
        return sparsity.active_ratio(ACTIVATIONS_03)
    return sparsity.kl_sparsity_penalty(ACTIVATIONS_03, 0.1)


_add("03.1", "my_bernoulli_kl", "function", reference=_bernoulli_kl,
     inputs=lambda: [(0.05, torch.tensor([0.01, 0.05, 0.3, 0.9])),
                     (0.2, torch.linspace(0.05, 0.95, 7))],
     hints=("Section 3: a unit's penalty is the KL divergence between two coins, one with "
            "probability ρ and one with probability ρ̂; both outcomes (on and off) contribute a term.",
            "Write ρ log(ρ/ρ̂) + (1 - ρ) log((1 - ρ)/(1 - ρ̂)) with torch.log, elementwise; mind the "
            "order: KL(ρ‖ρ̂), not KL(ρ̂‖ρ)."),
     mistakes={1 / math.log(2): _NATS})

_add("03.2a", "active ratios", "value", expected=lambda: _sparsity("ratios"),
     hints=("Section 3: a unit's active ratio is its mean activation over the images of the batch.",
            "Rows are images and columns are units: average each column (dim=0), which gives two "
            "numbers."),
     mistakes={3: "did you sum over the images where a mean was asked?"})

_add("03.2b", "penalty", "value", expected=lambda: _sparsity("penalty"), rtol=1e-3,
     hints=("Section 3: the penalty adds KL(ρ‖ρ̂_j) over the units j, with the active ratios above.",
            "Put ρ = 0.1 and each of the two active ratios into the Bernoulli KL of exercise 1 and "
            "add the two results; a unit whose ratio equals ρ adds 0."))

_add("03.3", "KL(p||q), KL(q||p), D_B", "value", expected=_dice,
     hints=("Section 2: KL(p‖q) = Σ p log(p/q) and D_B = -log Σ √(pq); the order of p and q "
            "matters for KL, not for D_B.",
            "The first number averages log(p/q) over the fair die p, the second log(q/p) over the "
            "loaded die q. Use np.log (natural log) and np.sum."),
     mistakes={1 / math.log(2): _NATS})

# --- 04 · the contractive autoencoder ------------------------------------------------------


def _jacobian_of_q():
    from torch.func import jacrev
    return jacrev(lambda z: torch.stack([z[0] * z[1], z[0] + 3 * z[1]]))(torch.tensor([2.0, 1.0]))


def _sigmoid_norm(h, W):
    from .contractive import sigmoid_jacobian_norm_sq
    return sigmoid_jacobian_norm_sq(h, W)


def _sigmoid_layer_inputs():
    layer = _made_with_seed(4, lambda: torch.nn.Linear(784, 32))
    with torch.no_grad():
        h = torch.sigmoid(layer(_images(4, 5)))
    return [(torch.sigmoid(torch.randn(5, 16, generator=_seeded(1))),
             torch.randn(16, 30, generator=_seeded(2))),
            (h, layer.weight.detach())]


def _tanh_layer():
    return _made_with_seed(3, lambda: torch.nn.Sequential(torch.nn.Linear(784, 32), torch.nn.Tanh()))


def _tanh_norm_autograd(layer, x):
    from .contractive import jacobian_norm_sq_autograd
    return jacobian_norm_sq_autograd(layer, x)


_add("04.1", "Jacobian of q at (2, 1)", "value", expected=_jacobian_of_q,
     hints=("Section 2: row j of the Jacobian holds the partial derivatives of output j with "
            "respect to z1 and z2, taken at the point.",
            "The derivative of z1 z2 with respect to z1 is z2, and with respect to z2 it is z1; the "
            "second output is linear. Put in z = (2, 1) last."))

_add("04.2", "jacobian_norm_sq", "function", reference=_sigmoid_norm, inputs=_sigmoid_layer_inputs,
     hints=("Section 3 derives the closed form: unit j contributes (h_j(1 - h_j))² times the "
            "squared length of its weight row W_j.",
            "(h * (1 - h)) ** 2 has shape (B, H) and (W ** 2).sum(dim=1) shape (H,): a "
            "matrix-vector product of the two gives (B,)."))

# The answer takes (h, W); the check compares it with autograd on the layer, as section 3 does.
_add("04.3", "tanh_jacobian_norm_sq", "function", reference=_tanh_norm_autograd,
     inputs=lambda: [(_tanh_layer(), _images(6, 6))],
     adapt=lambda answer: lambda layer, x: answer(layer(x), layer[0].weight),
     hints=("The derivation of section 3 again, with tanh' = 1 - h² in place of σ' = h(1 - h).",
            "In exercise 2's answer, replace (h * (1 - h)) ** 2 by (1 - h ** 2) ** 2; the weight "
            "part stays as it was."))

# --- 05 · the stacked autoencoder ----------------------------------------------------------

SIZES_05 = [784, 256, 128, 64, 32]       # the stack of notebook 05 (recipes.STACKED_AE.sizes)


def _stack(seed: int = 0):
    from .stacked import StackedAutoencoder
    return _made_with_seed(seed, lambda: StackedAutoencoder(SIZES_05))


def _trainable_at_stage_3():
    stack = _stack()
    stack.set_trainable(3)
    return sum(p.numel() for p in stack.parameters() if p.requires_grad)


def _freeze_problem(freeze) -> str | None:
    """Freeze layer 1 of a fresh stack with the learner's `freeze`, take one Adam step on all
    parameters, and look at which tensors moved."""
    stack, x = _stack(), _images(16, 7)
    freeze(stack.layers[0])
    if all(p.requires_grad for p in stack.parameters()):
        return "nothing was frozen: every parameter still has requires_grad=True"
    before = [p.detach().clone() for p in stack.parameters()]
    optimiser = torch.optim.Adam([p for p in stack.parameters() if p.requires_grad], lr=0.1)
    ((stack.reconstruct(x, 2) - x) ** 2).mean().backward()
    optimiser.step()
    moved = [not torch.equal(b, p) for b, p in zip(before, stack.parameters())]
    if any(moved[:2]):
        return "layer 1 moved"
    return None if any(moved[2:]) else "layer 1 stayed, but so did every other layer"


_add("05.1", "trainable numbers at stage 3", "value", expected=_trainable_at_stage_3,
     rtol=0, atol=0,
     hints=("Section 2's diagram of stage 3: only layer 3 (128 → 64) and decoder 3 (64 → 128) "
            "are red.",
            "A linear layer from a to b units holds a·b weights and b biases; count both layers, "
            "biases included."),
     mistakes={0.5: "did you count only one of the two trainable layers?"})

_add("05.2", "level_features", "function", reference=lambda stack, x, k: stack.encode(x, k),
     inputs=lambda: [(_stack(1), _images(5, 8), 1), (_stack(1), _images(5, 8), 3)], rtol=1e-5,
     hints=("Section 1: h_k = σ(W_k h_(k-1) + b_k), starting from h_0 = x; stack.layers[i] "
            "computes W h + b of layer i + 1.",
            "Loop over stack.layers[:k], applying each layer and then torch.sigmoid, and return "
            "what comes out of layer k."))

_add("05.3", "freeze", "judge", judge=_freeze_problem,
     detail="layer 1 stayed put while the other layers learned",
     hints=("Section 1 freezes layer 1 with requires_grad_(False): a frozen parameter gets no "
            "gradient, so Adam leaves it alone.",
            "Loop over module.parameters() and call p.requires_grad_(False) on each; freeze only "
            "the module you are given."))

# --- 06 · the VAE, the neural-network view -------------------------------------------------


def _kl_standard_normal(mu, logvar):
    from .divergences import kl_to_standard_normal
    return kl_to_standard_normal(mu, logvar)


def _moment_match(means, stds, weights):
    from .gaussians import moment_match
    return moment_match(means, stds, weights)


_add("06.1", "kl_per_image", "function", reference=_kl_standard_normal,
     inputs=lambda: [(torch.randn(4, 2, generator=_seeded(3)), torch.randn(4, 2, generator=_seeded(4))),
                     (torch.zeros(3, 20), torch.zeros(3, 20))],
     hints=("Section 3 gives KL = ½ Σ_j (-log σ_j² + μ_j² + σ_j² - 1), where σ² = exp(logvar).",
            "Compute the bracket elementwise from mu and logvar (logvar.exp() is σ²), multiply by "
            "0.5, and sum over dim=1 only."),
     mistakes={2: "did you leave out the ½?",
               0.5: "did you average over the 2 latent dimensions where a sum was asked?"})

# z = μ + σ ε as an affine map of ε (torch.distributions), with σ from the log-variance
_add("06.2", "reparameterize", "function",
     reference=lambda mu, logvar, eps: torch.distributions.transforms.AffineTransform(
         mu, logvar.mul(0.5).exp())(eps),
     inputs=lambda: [(torch.tensor([0.0, 1.0]), torch.tensor([0.0, 2.0]), torch.tensor([1.0, -1.0])),
                     tuple(torch.randn(5, 3, generator=_seeded(s)) for s in (5, 6, 7))],
     hints=("Section 5: z = μ + σ ε, and logvar is log σ², not σ.",
            "σ = exp(logvar / 2), that is torch.exp(0.5 * logvar); multiply it by eps and add mu."))

_add("06.3", "moment_matched", "function", reference=_moment_match,
     inputs=lambda: [(np.array([-3.0, 3.0]), np.array([1.0, 1.0]), np.array([0.5, 0.5])),
                     (np.array([-1.0, 2.0, 5.0]), np.array([0.5, 1.0, 2.0]), np.array([0.2, 0.3, 0.5]))],
     hints=("Section 4: the Gaussian that minimises KL(p‖q) has the mixture's mean and variance "
            "(moment matching).",
            "mean = Σ w_i m_i; variance = Σ w_i (σ_i² + m_i²) - mean²; return the square root of "
            "the variance as the std."))

# --- 07 · the VAE, the probability-model view ----------------------------------------------


def _kl_normals(mu0, sigma0, mu1, sigma1):
    normal = torch.distributions.Normal
    return torch.distributions.kl_divergence(normal(mu0, sigma0), normal(mu1, sigma1)).item()


def _linear_gaussian(seed: int):
    """Section 5's kind of model (a new one per seed) and one observation of it."""
    from .gaussians import LinearGaussianModel
    model = LinearGaussianModel.random(d=5, k=2, s2=0.5, seed=seed)
    return model, model.sample(1, seed=seed + 1)[0]


_add("07.1", "log_mean_exp", "function",
     reference=lambda a: torch.logsumexp(a, dim=0) - math.log(len(a)),
     inputs=lambda: [(torch.tensor([0.0, 1.0, 2.0]),), (torch.tensor([-500.0, -501.0, -499.0, -700.0]),)],
     hints=("Section 3 averages in log space: log((1/n) Σ e^(a_i)) = logsumexp(a) - log n.",
            "Take out the largest value m: log mean e^a = m + log mean e^(a - m), and no exponential "
            "underflows (torch.logsumexp does this for you)."))

_add("07.2", "kl_normal_1d", "function", reference=_kl_normals,
     inputs=lambda: [(1.5, 0.5, 0.0, 1.0), (0.0, 2.0, 1.0, 0.3), (-1.0, 1.0, -1.0, 1.0)],
     hints=("Section 7 gives the case N(μ, σ²) against N(0, 1); the general 1-D formula is the "
            "closed form of notebook 03, section 2 (its KL widget).",
            "log(σ1/σ0) + (σ0² + (μ0 - μ1)²) / (2 σ1²) - ½, with the standard deviations as given, "
            "not variances."))

# At the exact posterior every log-weight equals log P(X): the reference is log P(X), five times.
_add("07.3", "log-weights at the exact posterior", "function",
     reference=lambda model, x: model.log_px(x[None]).expand(5),
     inputs=lambda: [_linear_gaussian(0), _linear_gaussian(10)], rtol=1e-8, atol=1e-6,
     hints=("Section 5's model: log P(X|z) is a Gaussian log-density with mean W z + b and "
            "variance s² per coordinate, log P(z) a standard normal one, and Q the exact posterior "
            "N(mean, cov) = model.posterior(x).",
            "Draw z = q.sample((5,)) from q = MultivariateNormal(mean, cov); add log_normal(x, "
            "z @ model.W.T + model.b, log s² per coordinate) and log_normal(z, 0, 0), then "
            "subtract q.log_prob(z)."))

# --- 08 · summary --------------------------------------------------------------------------

_SHARE = {100: "a share between 0 and 1 is asked, not a percentage"}


def _codes(k: int):
    data = _data()
    return _pca(k).encode(data.x_train), data.y_train, _pca(k).encode(data.x_test), data.y_test


def _one_nn(z_train, y_train, z_test, y_test):
    from .evaluate import knn_accuracy
    return knn_accuracy(z_train, y_train, z_test, y_test, k=1)


def _share_dae_repairs_better():
    """Exercise 2 of 08: on the 30%-masked held-out digits, the share the DAE rebuilds closer
    than the plain 800-unit autoencoder (the models of the series, from the cache)."""
    from . import recipes
    from .cache import train_or_load
    from .models import decode_all, encode_all
    data = _data()
    masked = data.x_test * (torch.rand(data.x_test.shape, generator=_seeded(2)) >= 0.3)

    def per_digit(recipe):
        model, _ = train_or_load(recipe, data, verbose=False)
        return ((decode_all(model, encode_all(model, masked)) - data.x_test) ** 2).mean(dim=1)
    return (per_digit(recipes.DAE_800) < per_digit(recipes.AE_800)).float().mean().item()


def _pca20_knn():
    from .evaluate import knn_accuracy
    return knn_accuracy(*_codes(20))


_add("08.1", "one_nn_accuracy", "function", reference=_one_nn,
     inputs=lambda: [_codes(2), _codes(20)], atol=1e-3,       # near-ties may be broken either way
     hints=("Section 2 writes the 5-neighbour vote from scratch; with one neighbour there is no "
            "vote: take the label of the nearest training code.",
            "torch.cdist(z_test, z_train) holds every distance (a row per test code); argmin over "
            "dim=1 gives each one's nearest training code. Compare y_train there with y_test and "
            "average."),
     mistakes=_SHARE)

_add("08.2", "share of digits the DAE repairs better", "value", expected=_share_dae_repairs_better,
     hints=("Section 2's reconstruction error, digit by digit: average the squared error over the "
            "pixels only (dim=1), for each of the two models.",
            "Compare the two models' per-digit errors elementwise (DAE < AE) and take the mean of "
            "that boolean tensor, as a float."),
     mistakes=_SHARE)

_add("08.3", "5-NN accuracy of PCA-20 codes", "value", expected=_pca20_knn,
     hints=("Section 1: a SeriesModel takes a name, a notebook, an idea, a code size and the encode "
            "and decode functions; evaluate.PCACodec(x_train, 20) has both.",
            "Build the codec with 20 components, wrap its .encode and .decode in "
            "series.SeriesModel(...), and pass that model and `data` to series.knn_code_accuracy."),
     mistakes=_SHARE)

# --- 09 · beyond the lecture ---------------------------------------------------------------


def _spherical(z0, z1, t):
    from .latent import interpolate
    return interpolate(z0, z1, t, "spherical")[0]


def _posterior_average(z, mu, logvar, images):
    from .latent import posterior_average
    return posterior_average(z, mu, logvar, images)


_add("09.1", "spherical", "function", reference=_spherical,
     inputs=lambda: [(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0]), 0.5),
                     (torch.randn(20, generator=_seeded(5)), torch.randn(20, generator=_seeded(15)), 0.25)],
     atol=1e-5,
     hints=("Section 3: z(t) = [sin((1 - t) ω) z0 + sin(t ω) z1] / sin(ω), with ω the angle "
            "between z0 and z1.",
            "ω = arccos(z0 · z1 / (|z0| |z1|)): torch.dot for the product, .norm() for the "
            "lengths, torch.arccos; t is a plain number, so torch.sin(t * ω) works as it is."))

_add("09.2", "best_drawing", "function", reference=_posterior_average,
     inputs=lambda: [(torch.zeros(2), torch.tensor([[0.0, 0.0], [3.0, 0.0]]), torch.zeros(2, 2),
                      torch.eye(2, 784)),
                     (torch.randn(2, generator=_seeded(6)), torch.randn(50, 2, generator=_seeded(16)),
                      torch.randn(50, 2, generator=_seeded(26)) - 1, _images(50, 36))],
     atol=1e-5,
     hints=("Section 1: log q(z|x_i) = -½ Σ_j [log σ_ij² + (z_j - μ_ij)² / σ_ij²] + a constant "
            "that is the same for every digit, so it cancels when the weights are normalised.",
            "Compute log q for all digits at once (sum over dim=1), turn them into weights that "
            "sum to 1 with torch.softmax(..., dim=0), then weights @ images."),
     mistakes={2: "did you make the weights sum to 1 over the digits?"})


def _squared_error_at_rate_0():
    """Exercise 3 of 09: the held-out squared error (summed over pixels, mean over digits) of
    the one drawing a decoder that ignores its code does best with, the mean training image."""
    data = _data()
    return ((data.x_test - data.x_train.mean(dim=0)) ** 2).sum(dim=1).mean().item()


_add("09.3", "squared error at rate 0", "value", expected=_squared_error_at_rate_0,
     hints=("Section 4: at rate 0 the decoder draws the average of the training images for every "
            "digit; compare it with each held-out digit.",
            "x_train.mean(dim=0) is the average image; subtract it from x_test, square, sum over "
            "the 784 pixels (dim=1), then average over the held-out digits."),
     mistakes={1 / 784: "did you average over the pixels where a sum was asked?"})
