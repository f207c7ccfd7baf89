"""Widgets of notebook 01: the latent explorer and the PCA-versus-autoencoder comparison."""
from __future__ import annotations

import time

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..errors import check_choice, check_int
from ..evaluate import PCACodec
from ..models import encode_all
from ..plots import code_scatter, figure_to_png
from ..tensors import to_numpy
from .base import LatentSliders, Widget, half_width_slider


class LatentExplorer(LatentSliders):
    """Sliders for z1 and z2 -> the decoder's image of that code, live, with the point
    marked on the scatter of the codes of real digits."""

    def __init__(self, model: torch.nn.Module, codes, labels, class_names=None,
                 steps: int = 100):
        codes = to_numpy(codes)
        if codes.ndim != 2 or codes.shape[1] != 2:
            raise ValueError(f"The latent explorer needs 2-D codes, got shape {codes.shape}")
        self.model = model.eval()
        low, high = codes.min(axis=0), codes.max(axis=0)
        margin = 0.05 * (high - low)
        start = np.median(codes, axis=0)
        self.z1, self.z2 = (half_width_slider(name, float(start[i]), float(low[i] - margin[i]),
                                              float(high[i] + margin[i]), float((high[i] - low[i]) / steps))
                            for i, name in enumerate(["z1", "z2"]))

        fig = Figure(figsize=(8.6, 3.6))
        ax_codes, ax_image = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1]})
        code_scatter(ax_codes, codes, labels, class_names, s=3)
        ax_codes.set_xlim(self.z1.min, self.z1.max)   # the whole slider range is visible
        ax_codes.set_ylim(self.z2.min, self.z2.max)
        ax_codes.set_title("codes of training digits; X marks z")
        self.start_sliders(fig, ax_codes, ax_image, start)


class EmbeddingComparison(Widget):
    """PCA codes next to autoencoder codes of the same held-out images: drawn directly when
    the code is 2-D, or through t-SNE for larger codes. Controls: method, latent size,
    perplexity (t-SNE's effective number of neighbours) and number of points."""

    METHODS = ("2-D codes", "t-SNE of the codes")

    def __init__(self, x_train, x_test, y_test, autoencoders: dict, class_names=None,
                 max_points: int = 2000, seed: int = 0):
        if 2 not in autoencoders:
            raise ValueError("EmbeddingComparison needs a 2-D autoencoder (key 2) among `autoencoders`")
        max_points = min(max_points, len(x_test))
        self.labels = to_numpy(y_test[:max_points])
        self.class_names = class_names
        self.seed = seed
        x_shown = x_test[:max_points]
        self.codes = {k: {"PCA": PCACodec(x_train, k).encode(x_shown).numpy(),
                          "autoencoder": encode_all(model, x_shown).numpy()}
                      for k, model in sorted(autoencoders.items())}
        self._tsne_cache: dict = {}

        self.method = widgets.ToggleButtons(options=self.METHODS, value=self.METHODS[0],
                                            description="method")
        self.latent = widgets.Dropdown(options=sorted(self.codes), value=2, description="latent size",
                                       disabled=True)
        self.perplexity = widgets.IntSlider(value=30, min=5, max=50, step=5, description="perplexity",
                                            continuous_update=False, disabled=True)
        self.points = widgets.IntSlider(value=min(1000, max_points), min=min(200, max_points),
                                        max=max_points, step=100, description="points",
                                        continuous_update=False)
        self.status = widgets.HTML()

        self.fig = Figure(figsize=(9.5, 4.2))
        self.axes = self.fig.subplots(1, 2)
        self.scatters = [code_scatter(ax, np.zeros((1, 2)), [0], legend=(i == 1),
                                      class_names=class_names, s=5)
                         for i, ax in enumerate(self.axes)]
        for ax in self.axes:              # room for the two-line titles that show() writes
            ax.set_title("PCA\nt-SNE of 32-D codes (perplexity 50), 2000 test images")
        self.fig.tight_layout()
        self.start(dict(method=self.method, latent=self.latent, perplexity=self.perplexity,
                        points=self.points),
                   [widgets.HBox([self.method, self.latent]),
                    widgets.HBox([self.perplexity, self.points]), self.status])

    def compute(self, method: str, latent: int, perplexity: int, n_points: int) -> dict:
        """2-D positions of the first n_points held-out images for PCA and the autoencoder."""
        check_choice("method", method, self.METHODS)
        check_choice("latent size", latent, sorted(self.codes))
        check_int("points", n_points, minimum=2, maximum=len(self.labels))
        if method == self.METHODS[0]:
            if latent != 2:
                raise ValueError("Only 2-D codes can be drawn directly: pick latent size 2, "
                                 "or t-SNE for larger codes")
            positions = {name: c[:n_points] for name, c in self.codes[2].items()}
        else:
            check_int(f"perplexity (below the number of points, {n_points})", perplexity,
                      minimum=1, maximum=n_points - 1)
            positions = {name: self._tsne(name, latent, perplexity, n_points)
                         for name in ("PCA", "autoencoder")}
        return dict(positions, labels=self.labels[:n_points])

    def show(self, method: str, latent: int, perplexity: int, n_points: int) -> None:
        started = time.perf_counter()
        result = self.compute(method, latent, perplexity, n_points)
        how = f"{latent}-D codes" if method == self.METHODS[0] else \
            f"t-SNE of {latent}-D codes (perplexity {perplexity})"
        for ax, scatter, name in zip(self.axes, self.scatters, ("PCA", "autoencoder")):
            xy = result[name]
            scatter.set_offsets(xy)
            scatter.set_array(result["labels"])
            pad = 0.05 * (xy.max(axis=0) - xy.min(axis=0) + 1e-9)
            ax.set_xlim(xy[:, 0].min() - pad[0], xy[:, 0].max() + pad[0])
            ax.set_ylim(xy[:, 1].min() - pad[1], xy[:, 1].max() + pad[1])
            ax.set_title(f"{name}\n{how}, {n_points} test images")
            label = "t-SNE" if method != self.METHODS[0] else ("PC" if name == "PCA" else "z")
            ax.set_xlabel(f"{label} 1"), ax.set_ylabel(f"{label} 2")
        self.picture.value = figure_to_png(self.fig)
        self.status.value = f"<small>drawn in {time.perf_counter() - started:.1f} s</small>"

    def _tsne(self, name: str, latent: int, perplexity: int, n_points: int) -> np.ndarray:
        from sklearn.manifold import TSNE
        key = (name, latent, perplexity, n_points)
        if key not in self._tsne_cache:
            self._tsne_cache[key] = TSNE(n_components=2, perplexity=perplexity, init="pca",
                                         random_state=self.seed).fit_transform(
                self.codes[latent][name][:n_points])
        return self._tsne_cache[key]

    def update(self, _change=None) -> None:
        direct = self.method.value == self.METHODS[0]
        self.perplexity.disabled = direct
        self.latent.disabled = direct
        if direct and self.latent.value != 2:
            self.latent.value = 2              # triggers this method again, with latent 2
            return
        if not direct:
            self.status.value = "<small>computing t-SNE ...</small>"
        super().update()

