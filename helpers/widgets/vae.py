"""Widgets of notebooks 06 and 07: KL direction, the VAE latent explorer, the KL-weight
control and the Monte Carlo control."""
from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..errors import check_int, is_one_of
from ..gaussians import kl_direction_fits
from ..models import decode_all, encode_all
from ..plots import FastRedraw, as_images, code_scatter, figure_to_png, posterior_ellipses
from ..tensors import to_numpy
from ..vae import log_likelihood_importance, log_likelihood_prior_sampling, loss_terms, sample_images
from .base import LatentSliders, Widget, half_width_slider


def _finite(*values) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


class KLDirectionDemo(Widget):
    """A two-mode target p (sliders: separation of the modes, weight of the left one) and the
    single Gaussians that minimise KL(q||p) and KL(p||q), fitted live and drawn over p."""

    def __init__(self, separation: float = 6.0, weight: float = 0.5):
        # min 0.5: at separation 0 both modes coincide and the weight slider would do nothing
        self.separation = widgets.FloatSlider(value=separation, min=0.5, max=10.0, step=0.25,
                                              description="separation", continuous_update=True)
        self.weight = widgets.FloatSlider(value=weight, min=0.05, max=0.95, step=0.05,
                                          description="left weight", continuous_update=True)
        fig = Figure(figsize=(7.5, 3.4))
        ax = fig.subplots()
        x = kl_direction_fits(separation, weight)["x"]
        self.line_p, = ax.plot(x, 0 * x, color="black", lw=2, label="target p (two modes)")
        self.line_rev, = ax.plot(x, 0 * x, color="C3", lw=2, ls="--",
                                 label="argmin KL(q||p): mode-seeking")
        self.line_fwd, = ax.plot(x, 0 * x, color="C0", lw=2, ls=":",
                                 label="argmin KL(p||q): mass-covering")
        ax.set_xlim(-9, 9), ax.set_ylim(0, 0.45)
        ax.set_xlabel("x"), ax.set_ylabel("density")
        ax.legend(loc="upper right")
        self.caption = ax.set_title("KL(q||p) fit\nKL(p||q) fit")   # two lines: room kept by tight_layout
        fig.tight_layout()
        self.redraw = FastRedraw(fig, [self.line_p, self.line_rev, self.line_fwd, self.caption])
        self.start(dict(separation=self.separation, weight=self.weight),
                   [widgets.HBox([self.separation, self.weight])])

    def compute(self, separation: float, weight: float) -> dict:
        """Both fits for this target (see helpers.gaussians.kl_direction_fits)."""
        if not _finite(separation, weight):
            raise ValueError(f"separation and weight must be finite numbers, got "
                             f"{separation!r}, {weight!r}")
        return kl_direction_fits(separation, weight)

    def show(self, separation: float, weight: float) -> None:
        self.last = fits = self.compute(separation, weight)
        self.line_p.set_ydata(fits["p"])
        self.line_rev.set_ydata(fits["q_reverse"])
        self.line_fwd.set_ydata(fits["q_forward"])
        (m_r, s_r), (m_f, s_f) = fits["reverse"], fits["forward"]
        self.caption.set_text(f"KL(q||p) fit: mean {m_r:.2f}, std {s_r:.2f} (KL {fits['kl_reverse']:.3f} nats)"
                              f"\nKL(p||q) fit: mean {m_f:.2f}, std {s_f:.2f} (KL {fits['kl_forward']:.3f} nats)")
        self.picture.value = self.redraw.png()


class VAELatentExplorer(LatentSliders):
    """The plain AE's codes next to the VAE's: on the VAE side, the posterior ellipses
    q(z|x) of a few digits, a cross at z, and sliders z1, z2 that decode z live (decode and
    show come from LatentSliders, shared with notebook 01's explorer)."""

    caption_format = "decoded z =\n({:.2f}, {:.2f})"

    def __init__(self, vae, ae_codes, vae_mu, labels, x_examples, class_names=None,
                 limit: float = 3.5):
        vae_mu, ae_codes = to_numpy(vae_mu), to_numpy(ae_codes)
        if vae_mu.ndim != 2 or vae_mu.shape[1] != 2 or ae_codes.shape[1:] != (2,):
            raise ValueError("The VAE latent explorer needs 2-D codes from both models")
        self.model = vae.eval()
        self.z1, self.z2 = (half_width_slider(name, 0.0, -limit, limit, 0.05) for name in ("z1", "z2"))
        fig = Figure(figsize=(11, 3.8))
        ax_ae, ax_vae, ax_img = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.2, 1.2, 0.8]})
        code_scatter(ax_ae, ae_codes, labels, legend=False, s=3)
        ax_ae.set_title("plain AE: one point per digit\n(no prior; its own scale)")
        code_scatter(ax_vae, vae_mu, labels, class_names, s=3)
        mu_ex, logvar_ex = encode_all(vae, x_examples)
        posterior_ellipses(ax_vae, mu_ex, logvar_ex, ["black"] * len(mu_ex))
        ax_vae.set_xlim(-limit, limit), ax_vae.set_ylim(-limit, limit)
        ax_vae.set_title("VAE: means of q(z|x); ellipses = 2 std\nof q(z|x) for a few digits")
        self.start_sliders(fig, ax_vae, ax_img, (0.0, 0.0))


class KLWeightControl(Widget):
    """Pick the weight beta on the KL term among trained, cached VAEs -> held-out
    reconstructions, samples from N(0, I) and the code scatter, with both loss terms."""

    def __init__(self, models: dict, x_test, y_test, class_names=None, n_images: int = 8):
        if not models:
            raise ValueError("KLWeightControl needs at least one trained model")
        self.models = dict(sorted(models.items()))
        self.x_test, self.y_test, self.n = x_test, y_test, n_images
        self._cache: dict = {}
        self.beta = widgets.SelectionSlider(options=list(self.models), description="KL weight β",
                                            value=1.0 if 1.0 in self.models else list(self.models)[0],
                                            continuous_update=False)
        self.fig = Figure(figsize=(11, 4.2))
        grid = self.fig.add_gridspec(2, n_images + 5)
        self.recon_axes = [self.fig.add_subplot(grid[0, i]) for i in range(n_images)]
        self.sample_axes = [self.fig.add_subplot(grid[1, i]) for i in range(n_images)]
        self.ax_codes = self.fig.add_subplot(grid[:, n_images + 1:])
        self.recon_images = [ax.imshow(np.zeros((28, 28)), vmin=0, vmax=1, cmap="gray")
                             for ax in self.recon_axes]
        self.sample_images = [ax.imshow(np.zeros((28, 28)), vmin=0, vmax=1, cmap="gray")
                              for ax in self.sample_axes]
        for ax in self.recon_axes + self.sample_axes:
            ax.set_xticks([]), ax.set_yticks([])
        self.recon_axes[0].set_ylabel("recon-\nstruction")
        self.sample_axes[0].set_ylabel("sample\nz~N(0,I)")
        self.scatter = code_scatter(self.ax_codes, np.zeros((len(y_test), 2)), y_test,
                                    class_names, s=3)
        self.ax_codes.set_xlim(-4, 4), self.ax_codes.set_ylim(-4, 4)
        self.ax_codes.set_xlabel("$\\mu_1$"), self.ax_codes.set_ylabel("$\\mu_2$")
        self.suptitle = self.fig.suptitle(" ")
        self.fig.subplots_adjust(left=0.06, right=0.93, top=0.8, bottom=0.1, wspace=0.1)
        self.start(dict(beta=self.beta))

    def compute(self, beta: float) -> dict:
        """Reconstructions of the first test images, samples, codes and loss terms for beta."""
        if not is_one_of(beta, self.models):
            raise ValueError(f"beta must be one of the trained weights {list(self.models)}, got {beta!r}")
        if beta not in self._cache:
            model = self.models[beta]
            mu, logvar = encode_all(model, self.x_test)
            self._cache[beta] = dict(recon=decode_all(model, mu[:self.n]),
                                     samples=sample_images(model, self.n, seed=0),
                                     mu=mu, **loss_terms(model, self.x_test))
        return self._cache[beta]

    def show(self, beta: float) -> None:
        result = self.compute(beta)
        for artist, image in zip(self.recon_images, as_images(result["recon"])):
            artist.set_data(image)
        for artist, image in zip(self.sample_images, as_images(result["samples"])):
            artist.set_data(image)
        self.scatter.set_offsets(result["mu"].numpy())
        self.ax_codes.set_title(f"means of q(z|x), {len(self.y_test)} test digits")
        self.suptitle.set_text(
            f"β = {beta:g}: held-out reconstruction {result['reconstruction']:.1f} + KL "
            f"{result['kl']:.1f} nats per digit\n(BCE summed over pixels, KL summed over "
            f"latent dims, both averaged over test digits; trained on recon + β·KL)")
        self.picture.value = figure_to_png(self.fig)


class MonteCarloControl(Widget):
    """Choose n -> the naive Monte Carlo estimate log (1/n sum p(x|z_i)), z_i ~ N(0, I), of
    one digit's log P(X), repeated with fresh samples; its spread shows how large n must be.
    A dashed line marks the importance-sampled estimate (many samples from q(z|x))."""

    N_OPTIONS = (1, 3, 10, 30, 100, 300, 1000, 3000)

    def __init__(self, vae, x, repeats: int = 10, reference_samples: int = 2000, seed: int = 0):
        x = torch.as_tensor(x).reshape(1, -1)
        self.vae, self.x, self.repeats, self.seed = vae.eval(), x, repeats, seed
        self.reference = log_likelihood_importance(
            vae, x, reference_samples, torch.Generator().manual_seed(seed + 1)).item()
        self.n = widgets.SelectionSlider(options=list(self.N_OPTIONS), value=100,
                                         description="samples n", continuous_update=False)
        self._cache: dict = {}
        self.fig = Figure(figsize=(8.5, 3.4))
        self.ax, ax_img = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
        ax_img.imshow(x.reshape(28, 28).numpy(), vmin=0, vmax=1, cmap="gray")
        ax_img.set_xticks([]), ax_img.set_yticks([]), ax_img.set_title("the digit X")
        self.fig.subplots_adjust(left=0.12, right=0.97, bottom=0.17, top=0.82, wspace=0.15)
        self.start(dict(n=self.n))

    def compute(self, n: int) -> np.ndarray:
        """`repeats` estimates of log P(X) (nats) with n prior samples each."""
        check_int("n (samples)", n, minimum=1, maximum=10 ** 6)
        if n not in self._cache:
            g = torch.Generator().manual_seed(self.seed + n)
            self._cache[n] = np.array([log_likelihood_prior_sampling(self.vae, self.x, n, g).item()
                                       for _ in range(self.repeats)])
        return self._cache[n]

    def show(self, n: int) -> None:
        estimates = self.compute(n)
        ax = self.ax
        ax.clear()
        for m in sorted(self._cache):
            ax.plot([m] * self.repeats, self._cache[m], "o", color="C0" if m == n else "0.7", ms=4)
        ax.axhline(self.reference, color="C3", ls="--", label="importance sampling reference")
        ax.set_xscale("log"), ax.set_xlim(0.5, 6e3)
        ax.set_xlabel("samples n from the prior N(0, I)")
        ax.set_ylabel("estimate of log P(X)\n(nats, Bernoulli, summed over pixels)")
        ax.set_title(f"n = {n}: mean {estimates.mean():.1f}, spread (std) {estimates.std():.1f} "
                     f"nats over {self.repeats} repeats\nreference {self.reference:.1f} nats")
        ax.legend(loc="lower right")
        self.picture.value = figure_to_png(self.fig)
