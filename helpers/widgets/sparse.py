"""Widgets of notebook 03: the KL explorer and the sparsity control."""
from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from ..errors import is_one_of
from ..divergences import bhattacharyya_gaussian, gaussian_pdf, kl_gaussian
from ..models import encode_all, first_layer_filters
from ..plots import figure_to_png, filter_mosaic
from .base import Widget, half_width_slider


class KLExplorer(Widget):
    """Two Gaussians p = N(mu_p, sigma_p^2) and q = N(mu_q, sigma_q^2), set by sliders ->
    their densities, KL(p || q), KL(q || p) and the Bhattacharyya distance D_B (in nats)."""

    def __init__(self, mu_p: float = 0.0, sigma_p: float = 1.0, mu_q: float = 1.0,
                 sigma_q: float = 2.0, x_range: float = 8.0):
        self.mu_p, self.mu_q = (half_width_slider(name, value, -4, 4, 0.05)
                                for name, value in (("μ_p", mu_p), ("μ_q", mu_q)))
        self.sigma_p, self.sigma_q = (half_width_slider(name, value, 0.2, 3, 0.05)
                                      for name, value in (("σ_p", sigma_p), ("σ_q", sigma_q)))
        self.x = np.linspace(-x_range, x_range, 600)
        self.fig = Figure(figsize=(7.5, 3.4))
        ax = self.fig.subplots()
        self.line_p, = ax.plot(self.x, np.zeros_like(self.x), color="C0", label="p")
        self.line_q, = ax.plot(self.x, np.zeros_like(self.x), color="C1", label="q")
        self.overlap = None
        self.ax = ax
        ax.set_xlim(self.x[0], self.x[-1]), ax.set_ylim(0, 2.1)
        ax.set_xlabel("x"), ax.set_ylabel("density")
        ax.legend(loc="upper right")
        self.title = ax.set_title(" ")
        self.fig.tight_layout()
        self.start(dict(mu_p=self.mu_p, sigma_p=self.sigma_p, mu_q=self.mu_q, sigma_q=self.sigma_q),
                   [widgets.HBox([self.mu_p, self.sigma_p]), widgets.HBox([self.mu_q, self.sigma_q])])

    def compute(self, mu_p: float, sigma_p: float, mu_q: float, sigma_q: float) -> dict:
        """The three numbers (closed forms for Gaussians) and both densities on the grid."""
        values = (mu_p, sigma_p, mu_q, sigma_q)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            raise ValueError(f"means and standard deviations must be finite numbers, got {values}")
        if sigma_p <= 0 or sigma_q <= 0:
            raise ValueError(f"standard deviations must be > 0, got σ_p={sigma_p}, σ_q={sigma_q}")
        return {"kl_pq": kl_gaussian(mu_p, sigma_p, mu_q, sigma_q),
                "kl_qp": kl_gaussian(mu_q, sigma_q, mu_p, sigma_p),
                "d_b": bhattacharyya_gaussian(mu_p, sigma_p, mu_q, sigma_q),
                "p": gaussian_pdf(self.x, mu_p, sigma_p), "q": gaussian_pdf(self.x, mu_q, sigma_q)}

    def show(self, mu_p: float, sigma_p: float, mu_q: float, sigma_q: float) -> None:
        self.last = r = self.compute(mu_p, sigma_p, mu_q, sigma_q)
        self.line_p.set_ydata(r["p"]), self.line_q.set_ydata(r["q"])
        if self.overlap is not None:
            self.overlap.remove()
        self.overlap = self.ax.fill_between(self.x, np.minimum(r["p"], r["q"]), color="0.8", lw=0)
        self.title.set_text(f"KL(p‖q) = {r['kl_pq']:.3f}   KL(q‖p) = {r['kl_qp']:.3f}   "
                            f"D_B = {r['d_b']:.3f}  (nats; grey: overlap)")
        self.picture.value = figure_to_png(self.fig)


class SparsityControl(Widget):
    """Pick the target rho of a KL-sparse autoencoder among trained models -> the histogram of
    its hidden activations on the given images, each unit's mean activation rho_hat_j against
    the target, and the first filters."""

    def __init__(self, models: dict, images, n_filters: int = 16):
        if not models:
            raise ValueError("SparsityControl needs at least one trained model, keyed by rho")
        self.rhos = sorted(models)
        self.stats = {}
        for rho in self.rhos:
            hidden = encode_all(models[rho], images)
            self.stats[rho] = {"hidden": hidden.flatten().numpy(),
                               "rho_hat": np.sort(hidden.mean(dim=0).numpy()),
                               "filters": first_layer_filters(models[rho])[:n_filters].numpy()}
        self.rho = widgets.SelectionSlider(options=self.rhos, value=self.rhos[len(self.rhos) // 2],
                                           description="target ρ", continuous_update=True)
        self.bins = np.linspace(0, 1, 41)
        self.fig = Figure(figsize=(10.5, 3.5))
        ax_hist, ax_units, ax_filters = self.fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.2, 1.2, 1]})
        self.bars = ax_hist.stairs(np.ones(len(self.bins) - 1), self.bins, fill=True, color="C0")
        ax_hist.set_yscale("log"), ax_hist.set_ylim(1e-4, 1)
        ax_hist.set_xlabel("activation a_j(x)"), ax_hist.set_ylabel("share of all activations")
        self.hist_title = ax_hist.set_title(" ")
        n_units = len(self.stats[self.rhos[0]]["rho_hat"])
        self.unit_line, = ax_units.plot(np.arange(n_units), np.zeros(n_units), color="C0",
                                        label="ρ̂_j (mean activation)")
        self.target_line = ax_units.axhline(0, color="C3", ls="--", label="target ρ")
        ax_units.set_xlabel("hidden unit (sorted by ρ̂_j)"), ax_units.set_ylabel("mean activation")
        ax_units.set_yscale("log"), ax_units.set_ylim(1e-3, 1)   # log: the few busy units stay in view
        ax_units.legend(loc="upper left")
        self.unit_title = ax_units.set_title(" ")
        self.mosaic = ax_filters.imshow(filter_mosaic(np.zeros((0, 28, 28)), 4, n_filters),
                                        vmin=-1, vmax=1, cmap="gray")
        ax_filters.set_xticks([]), ax_filters.set_yticks([])
        ax_filters.set_title(f"first {n_filters} filters")
        self.n_filters = n_filters
        self.fig.tight_layout()
        self.start(dict(rho=self.rho))

    def compute(self, rho: float) -> dict:
        """Histogram (share of activations per bin), sorted rho_hat_j, their mean, and the
        filter mosaic of the model trained with target `rho`."""
        if not is_one_of(rho, self.stats):
            raise ValueError(f"no model was trained for rho={rho!r}: choose one of {self.rhos}")
        s = self.stats[rho]
        counts, _ = np.histogram(s["hidden"], self.bins)
        return {"histogram": counts / len(s["hidden"]), "rho_hat": s["rho_hat"],
                "mean_activation": float(s["hidden"].mean()),
                "mosaic": filter_mosaic(s["filters"], 4, self.n_filters)}

    def show(self, rho: float) -> None:
        self.last = r = self.compute(rho)
        self.bars.set_data(np.maximum(r["histogram"], 1e-6), self.bins)
        self.hist_title.set_text(f"activations on test images, ρ = {rho}")
        self.unit_line.set_ydata(np.maximum(r["rho_hat"], 1e-3))
        self.target_line.set_ydata([rho, rho])
        self.unit_title.set_text(f"mean activation {r['mean_activation']:.3f} vs target {rho}")
        self.mosaic.set_data(r["mosaic"])
        self.picture.value = figure_to_png(self.fig)
