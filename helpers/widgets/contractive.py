"""Widget of notebook 04: the contraction control (lambda -> contraction and reconstruction)."""
from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..contractive import code_sensitivity, mean_jacobian_norm
from ..errors import check_int, is_one_of
from ..losses import mse_per_pixel
from ..models import device_of, reconstruct_all
from ..plots import figure_to_png
from .base import Widget


class ContractionControl(Widget):
    """Pick lambda among trained models (lambda = 0 is the plain autoencoder), a held-out digit
    and a perturbation size -> the model's mean ||J_f(x)||_F and reconstruction error on the
    held-out set, and how far this digit's code moves under a small random perturbation."""

    def __init__(self, models: dict, x_test: torch.Tensor, index: int = 0, sigma: float = 0.05,
                 n_summary: int = 500):
        if not models:
            raise ValueError("ContractionControl needs at least one model {lambda: model}")
        self.models = {float(lam): m.eval() for lam, m in sorted(models.items())}
        self.x = x_test.detach().cpu()
        x_summary = self.x[:n_summary]
        self.summary = {lam: dict(jacobian=mean_jacobian_norm(m, x_summary.to(device_of(m))),
                                  mse=mse_per_pixel(reconstruct_all(m, x_summary), x_summary).item())
                        for lam, m in self.models.items()}  # one number per model, for the trade-off panel
        self.lam = widgets.SelectionSlider(options=[(f"{lam:g}", lam) for lam in self.models],
                                           value=next(iter(self.models)), description="λ",
                                           continuous_update=False)
        self.index = widgets.IntSlider(value=index, min=0, max=len(self.x) - 1, description="digit",
                                       continuous_update=False)
        self.sigma = widgets.FloatSlider(value=sigma, min=0.01, max=0.3, step=0.01,
                                         description="noise σ", continuous_update=False)
        self.readout = widgets.HTML()

        self.fig = Figure(figsize=(11, 3.0))
        axes = self.fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 1.6]})
        self.images = []
        for ax in axes[:3]:
            self.images.append(ax.imshow(np.zeros((28, 28)), vmin=0, vmax=1, cmap="gray"))
            ax.set_xticks([]), ax.set_yticks([])
        self.image_axes, self.curve_ax = axes[:3], axes[3]
        mse = [s["mse"] for s in self.summary.values()]
        jac = [s["jacobian"] for s in self.summary.values()]
        self.curve_ax.plot(mse, jac, "o-", color="C0")
        for lam, s in self.summary.items():
            self.curve_ax.annotate(f"λ={lam:g}", (s["mse"], s["jacobian"]), fontsize=7,
                                   xytext=(4, 2), textcoords="offset points")
        self.marker, = self.curve_ax.plot([], [], "o", ms=12, mfc="none", mec="C3", mew=2)
        self.curve_ax.set_xlabel("test MSE per pixel\n(mean over pixels and images)")
        self.curve_ax.set_ylabel("mean $\\|J_f(x)\\|_F$")
        self.curve_ax.set_title(f"trade-off over λ ({len(x_summary)} test digits)")
        self.fig.tight_layout()
        self.start(dict(lam=self.lam, index=self.index, sigma=self.sigma),
                   [widgets.HBox([self.lam, self.index, self.sigma]), self.readout])

    @torch.no_grad()
    def compute(self, lam: float, index: int, sigma: float) -> dict:
        """Numbers and images for one choice of the controls."""
        if not is_one_of(lam, self.models):
            raise ValueError(f"λ must be one of the trained values {list(self.models)}, got {lam!r}")
        check_int("digit index", index, minimum=0, maximum=len(self.x) - 1)
        if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and 0 < sigma <= 1):
            raise ValueError(f"noise σ must be a number in (0, 1], got {sigma!r}")
        model = self.models[lam]
        x = self.x[index:index + 1].to(device_of(model))       # the model stays where it is
        e = sigma * torch.randn(x.shape, generator=torch.Generator().manual_seed(index)).to(x.device)
        h, h_moved = model.encoder(x), model.encoder(x + e)
        return dict(lam=lam, x=x[0].cpu(), x_moved=(x + e).clamp(0, 1)[0].cpu(), x_hat=model(x)[0].cpu(),
                    code_change=(h_moved - h).norm().item(), input_change=e.norm().item(),
                    sensitivity=code_sensitivity(model.encoder, x, sigma, repeats=10, seed=index).item(),
                    **self.summary[lam])

    def show(self, lam: float, index: int, sigma: float) -> None:
        r = self.last = self.compute(lam, index, sigma)
        for img, picture in zip(self.images, (r["x"], r["x_moved"], r["x_hat"])):
            img.set_data(picture.reshape(28, 28).numpy())
        self.image_axes[0].set_title(f"test digit #{index}")
        self.image_axes[1].set_title(f"x + noise (σ={sigma:.2f})\ncode moves {r['sensitivity']:.3f} per unit",
                                     fontsize=9)
        self.image_axes[2].set_title("reconstruction")
        self.marker.set_data([r["mse"]], [r["jacobian"]])
        self.picture.value = figure_to_png(self.fig)
        self.readout.value = (
            f"λ = {lam:g}: mean ‖J_f(x)‖<sub>F</sub> = <b>{r['jacobian']:.3f}</b>, "
            f"test MSE = <b>{r['mse']:.4f}</b> per pixel; this digit's code moves "
            f"<b>{r['sensitivity']:.3f}</b> per unit of input movement "
            f"(‖Δh‖ = {r['code_change']:.3f} for ‖Δx‖ = {r['input_change']:.2f})")
