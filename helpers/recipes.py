"""Every trained model of the course, defined once: its recipe.

A recipe holds the facts of one named model: its architecture, its loss, its training settings,
the notebook that teaches it and the later notebooks that use it again, and it knows how to
build the network (`build`), its loss (`loss_fn`) and how to train it (`train`, through
helpers.train.fit). helpers.cache.train_or_load is the one way every model of the course is
made: loaded if cached, else trained.

    recipe = recipes.DEEP_AE_2D
    print(recipe.describe(data))                         # architecture, loss, optimiser, epochs
    model, history = cache.train_or_load(recipe, data)   # loaded if cached, else trained

Every notebook, the summary (helpers.series) and `make models` get their models here, so
changing a model's epochs is one edit, and a notebook that reuses a model loads exactly the one
its teaching notebook trained. A model's cache key is made of its recipe's settings (every
field but its title and notebooks), the data's fingerprint and the source of the code that
builds and trains it (`code_refs`).

Epochs are given as passes over the 4,000-digit subset (`subset_epochs`); on a full data set
`train.epochs_for` turns them into fewer epochs that show the model as many images. Every
model is seeded (seed 0) and trained with Adam.

`python -m helpers.recipes` (what `make models` runs) trains, or finds in the cache, every
recipe of the series, and prints a table of what it did.
"""
from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from . import cache, train
from .classifier import accuracy, class_probabilities
from .contractive import contractive_loss, sigmoid_jacobian_norm_sq
from .corruption import (check_noise, corrupt, denoising_loss, gaussian_noise, masking_noise,
                         salt_and_pepper, uniform_like)
from .divergences import kl_to_standard_normal
from .errors import check_choice, check_int, check_number, check_sizes
from .fingerprint import code_fingerprint
from .losses import (bernoulli_nll_per_image, cross_entropy_loss, mse_per_pixel,
                     reconstruction_loss, squared_error_per_image)
from .models import (Autoencoder, apply_in_batches, make_activation, mlp,
                     set_output_bias_to_mean_pixel)
from .sparsity import (active_ratio, bernoulli_kl, check_rho, kl_sparse_loss, kl_sparsity_penalty,
                       l1_penalty, l1_sparse_loss)
from .stacked import (StackedAutoencoder, StackedClassifier, features, label_budget_accuracies,
                      label_budget_indices, linear_probe_accuracy, probe_accuracies, stage_loss,
                      train_classifier)
from .train import evaluate_loss, fit
from .vae import (VAE, ConditionalVAE, check_input_dropout, conditional_vae_loss, kl_weight,
                  negative_elbo, random_shift, training_loss, vae_loss)

SUBSET = train.SUBSET_TRAIN_SIZE
DESCRIPTIVE = ("title", "notebook", "used_in")     # fields that name a model, not define it


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """One named model (or cached result) of the course."""
    name: str                      # its name in the cache: <cache folder>/<name>-<hash>.pt
    title: str                     # what the notebooks call it
    notebook: str                  # the notebook that teaches it
    used_in: tuple = ()            # later notebooks that load it again
    subset_epochs: int = 0         # passes over the 4,000-digit subset
    lr: float = 1e-3
    batch_size: int = 128
    schedule: str | None = None    # None: a constant learning rate; "cosine": lowered to 0
    seed: int = 0

    def __post_init__(self):
        """ValueError naming the setting, when a setting is nonsense: before anything trains."""
        check_int("subset_epochs", self.subset_epochs, minimum=0)
        check_number("lr", self.lr, 0, strict=True)
        check_int("batch_size", self.batch_size, minimum=1)
        check_choice("schedule", self.schedule, (None, "cosine"))
        check_int("seed", self.seed, minimum=0)

    makes_result: ClassVar[bool] = False     # a small result (a table), not a network
    track_held_out: ClassVar[bool] = False   # record the held-out loss after each epoch
    input_size: ClassVar[int] = 784          # pixels of the images it takes
    code: ClassVar[tuple] = ()               # what its loss and network are made of

    # --- how it is made --------------------------------------------------------------------

    def build(self):
        """A fresh, untrained network."""
        raise NotImplementedError

    def loss_fn(self):
        """The loss `fit` minimises: loss_fn(model, x) -> a number (a 0-d tensor)."""
        raise NotImplementedError

    def train(self, model, data) -> dict:
        """Train `model` in place on data.x_train with Adam; returns the history of losses."""
        return fit(model, data.x_train, loss_fn=self.loss_fn(),
                   x_val=data.x_test if self.track_held_out else None,
                   epochs=self.epochs(data), batch_size=self.batch_size, lr=self.lr,
                   schedule=self.schedule, seed=self.seed, desc=self.name)

    def needs(self) -> list:
        """The recipes whose models it is made from (trained first when missing)."""
        return []

    @property
    def cache_name(self) -> str:
        return self.name

    def epochs(self, data=None) -> int:
        return train.epochs_for(len(data.x_train) if data is not None else SUBSET, self.subset_epochs)

    def check(self, data) -> None:
        """ValueError when the data's images do not fit the network."""
        if data.x_train.shape[1] != self.input_size:
            raise ValueError(f"{self.name} takes images of {self.input_size} pixels, the data "
                             f"has {data.x_train.shape[1]}")

    # --- its cache key ---------------------------------------------------------------------

    def key(self, data) -> dict:
        """Everything that defines the model: the settings, the data, the code."""
        settings = {f.name: _key_value(getattr(self, f.name), data)
                    for f in dataclasses.fields(self) if f.name not in DESCRIPTIVE}
        return dict(recipe=type(self).__name__, **settings, epochs=self.epochs(data),
                    data=data.fingerprint, n_train=len(data.x_train),
                    code=code_fingerprint(*self.code_refs()))

    def code_refs(self) -> tuple:
        """The functions and classes that build and train it: their source is in its key."""
        kind = type(self)
        if self.makes_result:
            return (kind.compute, *self.code)
        return (kind.build, kind.loss_fn, kind.train, fit, evaluate_loss, *self.code)

    # --- in words --------------------------------------------------------------------------

    def describe(self, data=None) -> str:
        """One paragraph for people: what is trained, on what loss, how."""
        n = len(data.x_train) if data is not None else SUBSET
        return (f"{self.title} ({self.name}): {self.architecture()}\n"
                f"  loss: {self.loss_in_words()}\n"
                f"  training: {self.training(n)}")

    def training(self, n: int) -> str:
        cosine = ", learning rate lowered along a cosine to 0" if self.schedule == "cosine" else ""
        return (f"Adam, learning rate {self.lr:g}, batch {self.batch_size}, "
                f"{train.epochs_for(n, self.subset_epochs)} epochs over {n:,} images{cosine}")

    def architecture(self) -> str:
        raise NotImplementedError

    def loss_in_words(self) -> str:
        raise NotImplementedError

    def used_by(self) -> list[str]:
        """The notebooks that use it, the teaching one first."""
        return [self.notebook, *self.used_in]

    def __str__(self) -> str:
        return self.describe()


def _key_value(value, data):
    """A setting as it goes into a cache key: another recipe (a stack a table is computed
    from) by its own key."""
    return value.key(data) if isinstance(value, Recipe) else value


def _sizes(sizes) -> str:
    return "-".join(str(s) for s in sizes)


def _unit(name: str | None) -> str:
    return {None: "linear", "relu": "ReLU", "softplus": "softplus"}.get(name, name)


def _autoencoder(sizes, activation: str | None, code: str | None, out: str | None) -> str:
    """'autoencoder 784-800-784 (sigmoid code, sigmoid output)', or for a deep one
    'autoencoder 784-1000-500-250-2 with a mirrored decoder (ReLU hidden layers, ...)'."""
    if len(sizes) == 2:
        return f"autoencoder {sizes[0]}-{sizes[1]}-{sizes[0]} ({_unit(code)} code, {_unit(out)} output)"
    hidden = f"{_unit(activation)} hidden layer{'s' if len(sizes) > 3 else ''}"
    return (f"autoencoder {_sizes(sizes)} with a mirrored decoder ({hidden}, {_unit(code)} code, "
            f"{_unit(out)} output)")


@dataclass(frozen=True, kw_only=True)
class LayeredRecipe(Recipe):
    """A network given by its layer sizes, input first: [784, hidden..., code]."""
    sizes: tuple

    min_layers: ClassVar[int] = 2            # how many sizes at least (input and output)

    def __post_init__(self):
        super().__post_init__()
        check_sizes("sizes", self.sizes, min_length=self.min_layers)

    @property
    def input_size(self) -> int:
        return self.sizes[0]

    @property
    def code_size(self) -> int:
        return self.sizes[-1]


@dataclass(frozen=True, kw_only=True)
class AutoencoderRecipe(LayeredRecipe):
    """helpers.models.Autoencoder trained on MSE per pixel."""
    activation: str | None = "relu"
    code_activation: str | None = None
    out_activation: str | None = "sigmoid"
    mean_pixel_bias: bool = False  # the decoder's output bias starts at logit(mean training pixel)

    track_held_out = True
    code = (Autoencoder, mlp, make_activation, reconstruction_loss, mse_per_pixel,
            set_output_bias_to_mean_pixel)

    def __post_init__(self):
        super().__post_init__()
        for name in ("activation", "code_activation", "out_activation"):
            make_activation(getattr(self, name))          # a typo fails here, not in training
        if self.mean_pixel_bias and self.out_activation != "sigmoid":
            raise ValueError("mean_pixel_bias needs out_activation='sigmoid' (the bias is a logit)")

    def build(self):
        return Autoencoder(list(self.sizes), self.activation, self.code_activation, self.out_activation)

    def loss_fn(self):
        return reconstruction_loss

    def train(self, model, data) -> dict:
        if self.mean_pixel_bias:
            set_output_bias_to_mean_pixel(model, data.x_train)
        return super().train(model, data)

    def training(self, n: int) -> str:
        bias = (";\n    the decoder's output bias starts at the logit of the mean training pixel"
                if self.mean_pixel_bias else "")
        return super().training(n) + bias

    def architecture(self) -> str:
        return _autoencoder(self.sizes, self.activation, self.code_activation, self.out_activation)

    def loss_in_words(self) -> str:
        return "MSE per pixel (mean over pixels and images)"


@dataclass(frozen=True, kw_only=True)
class OneLayerRecipe(Recipe):
    """An autoencoder 784-hidden-784 with one hidden layer (sigmoid units and outputs unless
    `units` says otherwise): what notebooks 02-04 add their noise and penalties to."""
    hidden: int

    def __post_init__(self):
        super().__post_init__()
        check_int("hidden", self.hidden, minimum=1)

    def units(self) -> tuple:
        """(code activation, output activation)."""
        return "sigmoid", "sigmoid"

    def build(self):
        return Autoencoder([self.input_size, self.hidden], None, *self.units())

    def architecture(self) -> str:
        return _autoencoder((self.input_size, self.hidden), None, *self.units())


@dataclass(frozen=True, kw_only=True)
class DenoisingRecipe(OneLayerRecipe):
    """A one-hidden-layer sigmoid DAE 784-hidden-784 (as in Vincent et al. 2008), trained to
    give back the clean image from a corrupted one (helpers.corruption.denoising_loss)."""
    noise: str
    level: float

    code = (denoising_loss, corrupt, check_noise, masking_noise, gaussian_noise, salt_and_pepper,
            "helpers.corruption.SALT_SHARE", uniform_like, mse_per_pixel, Autoencoder, mlp,
            make_activation)

    def __post_init__(self):
        super().__post_init__()
        check_noise(self.noise, self.level)

    def loss_fn(self):
        return denoising_loss(self.noise, self.level, self.seed)

    def loss_in_words(self) -> str:
        return (f"MSE per pixel between the reconstruction of the input with {self.noise} noise "
                f"(level {self.level:g}, drawn afresh for every batch) and the clean input")


@dataclass(frozen=True, kw_only=True)
class SparseRecipe(OneLayerRecipe):
    """A one-hidden-layer sparse AE 784-hidden-784.

    method "kl": sigmoid hidden units and outputs, loss MSE + weight * sum_j KL(rho || rho_hat_j)
    method "l1": ReLU hidden units, softplus outputs (linear ones if linear_output, as in the
                 overcomplete network of notebook 01), loss MSE + weight * L1 of the activations"""
    method: str                    # "kl" (sigmoid units) or "l1" (ReLU units)
    weight: float
    rho: float | None = None
    linear_output: bool = False    # "l1" only: linear outputs instead of softplus ones

    code = (kl_sparse_loss, kl_sparsity_penalty, bernoulli_kl, "helpers.divergences.EPS",
            active_ratio, l1_sparse_loss, l1_penalty, mse_per_pixel, Autoencoder, mlp,
            make_activation)

    def __post_init__(self):
        super().__post_init__()
        check_number("weight", self.weight, 0)
        check_choice("method", self.method, ("kl", "l1"))
        if self.method == "kl":
            check_rho(self.rho)
            if self.linear_output:
                raise ValueError("linear_output is for method 'l1' (ReLU units); method 'kl' "
                                 "keeps sigmoid outputs")

    def units(self) -> tuple:
        if self.method == "kl":
            return "sigmoid", "sigmoid"
        return "relu", None if self.linear_output else "softplus"

    def loss_fn(self):
        if self.method == "kl":
            return kl_sparse_loss(self.rho, self.weight)
        return l1_sparse_loss(self.weight)

    def loss_in_words(self) -> str:
        if self.method == "kl":
            return (f"MSE per pixel + {self.weight:g} × sum over hidden units of KL(ρ ‖ ρ̂_j), "
                    f"target ρ = {self.rho:g}")
        return f"MSE per pixel + {self.weight:g} × L1 of the hidden activations (summed, mean over images)"


@dataclass(frozen=True, kw_only=True)
class ContractiveRecipe(OneLayerRecipe):
    """A 784-hidden-784 sigmoid AE with the contractive penalty (helpers.contractive)."""
    hidden: int = 256
    lam: float = 0.0
    mask: float = 0.0
    lr: float = 3e-3

    code = (contractive_loss, masking_noise, uniform_like, squared_error_per_image,
            sigmoid_jacobian_norm_sq, Autoencoder, mlp, make_activation)

    def __post_init__(self):
        super().__post_init__()
        contractive_loss(self.lam, self.mask)          # checks lam and mask

    def loss_fn(self):
        return contractive_loss(self.lam, self.mask, self.seed)

    def loss_in_words(self) -> str:
        masked = (f" between the reconstruction of the input with {self.mask:.0%} of its pixels "
                  f"masked (drawn afresh for every batch) and the clean input") if self.mask else ""
        return (f"squared error summed over pixels{masked}, mean over images"
                + (f", + {self.lam:g} × ‖J_f(x)‖²_F (mean over images)" if self.lam else ""))


@dataclass(frozen=True, kw_only=True)
class StackedStageRecipe(LayeredRecipe):
    """The stacked AE after greedy stage `stage` (helpers.stacked): stage k starts from the
    stack after stage k-1 and trains only layer k and decoder k."""
    stage: int
    lr: float = 3e-3

    code = (stage_loss, mse_per_pixel, StackedAutoencoder)

    def __post_init__(self):
        super().__post_init__()
        check_int("stage", self.stage, minimum=1, maximum=len(self.sizes) - 1)

    @property
    def cache_name(self) -> str:
        return f"{self.name}-stage{self.stage}"

    def needs(self) -> list:
        return [dataclasses.replace(self, stage=self.stage - 1)] if self.stage > 1 else []

    def build(self):
        return StackedAutoencoder(list(self.sizes))

    def loss_fn(self):
        return stage_loss(self.stage)

    def train(self, model, data, previous=None) -> dict:
        if previous is not None:                         # the stack after stage k-1
            model.load_state_dict(previous.state_dict())
        model.set_trainable(self.stage)                  # every other layer frozen
        history = fit(model, data.x_train, loss_fn=self.loss_fn(), epochs=self.epochs(data),
                      batch_size=self.batch_size, lr=self.lr, seed=self.seed + self.stage,
                      desc=f"{self.name} stage {self.stage}")
        model.requires_grad_(True)
        return history

    @property
    def code_size(self) -> int:
        return self.sizes[self.stage]

    def architecture(self) -> str:
        below = f", layers 1-{self.stage - 1} frozen" if self.stage > 1 else ""
        return (f"stack {_sizes(self.sizes)} of sigmoid layers, one decoder per layer, trained "
                f"greedily; stage {self.stage} trains layer {self.stage} and decoder {self.stage}{below}")

    def loss_in_words(self) -> str:
        target = "the input" if self.stage == 1 else f"the level-{self.stage - 1} features"
        return f"MSE per unit between decoder {self.stage}'s output and {target}"


@dataclass(frozen=True, kw_only=True)
class VAERecipe(LayeredRecipe):
    """helpers.vae.VAE trained on the negative ELBO (nats per image). The four fields after
    beta are the ingredients that help a VAE learn from 4,000 digits (helpers.vae explains
    each, with its source); their defaults switch them off."""
    beta: float = 1.0
    input_dropout: float = 0.0     # share of the encoder's input pixels dropped in training
    mean_pixel_bias: bool = False  # the decoder's output bias starts at logit(mean training pixel)
    kl_warmup: int = 0             # passes over the subset while the KL weight rises to beta
    max_shift: int = 0             # training digits moved by up to this many pixels, every batch

    min_layers = 3                           # input, a hidden layer, the code
    track_held_out = True
    code = (training_loss, kl_weight, random_shift, set_output_bias_to_mean_pixel, vae_loss,
            negative_elbo, kl_to_standard_normal, bernoulli_nll_per_image, VAE, mlp,
            make_activation)

    def __post_init__(self):
        super().__post_init__()
        check_number("beta", self.beta, 0)
        check_int("kl_warmup", self.kl_warmup, minimum=0)
        check_int("max_shift", self.max_shift, minimum=0)
        check_input_dropout(self.input_dropout)

    def build(self):
        return VAE(list(self.sizes), input_dropout=self.input_dropout)

    def loss_fn(self, data=None):
        """vae_loss with this recipe's β, its KL warm-up (counted in steps on `data`) and shifts."""
        return training_loss(self.beta, warmup_steps=self.warmup_steps(data),
                             max_shift=self.max_shift, seed=self.seed)

    def train(self, model, data) -> dict:
        if self.mean_pixel_bias:
            set_output_bias_to_mean_pixel(model, data.x_train)
        return fit(model, data.x_train, loss_fn=self.loss_fn(data), x_val=data.x_test,
                   epochs=self.epochs(data), batch_size=self.batch_size, lr=self.lr,
                   schedule=self.schedule, seed=self.seed, desc=self.name)

    def warmup_steps(self, data=None) -> int:
        """Training steps of the KL warm-up: kl_warmup passes over the subset, or on other
        data as many images (whole epochs, rounded up as `epochs` does)."""
        n = len(data.x_train) if data is not None else SUBSET
        return self.warmup_epochs(n) * math.ceil(n / self.batch_size)

    def warmup_epochs(self, n: int) -> int:
        return train.epochs_for(n, self.kl_warmup) if self.kl_warmup else 0

    def architecture(self) -> str:
        layers = "layer" if len(self.sizes) == 3 else "layers"
        dropout = (f"; in training {self.input_dropout:.0%} of the encoder's input pixels dropped"
                   if self.input_dropout else "")
        return (f"VAE {_sizes(self.sizes)} (ReLU hidden {layers}, linear heads for μ and log σ², "
                f"a mirrored decoder with sigmoid output{dropout})")

    def loss_in_words(self) -> str:
        weight = f"{self.beta:g} × " if self.beta != 1 else ""
        return (f"negative ELBO in nats: Bernoulli reconstruction summed over pixels + {weight}"
                f"KL(q(z|x) ‖ N(0, I)) summed over latent dimensions, mean over images")

    def training(self, n: int) -> str:
        extras = []
        if self.mean_pixel_bias:
            extras.append("the decoder's output bias starts at the logit of the mean training pixel")
        if self.kl_warmup:
            warmup = self.warmup_epochs(n)
            extras.append(f"the KL weight rises from 0 to {self.beta:g} over the first "
                          + ("epoch" if warmup == 1 else f"{warmup} epochs"))
        if self.max_shift:
            pixels = "pixel" if self.max_shift == 1 else "pixels"
            extras.append(f"each training digit moved by up to {self.max_shift} {pixels} "
                          f"across and down, afresh in every batch")
        return super().training(n) + "".join(f";\n    {e}" for e in extras)


class TrainedWithLabels:
    """For a recipe whose network is given the labels with the images (the classifier, the
    conditional VAE): fit hands it (x, y) batches, and tracks the held-out digits' loss."""

    def train(self, model, data) -> dict:
        return fit(model, data.x_train, data.y_train, loss_fn=self.loss_fn(), x_val=data.x_test,
                   y_val=data.y_test, epochs=self.epochs(data), batch_size=self.batch_size,
                   lr=self.lr, seed=self.seed, desc=self.name)


@dataclass(frozen=True, kw_only=True)
class ConditionalVAERecipe(TrainedWithLabels, LayeredRecipe):
    """helpers.vae.ConditionalVAE, trained on the negative ELBO with the labels given to the
    encoder and the decoder (nats per image)."""
    beta: float = 1.0

    min_layers = 3                           # input, a hidden layer, the code
    code = (conditional_vae_loss, ConditionalVAE, VAE.reparameterize, kl_to_standard_normal,
            bernoulli_nll_per_image, mlp, make_activation)

    def __post_init__(self):
        super().__post_init__()
        check_number("beta", self.beta, 0)

    def build(self):
        return ConditionalVAE(list(self.sizes))

    def loss_fn(self):
        return partial(conditional_vae_loss, beta=self.beta)

    def architecture(self) -> str:
        k, hidden = self.sizes[-1], _sizes(self.sizes[1:-1])
        return (f"conditional VAE: encoder {self.sizes[0]} pixels + one-hot label (10)-{hidden}-"
                f"{k} (heads for μ and log σ²), decoder {k} + one-hot label (10)-{hidden}-"
                f"{self.sizes[0]} (ReLU hidden, sigmoid output)")

    def loss_in_words(self) -> str:
        weight = f"{self.beta:g} × " if self.beta != 1 else ""
        return (f"negative ELBO in nats with the label given to both networks: Bernoulli "
                f"reconstruction summed over pixels + {weight}KL(q(z|x, y) ‖ N(0, I)) summed over "
                f"latent dimensions, mean over images")


@dataclass(frozen=True, kw_only=True)
class ClassifierRecipe(TrainedWithLabels, LayeredRecipe):
    """An MLP classifier (ReLU between layers, class scores out) trained on the labels."""

    track_held_out = True
    code = (cross_entropy_loss, mlp, make_activation)

    def build(self):
        return mlp(list(self.sizes))

    def loss_fn(self):
        return cross_entropy_loss

    def architecture(self) -> str:
        return f"MLP {_sizes(self.sizes)} (ReLU hidden layer, class scores out)"

    def loss_in_words(self) -> str:
        return "cross-entropy against the labels, mean over images"


@dataclass(frozen=True, kw_only=True)
class ProbeTableRecipe(Recipe):
    """Linear-probe accuracies on the stack's features (helpers.stacked.probe_accuracies): a
    cached table of numbers, computed from the last greedy stage."""
    stack: StackedStageRecipe
    max_images: int = SUBSET

    makes_result = True
    code = (linear_probe_accuracy, probe_accuracies, features, apply_in_batches)

    def needs(self) -> list:
        return [self.stack]

    def compute(self, data, stack) -> dict:
        return probe_accuracies(stack, data, n_train=self.n_train(data))

    def n_train(self, data) -> int:
        return min(self.max_images, len(data.x_train))

    def describe(self, data=None) -> str:
        n = self.n_train(data) if data is not None else self.max_images
        return (f"{self.title} ({self.name}): logistic regression (scikit-learn, 300 iterations) "
                f"on the pixels and on the features of each level of {self.stack.name}, "
                f"trained on {n:,} images, scored on the held-out images")


@dataclass(frozen=True, kw_only=True)
class LabelBudgetRecipe(Recipe):
    """Fine-tuned against randomly initialised classifiers for a few label budgets
    (helpers.stacked.label_budget_accuracies): a cached table of accuracies."""
    stack: StackedStageRecipe
    budgets: tuple
    seeds: tuple
    steps: int
    lr: float = 3e-3

    makes_result = True
    code = (label_budget_accuracies, label_budget_indices, train_classifier, fit,
            cross_entropy_loss, StackedClassifier, accuracy, class_probabilities)

    def needs(self) -> list:
        return [self.stack]

    def compute(self, data, stack) -> dict:
        return label_budget_accuracies(stack, data, list(self.budgets), list(self.seeds),
                                       steps=self.steps, lr=self.lr)

    def describe(self, data=None) -> str:
        return (f"{self.title} ({self.name}): the stack's layers with a linear head, fine-tuned, "
                f"against the same network from a random start; labels per class "
                f"{', '.join(map(str, self.budgets))}, seeds {', '.join(map(str, self.seeds))}; "
                f"Adam, learning rate {self.lr:g}, {self.steps} steps of up to {self.batch_size} "
                f"images, cross-entropy (mean over the batch)")


# --- 01 · the vanilla autoencoder ----------------------------------------------------------

DEEP_AE_2D = AutoencoderRecipe(   # settings measured in issue 28 (benchmarks/bench_quality.py)
    name="ae-784-1000-500-250-2", title="deep 2-D autoencoder", notebook="01", used_in=("06", "08", "09"),
    sizes=(784, 1000, 500, 250, 2), subset_epochs=30, lr=2e-3, batch_size=64, mean_pixel_bias=True)

CODE_SIZE_FAMILY = {       # 784-256-k for the error-against-code-size curve; k = 32 is 08's
    k: AutoencoderRecipe(name=f"ae-784-256-{k}", title=f"{k}-D autoencoder", notebook="01",
                         used_in=("08",) if k == 32 else (), sizes=(784, 256, k),
                         subset_epochs=20, lr=2e-3)
    for k in (2, 4, 8, 16, 32)}
AE_32 = CODE_SIZE_FAMILY[32]

LINEAR_AE_8 = AutoencoderRecipe(
    name="linear-ae-784-8", title="linear autoencoder", notebook="01",
    sizes=(784, 8), activation=None, out_activation=None,
    subset_epochs=100, lr=1e-2, batch_size=64, schedule="cosine")

OVERCOMPLETE_AE = AutoencoderRecipe(
    name="ae-784-1000-overcomplete", title="overcomplete autoencoder", notebook="01", used_in=("03",),
    sizes=(784, 1000), code_activation="relu", out_activation=None, subset_epochs=30)

# --- 02 · the denoising autoencoder --------------------------------------------------------

AE_800 = AutoencoderRecipe(
    name="ae-784-800-sigmoid", title="plain 800-unit autoencoder", notebook="02",
    used_in=("03", "08"), sizes=(784, 800), code_activation="sigmoid",
    out_activation="sigmoid", subset_epochs=15, lr=3e-3)

DAES = {                   # one DAE per kind of noise, each at the level it is trained on
    noise: DenoisingRecipe(name=f"dae-784-800-{noise}-{level}", title=f"DAE, {noise} {level}",
                           notebook="02", used_in=("03", "08") if noise == "masking" else (),
                           hidden=800, noise=noise, level=level, subset_epochs=15, lr=3e-3)
    for noise, level in (("masking", 0.3), ("gaussian", 0.3), ("salt-and-pepper", 0.2))}
DAE_800 = DAES["masking"]

# --- 03 · the sparse autoencoder -----------------------------------------------------------

SPARSE_KL = {              # method 1 for three targets ρ; ρ = 0.05 is the one compared later
    rho: SparseRecipe(name=f"sae-kl-784-800-rho{rho}", title=f"sparse AE, KL, ρ = {rho}",
                      notebook="03", used_in=("08",) if rho == 0.05 else (), hidden=800,
                      method="kl", weight=0.003, rho=rho, subset_epochs=15, lr=3e-3)
    for rho in (0.02, 0.05, 0.2)}
SPARSE_AE_KL = SPARSE_KL[0.05]

SPARSE_L1 = SparseRecipe(
    name="sae-l1-784-800", title="sparse AE, L1", notebook="03", used_in=("08",), hidden=800,
    method="l1", weight=1e-4, subset_epochs=15, lr=3e-3)

SPARSE_L1_WIDE = SparseRecipe(   # the L1 penalty on notebook 01's overcomplete layer
    name="sae-l1-784-1000-linear", title="sparse AE, L1, 1000 units", notebook="03", hidden=1000,
    method="l1", weight=SPARSE_L1.weight, linear_output=True, subset_epochs=30)

AE_800_RELU = AutoencoderRecipe(
    name="ae-784-800-relu-softplus", title="plain 800-unit autoencoder, ReLU", notebook="03",
    sizes=(784, 800), code_activation="relu", out_activation="softplus", subset_epochs=15, lr=3e-3)

# --- 04 · the contractive autoencoder ------------------------------------------------------

AE_256 = ContractiveRecipe(
    name="cae-784-256-lam0", title="plain 256-unit autoencoder (λ = 0)", notebook="04",
    used_in=("08",), subset_epochs=12)

DAE_256 = ContractiveRecipe(
    name="dae-784-256-mask0.25", title="DAE, 256 units, masking 0.25", notebook="04",
    used_in=("08",), mask=0.25, subset_epochs=12)

CAES = {                   # the penalty's weight λ; 08 uses the one notebook 04 picks
    lam: ContractiveRecipe(name=f"cae-784-256-lam{lam:g}", title=f"CAE, λ = {lam:g}",
                           notebook="04", used_in=("08",), lam=lam, subset_epochs=12)
    for lam in (0.03, 0.1, 0.3, 1.0)}

# --- 05 · the stacked autoencoder ----------------------------------------------------------

STACK_STAGES = [           # stage k starts from stage k-1 and trains layer k only
    StackedStageRecipe(name="sae-784-256-128-64-32", title=f"stacked AE after stage {k}",
                       notebook="05", used_in=("08",) if k == 4 else (),
                       sizes=(784, 256, 128, 64, 32), stage=k, subset_epochs=8)
    for k in (1, 2, 3, 4)]
STACKED_AE = STACK_STAGES[-1]

PROBE_TABLE = ProbeTableRecipe(
    name="linear-probes", title="linear probes", notebook="05", stack=STACKED_AE)

LABEL_BUDGETS = LabelBudgetRecipe(
    name="label-budgets", title="label budgets", notebook="05", stack=STACKED_AE,
    budgets=(10, 50, 400), seeds=(0, 1, 2), steps=200)

LABEL_BUDGETS_LONGER = LabelBudgetRecipe(
    name="label-budgets", title="label budgets, four times the steps", notebook="05",
    stack=STACKED_AE, budgets=LABEL_BUDGETS.budgets, seeds=LABEL_BUDGETS.seeds, steps=800)

# --- 06 and 07 · the variational autoencoder -----------------------------------------------

JUDGE = ClassifierRecipe(
    name="classifier-784-256-10", title="the judge, a digit classifier", notebook="06",
    used_in=("08", "09"), sizes=(784, 256, 10), subset_epochs=15)

# Both VAEs: two hidden layers (784-512-256), the decoder's output bias started at the mean
# training image, a KL warm-up over the first 10 passes, the learning rate lowered along a
# cosine; the 2-D one drops 20% of its encoder's input pixels, the 20-D one sees its training
# digits moved by up to a pixel. Issue 28 measured each choice (benchmarks/bench_quality.py).
VAE_2D = VAERecipe(
    name="vae-784-512-256-2", title="2-D VAE", notebook="06", used_in=("07", "08", "09"),
    sizes=(784, 512, 256, 2), subset_epochs=30, lr=2e-3, batch_size=64, schedule="cosine",
    input_dropout=0.2, mean_pixel_bias=True, kl_warmup=10)

BETA_VAES = {              # the weight β on the KL term; β = 1 is the VAE itself
    beta: VAE_2D if beta == 1.0 else
    dataclasses.replace(VAE_2D, name=f"{VAE_2D.name}-beta{beta:g}", title=f"2-D VAE, β = {beta:g}",
                        used_in=(), beta=beta)
    for beta in (0.1, 1.0, 4.0)}

VAE_20D = VAERecipe(
    name="vae-784-512-256-20", title="20-D VAE", notebook="07", used_in=("08",),
    sizes=(784, 512, 256, 20), subset_epochs=60, lr=2e-3, batch_size=64, schedule="cosine",
    mean_pixel_bias=True, kl_warmup=10, max_shift=1)


# --- 09 · beyond the lecture ---------------------------------------------------------------

# 09 compares like with like: the conditional VAE and a β family of plain VAEs of its size and
# training (784-256-2, 25 passes, none of notebook 06's extras), cheap enough to train six.
CONDITIONAL_VAE_2D = ConditionalVAERecipe(
    name="cvae-784-256-2", title="2-D conditional VAE", notebook="09",
    sizes=(784, 256, 2), subset_epochs=25)

SMALL_VAES = {             # the weight β on the KL term; β = 1 is the conditional VAE's plain twin
    beta: VAERecipe(name="vae-784-256-2" + ("" if beta == 1.0 else f"-beta{beta:g}"),
                    title=f"small 2-D VAE, β = {beta:g}", notebook="09", sizes=(784, 256, 2),
                    subset_epochs=25, beta=beta)
    for beta in (0.1, 1.0, 2.0, 4.0, 8.0, 16.0)}


# Every recipe, in the order of the series (a recipe's stack before its tables).
ALL = [DEEP_AE_2D, *CODE_SIZE_FAMILY.values(), LINEAR_AE_8, OVERCOMPLETE_AE,
       AE_800, *DAES.values(),
       *SPARSE_KL.values(), SPARSE_L1, SPARSE_L1_WIDE, AE_800_RELU,
       AE_256, DAE_256, *CAES.values(),
       *STACK_STAGES, PROBE_TABLE, LABEL_BUDGETS, LABEL_BUDGETS_LONGER,
       JUDGE, VAE_2D, *(r for r in BETA_VAES.values() if r is not VAE_2D),
       VAE_20D, CONDITIONAL_VAE_2D, *SMALL_VAES.values()]


# --- make models ---------------------------------------------------------------------------

def prepare(data, recipes: list[Recipe] | None = None, progress: bool = True) -> list[dict]:
    """Load or train every recipe (default: ALL) on `data`, one overall progress bar.
    Returns one row per recipe: {"recipe", "event" (the cache's CacheEvent for it), "seconds"}."""
    from tqdm.auto import tqdm

    rows = []
    for recipe in tqdm(recipes or ALL, desc="models of the series", disable=not progress):
        started = time.perf_counter()
        with cache.recording() as events:
            cache.train_or_load(recipe, data, verbose=False)
        # what it needed (an earlier stage, the stack of a table) came first: its own is last
        rows.append(dict(recipe=recipe, event=events[-1], seconds=time.perf_counter() - started))
    return rows


def table(rows: list[dict]) -> str:
    """The rows of `prepare` as a text table: model, cache name, notebooks, what was done, seconds."""
    done = {("model", "loaded"): "loaded", ("model", "trained"): "trained",
            ("model", "retrained"): "retrained", ("result", "loaded"): "loaded",
            ("result", "trained"): "computed", ("result", "retrained"): "recomputed"}
    lines = [f"{'model':36s} {'cache name':34s} {'notebooks':12s} {'':10s} {'seconds':>7s}"]
    for row in rows:
        r, event = row["recipe"], row["event"]
        action = done[event.what, event.action] + ("" if event.saved else " (not saved)")
        lines.append(f"{r.title:36s} {event.name:34s} {', '.join(r.used_by()):12s} {action:10s} "
                     f"{row['seconds']:7.1f}")
    loaded = sum(row["event"].action == "loaded" for row in rows)
    lines.append(f"{len(rows)} models and results: {loaded} loaded, {len(rows) - loaded} trained or "
                 f"computed; {sum(row['seconds'] for row in rows):.0f} s")
    return "\n".join(lines)


def main() -> int:
    from .data import load_data

    data = load_data()                 # AE_DATA=mnist or AE_DATA=fashion for the full data sets
    print(f"Cache: {cache.cache_dir()}")
    rows = prepare(data)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
