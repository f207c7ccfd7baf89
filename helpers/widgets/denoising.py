"""Widgets of notebook 02: the noise explorer and the filter browser."""
from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..corruption import NOISE_KINDS, check_noise, corrupt
from ..errors import check_int
from ..losses import mse_per_pixel
from ..models import first_layer_filters, reconstruct_all
from ..plots import FastRedraw, figure_to_png, filter_mosaic, image_rows
from .base import Widget


class NoiseExplorer(Widget):
    """Noise type and level -> the noisy digits, the plain autoencoder's output and the
    denoising autoencoder's output for the same digits, with each row's MSE against the
    clean digits (per pixel, mean over pixels and the digits shown).

    dae_model: one DAE for every kind of noise, or a dict {noise kind: DAE trained on it}."""

    def __init__(self, plain_model: torch.nn.Module, dae_model, images,
                 n: int = 8, seed: int = 0, kind: str = "masking", level: float = 0.5):
        images = torch.as_tensor(images, dtype=torch.float32)[:n]
        if images.ndim != 2 or images.shape[1] != 784 or len(images) == 0:
            raise ValueError(f"images must have shape (n, 784), got {tuple(images.shape)}")
        self.images, self.seed = images, seed
        daes = dae_model if isinstance(dae_model, dict) else {k: dae_model for k in NOISE_KINDS}
        missing = [k for k in NOISE_KINDS if k not in daes]
        if missing:
            raise ValueError(f"dae_model has no DAE for {', '.join(missing)}")
        self.plain = plain_model.eval()
        self.daes = {k: m.eval() for k, m in daes.items()}
        self.kind = widgets.ToggleButtons(options=NOISE_KINDS, value=kind, description="noise")
        self.level = widgets.FloatSlider(value=level, min=0.0, max=0.9, step=0.05, description="level",
                                         readout_format=".2f", continuous_update=True)
        self.help = widgets.HTML()

        n = len(images)
        fig = Figure(figsize=(1.0 * n + 1.4, 4.6))
        self.artists = image_rows(fig, ["clean", "noisy input", "plain AE", "DAE\n(same noise\nin training)"], n)
        for c in range(n):
            self.artists[0][c].set_data(images[c].reshape(28, 28).numpy())
        self.title = fig.suptitle(" ")
        fig.tight_layout(rect=(0, 0, 1, 0.90))
        moving = [a for row in self.artists[1:] for a in row] + [self.title]
        self.redraw = FastRedraw(fig, moving)
        self.start(dict(kind=self.kind, level=self.level), [self.kind, self.level, self.help])

    def compute(self, kind: str, level: float) -> dict:
        """{"noisy", "plain AE", "DAE": (n, 784) tensors, "errors": {row: MSE per pixel}}.
        The noise is seeded, so the same kind and level always show the same noisy digits."""
        check_noise(kind, level)
        noisy = corrupt(self.images, kind, level, torch.Generator().manual_seed(self.seed))
        out = {"noisy": noisy, "plain AE": reconstruct_all(self.plain, noisy),
               "DAE": reconstruct_all(self.daes[kind], noisy)}
        out["errors"] = {name: mse_per_pixel(out[name], self.images).item()
                         for name in ("noisy", "plain AE", "DAE")}
        return out

    def show(self, kind: str, level: float) -> None:
        self.last = self.compute(kind, level)
        for row, key in zip(self.artists[1:], ("noisy", "plain AE", "DAE")):
            for c, artist in enumerate(row):
                artist.set_data(self.last[key][c].reshape(28, 28).clamp(0, 1).numpy())
        e = self.last["errors"]
        self.title.set_text(f"{kind} noise, level {level:.2f}\nMSE per pixel (mean over pixels, digits) "
                            f"vs clean: noisy {e['noisy']:.4f}, "
                            f"plain AE {e['plain AE']:.4f}, DAE {e['DAE']:.4f}")
        self.picture.value = self.redraw.png()

    def update(self, _change=None) -> None:
        meaning = {"masking": "share of pixels set to 0",
                   "gaussian": "standard deviation of the added noise (pixels are in [0, 1])",
                   "salt-and-pepper": "share of pixels set to 0 or 1"}[self.kind.value]
        self.help.value = f"<small>level = {meaning}</small>"
        super().update()


class FilterBrowser(Widget):
    """First-layer weights as 28x28 filters, one page of `per_page` units at a time, for
    several models side by side (unit k of every model on the same page position). Each filter
    is drawn on its own symmetric scale: grey = 0, white = positive, black = negative."""

    def __init__(self, models: dict, per_page: int = 16, ncols: int = 4):
        if not models:
            raise ValueError("FilterBrowser needs at least one model")
        self.filters = {name: first_layer_filters(m).numpy() for name, m in models.items()}
        n_units = min(len(f) for f in self.filters.values())
        self.per_page, self.ncols = per_page, ncols
        self.n_pages = math.ceil(n_units / per_page)
        self.n_units = n_units
        self.page = widgets.IntSlider(value=0, min=0, max=self.n_pages - 1, description="page",
                                      continuous_update=True)
        self.caption = widgets.HTML()
        fig = Figure(figsize=(3.2 * len(models), 3.6))
        axes = np.atleast_1d(fig.subplots(1, len(models)))
        self.images, self.titles = [], []
        blank = filter_mosaic(np.zeros((0, 28, 28)), ncols, per_page)
        for ax, name in zip(axes, self.filters):
            self.images.append(ax.imshow(blank, vmin=-1, vmax=1, cmap="gray"))
            self.titles.append(ax.set_title(name))
            ax.set_xticks([]), ax.set_yticks([])
        self.fig = fig
        fig.tight_layout()
        self.start(dict(page=self.page), [self.page, self.caption])

    def compute(self, page: int) -> dict:
        """{model name: mosaic image of that page's filters, each scaled to [-1, 1]}."""
        check_int("page", page, minimum=0, maximum=self.n_pages - 1)
        units = slice(page * self.per_page, min((page + 1) * self.per_page, self.n_units))
        return {name: filter_mosaic(f[units], self.ncols, self.per_page) for name, f in self.filters.items()}

    def show(self, page: int) -> None:
        self.last = self.compute(page)
        for image, mosaic in zip(self.images, self.last.values()):
            image.set_data(mosaic)
        first = page * self.per_page
        self.caption.value = (f"<small>hidden units {first} to "
                              f"{min(first + self.per_page, self.n_units) - 1} of {self.n_units}</small>")
        self.picture.value = figure_to_png(self.fig)

