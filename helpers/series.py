"""Every model of the series in one place, for the summary (08), and the measures that compare them.

`series_models(data)` loads each model with exactly the call its notebook makes, so after
notebooks 01-07 ran it trains nothing: every model comes from the cache (missing ones are
trained and cached). Each model is wrapped as a `SeriesModel` with the same four abilities,
so one loop measures them all:

    encode(x) -> z        the code (for a VAE: the mean mu of q(z|x))
    reconstruct(x) -> x̂   the image rebuilt from the code
    decode(z) -> x̂        images from codes we choose ourselves
    prior                 the code distribution the model was trained to decode from, or None

The measures, each one number per model on held-out digits:
    reconstruction_error     MSE per pixel between x̂ and x
    masked_error             the same, from digits with a share of pixels set to 0
    knn_code_accuracy        5-nearest-neighbour accuracy on the codes (training codes vote)
    near_zero_share          share of code values near zero (sparsity, scale-free)
    relative_sensitivity     code movement per unit of random noise, over code movement per unit
                             of real difference between digits (contraction, scale-free)
    sample_quality           a fixed classifier's confidence on decoded random codes
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Callable

import torch

from . import classifier, contractive, corruption, evaluate, sparsity, stacked, train, vae
from .cache import trained_autoencoder
from .losses import mse_per_pixel
from .models import encode_all, reconstruct_all

LAMBDAS_04 = [0.03, 0.1, 0.3, 1.0]          # notebook 04's control over λ


@dataclass
class SeriesModel:
    name: str                      # short label for tables and figures
    notebook: str                  # "01" ... "07": where it is built and explained
    idea: str                      # what it adds to the plain autoencoder, in a few words
    code_size: int
    encode: Callable               # x (N, 784) -> z (N, code_size)
    decode: Callable               # z -> x̂ (N, 784)
    prior: str | None = None       # "N(0, I)" when training made the codes follow it

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def series_models(data, verbose: bool = True) -> list[SeriesModel]:
    """The models of notebooks 01-07, loaded (or trained) with the notebooks' own calls.
    Prints one line: how many came from the cache and which had to be trained."""
    messages = io.StringIO()
    with contextlib.redirect_stdout(messages):           # one summary line, not twenty
        found = _load_series(data)
    lines = messages.getvalue().splitlines()
    loaded = sum(line.startswith("Cache: loaded") for line in lines)
    trained = [line.split("Cache: no saved ")[-1].split(" yet")[0] for line in lines
               if line.startswith("Cache: no saved")]
    others = [line for line in lines if not line.startswith(("Cache: loaded", "Cache: no saved"))]
    if verbose:
        print(f"Cache: loaded {loaded} trained networks of the series, trained {len(trained)}"
              + (f" ({', '.join(trained)})" if trained else ""))
        for line in others:                                # anything unexpected is shown as is
            print(line)
    return found


def _load_series(data) -> list[SeriesModel]:
    n = len(data.x_train)
    x_train = data.x_train
    found = []

    pca2, pca32 = evaluate.PCACodec(x_train, 2), evaluate.PCACodec(x_train, 32)
    found.append(SeriesModel("PCA, 2-D", "01", "linear baseline", 2, pca2.encode, pca2.decode))
    ae2, _ = trained_autoencoder("ae-784-1000-500-250-2", data, [784, 1000, 500, 250, 2],
                                 epochs=train.epochs_for(n, 25))
    found.append(_wrap("AE, 2-D (deep)", "01", "non-linear encoder and decoder", ae2))
    found.append(SeriesModel("PCA, 32-D", "01", "linear baseline", 32, pca32.encode, pca32.decode))
    ae32, _ = trained_autoencoder("ae-784-256-32", data, [784, 256, 32],
                                  epochs=train.epochs_for(n, 20), lr=2e-3)
    found.append(_wrap("AE, 32-D", "01", "non-linear encoder and decoder", ae32))

    epochs15 = train.epochs_for(n, 15)
    ae800, _ = trained_autoencoder("ae-784-800-sigmoid", data, [784, 800], code_activation="sigmoid",
                                   out_activation="sigmoid", epochs=epochs15, lr=3e-3)
    found.append(_wrap("AE, 800 sigmoid", "02", "overcomplete, nothing else", ae800))
    dae, _ = corruption.trained_denoising_autoencoder("dae-784-800-masking-0.3", data, 800, "masking",
                                                      0.3, epochs=epochs15, lr=3e-3)
    found.append(_wrap("DAE, 800", "02", "rebuild clean x from 30%-masked x", dae))
    sae_kl, _ = sparsity.trained_sparse_autoencoder("sae-kl-784-800-rho0.05", data, 800, "kl", 0.003,
                                                    0.05, epochs=epochs15, lr=3e-3)
    found.append(_wrap("sparse AE, KL", "03", "KL penalty: mean activation ρ = 0.05", sae_kl))
    sae_l1, _ = sparsity.trained_sparse_autoencoder("sae-l1-784-800", data, 800, "l1", 1e-4,
                                                    epochs=epochs15, lr=3e-3)
    found.append(_wrap("sparse AE, L1", "03", "L1 penalty on ReLU activations", sae_l1))

    ae256, cae, lam = contractive_pair(data)
    found.append(_wrap("AE, 256 sigmoid", "04", "same shape as the CAE, λ = 0", ae256))
    found.append(_wrap(f"CAE, λ={lam:g}", "04", "penalty λ‖J_f(x)‖²_F", cae))

    sizes = [784, 256, 128, 64, 32]
    stack, _ = stacked.greedy_stage("sae-784-256-128-64-32", data, sizes, len(sizes) - 1,
                                    epochs=train.epochs_for(n, 8))
    found.append(SeriesModel("stacked AE, 32-D", "05", "trained one layer at a time", 32,
                             _no_grad(stack, stack.encode), _no_grad(stack, _stack_decoder(stack))))

    vae2, _ = vae.trained_vae("vae-784-256-2", data, [784, 256, 2], epochs=train.epochs_for(n, 25))
    found.append(_wrap_vae("VAE, 2-D", "06", "codes are distributions, KL to N(0, I)", vae2))
    vae20, _ = vae.trained_vae("vae-784-400-20", data, [784, 400, 20], epochs=train.epochs_for(n, 30))
    found.append(_wrap_vae("VAE, 20-D", "07", "codes are distributions, KL to N(0, I)", vae20))
    return found


def contractive_pair(data):
    """Notebook 04's plain AE (λ = 0) and the CAE it compares with the DAE: the largest λ
    whose held-out error is no worse than the DAE's. Returns (ae, cae, λ)."""
    epochs = train.epochs_for(len(data.x_train), 12)
    ae, _ = contractive.trained_cae("cae-784-256-lam0", data, lam=0.0, epochs=epochs)
    dae, _ = contractive.trained_cae("dae-784-256-mask0.25", data, mask=0.25, epochs=epochs)
    caes = {lam: contractive.trained_cae(f"cae-784-256-lam{lam:g}", data, lam=lam, epochs=epochs)[0] for lam in LAMBDAS_04}
    def test_error(model):
        return mse_per_pixel(reconstruct_all(model, data.x_test), data.x_test).item()
    dae_error = test_error(dae)
    comparable = [lam for lam, m in caes.items() if test_error(m) <= dae_error]
    if not comparable:
        raise RuntimeError("no CAE of notebook 04 reconstructs as well as its DAE: "
                           "run notebook 04 and see its section 5")
    lam = max(comparable)
    return ae, caes[lam], lam


# --- the measures -------------------------------------------------------------------------

def reconstruction_error(model: SeriesModel, x: torch.Tensor) -> float:
    """Mean squared error per pixel (mean over pixels and images) between x̂ and x."""
    return mse_per_pixel(model.reconstruct(x), x).item()


def masked_error(model: SeriesModel, x: torch.Tensor, level: float = 0.3, seed: int = 1) -> float:
    """MSE per pixel between the clean x and the reconstruction of x with `level` of its pixels
    set to 0: how well the model repairs damage it may never have seen."""
    damaged = corruption.masking_noise(x, level, torch.Generator().manual_seed(seed))
    return mse_per_pixel(model.reconstruct(damaged), x).item()


def knn_code_accuracy(model: SeriesModel, data, k: int = 5) -> float:
    """Share of held-out digits whose k nearest training codes vote for the right label."""
    return evaluate.knn_accuracy(model.encode(data.x_train), data.y_train,
                                 model.encode(data.x_test), data.y_test, k)


def near_zero_share(model: SeriesModel, x: torch.Tensor) -> float:
    """Share of code values near zero (below 5% of the code's typical large value)."""
    return sparsity.near_zero_share(model.encode(x))


@torch.no_grad()
def relative_sensitivity(model: SeriesModel, x: torch.Tensor, sigma: float = 0.05,
                         seed: int = 0) -> float:
    """How far the code moves per unit of random noise, divided by how far it moves per unit of
    real difference between two digits. Below 1: the code follows the data more than the noise.
    Dividing by the second makes it free of the code's scale and size, so PCA, an 800-unit
    sigmoid layer and a VAE can be compared."""
    noise = contractive.code_sensitivity(model.encode, x, sigma, seed=seed).mean()
    other = x.roll(1, dims=0)                                   # each digit against another one
    z, z_other = model.encode(x), model.encode(other)
    along_data = ((z - z_other).norm(dim=1) / (x - other).norm(dim=1)).mean()
    if not along_data > 0:
        raise ValueError(f"{model.name}: the code is the same for every digit, so its "
                         "sensitivity to noise cannot be compared with anything")
    return (noise / along_data).item()


def random_codes(model: SeriesModel, codes_train: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """n codes to decode: from the prior when the model has one, else from a Gaussian fitted to
    the training codes (mean and full covariance): the fairest guess a plain AE allows."""
    g = torch.Generator().manual_seed(seed)
    if model.prior is not None:
        return torch.randn(n, model.code_size, generator=g)
    mean = codes_train.mean(0)
    cov = torch.cov(codes_train.T).reshape(model.code_size, model.code_size)
    cov = cov + 1e-5 * torch.eye(model.code_size)              # a sigmoid unit that never moves
    scale = torch.linalg.cholesky(cov)
    return mean + torch.randn(n, model.code_size, generator=g) @ scale.T


def sample_quality(model: SeriesModel, judge, codes_train: torch.Tensor, n: int = 1000,
                   seed: int = 0) -> dict:
    """Decode n random codes and ask the fixed classifier: mean confidence (top softmax
    probability), and how many of the 10 classes get at least 5% of the samples (variety)."""
    samples = model.decode(random_codes(model, codes_train, n, seed)).clamp(0, 1)
    probabilities = classifier.class_probabilities(judge, samples)
    counts = torch.bincount(probabilities.argmax(1), minlength=probabilities.shape[1])
    return dict(confidence=probabilities.max(1).values.mean().item(),
                classes=int((counts >= 0.05 * n).sum()), samples=samples)


def measure(model: SeriesModel, data, judge) -> dict:
    """All measures of one model on data's held-out digits (each set of codes computed once)."""
    codes_train, codes_test = model.encode(data.x_train), model.encode(data.x_test)
    samples = sample_quality(model, judge, codes_train)
    return dict(mse=reconstruction_error(model, data.x_test),
                masked_mse=masked_error(model, data.x_test),
                knn=evaluate.knn_accuracy(codes_train, data.y_train, codes_test, data.y_test),
                near_zero=sparsity.near_zero_share(codes_test),
                sensitivity=relative_sensitivity(model, data.x_test),
                sample_confidence=samples["confidence"], sample_classes=samples["classes"],
                samples=samples["samples"])


# --- wrapping the notebooks' models -------------------------------------------------------

def _wrap(name, notebook, idea, model) -> SeriesModel:
    return SeriesModel(name, notebook, idea, model.code_size,
                       lambda x: encode_all(model, x), _no_grad(model, model.decode))


def _wrap_vae(name, notebook, idea, model) -> SeriesModel:
    return SeriesModel(name, notebook, idea, model.code_size,
                       lambda x: vae.encode_gaussian(model, x)[0], _no_grad(model, model.decode),
                       prior="N(0, I)")


def _stack_decoder(stack):
    def decode(z):
        for k in range(stack.n_stages, 0, -1):
            z = stack.decode_level(z, k)
        return z
    return decode


def _no_grad(model, fn):
    """fn run in evaluation mode, without gradients, on the model's device; result on the CPU."""
    device = next(model.parameters()).device

    @torch.no_grad()
    def run(x):
        model.eval()
        return fn(x.to(device)).cpu()
    return run
