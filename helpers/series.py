"""Every model of the series in one place, for the summary (08), and the measures that compare them.

`series_models(data)` loads each model through its recipe (helpers.recipes), the same call its
notebook makes, so after notebooks 01-07 ran it trains nothing: every model comes from the cache
(missing ones are trained and cached). Each model is wrapped as a `SeriesModel` with the same
four abilities, so one loop measures them all:

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

from dataclasses import dataclass
from typing import Callable

import torch

from . import cache, classifier, contractive, corruption, evaluate, recipes, sparsity
from .losses import mse_per_pixel
from .models import apply_in_batches, decode_all, encode_all, reconstruct_all


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
    """The models of notebooks 01-07, loaded (or trained) through their recipes. Prints one
    line: how many came from the cache and which had to be trained."""
    with cache.recording() as events:
        found = _load_series(data)
    loaded = sum(e.action == "loaded" for e in events)
    trained = [e.name for e in events if e.action != "loaded"]
    if verbose:
        print(f"Cache: loaded {loaded} trained networks of the series, trained {len(trained)}"
              + (f" ({', '.join(trained)})" if trained else ""))
        for event in events:                     # anything unexpected is shown as the cache says it
            if event.action == "retrained":
                print(event.message())
            if not event.saved:
                print(f"Cache: {event.name} could not be saved to {cache.cache_dir()}; it is kept in memory only.")
    return found


def _load_series(data) -> list[SeriesModel]:
    deep, ae32, ae800, dae, sparse_kl = (recipes.DEEP_AE_2D, recipes.AE_32, recipes.AE_800,
                                         recipes.DAE_800, recipes.SPARSE_AE_KL)
    pca2 = evaluate.PCACodec(data.x_train, deep.code_size)      # PCA at the AEs' code sizes
    pca32 = evaluate.PCACodec(data.x_train, ae32.code_size)
    found = [SeriesModel(f"PCA, {pca2.k}-D", "01", "linear baseline", pca2.k, pca2.encode, pca2.decode),
             _wrap(f"AE, {deep.code_size}-D (deep)", deep, "non-linear encoder and decoder", data),
             SeriesModel(f"PCA, {pca32.k}-D", "01", "linear baseline", pca32.k, pca32.encode, pca32.decode),
             _wrap(f"AE, {ae32.code_size}-D", ae32, "non-linear encoder and decoder", data),
             _wrap(f"AE, {ae800.code_size} sigmoid", ae800, "overcomplete, nothing else", data),
             _wrap(f"DAE, {dae.hidden}", dae, f"rebuild clean x from {dae.level:.0%}-masked x", data),
             _wrap("sparse AE, KL", sparse_kl, f"KL penalty: mean activation ρ = {sparse_kl.rho:g}", data),
             _wrap("sparse AE, L1", recipes.SPARSE_L1, "L1 penalty on ReLU activations", data)]
    ae256, cae, lam = contractive_pair(data)
    found += [_wrap(f"AE, {recipes.AE_256.hidden} sigmoid", recipes.AE_256, "same shape as the CAE, λ = 0",
                    data, ae256),
              _wrap(f"CAE, λ={lam:g}", recipes.CAES[lam], "penalty λ‖J_f(x)‖²_F", data, cae)]
    stacked = recipes.STACKED_AE
    stack = _load(stacked, data)
    found.append(SeriesModel(f"stacked AE, {stacked.code_size}-D", stacked.notebook,
                             "trained one layer at a time", stacked.code_size,
                             lambda x: encode_all(stack, x),
                             lambda z: apply_in_batches(_stack_decoder(stack), stack, z)))
    found += [_wrap_vae(f"VAE, {r.code_size}-D", r, "codes are distributions, KL to N(0, I)", data)
              for r in (recipes.VAE_2D, recipes.VAE_20D)]
    return found


def contractive_pair(data):
    """Notebook 04's plain AE (λ = 0) and the CAE it compares with the DAE: the largest λ
    whose held-out error is no worse than the DAE's. Returns (ae, cae, λ)."""
    ae, dae = _load(recipes.AE_256, data), _load(recipes.DAE_256, data)
    caes = {lam: _load(recipe, data) for lam, recipe in recipes.CAES.items()}

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

def _load(recipe, data):
    model, _ = cache.train_or_load(recipe, data, verbose=False)   # series_models reports for all
    return model


def _wrap(name, recipe, idea, data, model=None) -> SeriesModel:
    model = _load(recipe, data) if model is None else model
    return SeriesModel(name, recipe.notebook, idea, model.code_size,
                       lambda x: encode_all(model, x), lambda z: decode_all(model, z))


def _wrap_vae(name, recipe, idea, data) -> SeriesModel:
    model = _load(recipe, data)
    return SeriesModel(name, recipe.notebook, idea, model.code_size,
                       lambda x: encode_all(model, x)[0], lambda z: decode_all(model, z),
                       prior="N(0, I)")


def _stack_decoder(stack):
    def decode(z):
        for k in range(stack.n_stages, 0, -1):
            z = stack.decode_level(z, k)
        return z
    return decode
