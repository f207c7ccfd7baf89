"""Widgets of notebook 01: the latent explorer and the PCA-versus-autoencoder comparison."""
from __future__ import annotations

import math
import time

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..errors import check_choice, check_int
from ..evaluate import PCACodec
from ..models import encode_all
from ..plots import FastRedraw, code_scatter, figure_to_png


class DecoderSliders(widgets.VBox):
    """What the latent explorers share: sliders z1 and z2, the decoder's image of the code
    z = (z1, z2), and a cross at z on a scatter of codes, redrawn fast. A subclass builds its
    figure and sets self.model, self.z1, self.z2, self.marker, self.image, self.caption,
    self.redraw (a plots.FastRedraw) and self.picture (an ipywidgets.Image)."""

    caption_format = "decoded z = ({:.2f}, {:.2f})"

    @torch.no_grad()
    def decode(self, z1: float, z2: float) -> np.ndarray:
        """The decoder's image (28x28, values in [0, 1]) of the code (z1, z2)."""
        _check_finite(z1, z2)
        device = next(self.model.parameters()).device
        z = torch.tensor([[z1, z2]], dtype=torch.float32, device=device)
        return self.model.decode(z).reshape(28, 28).clamp(0, 1).cpu().numpy()

    def show(self, z1: float, z2: float) -> None:
        """Decode (z1, z2), clamped to the sliders' range, and update the picture."""
        _check_finite(z1, z2)
        z1 = min(max(z1, self.z1.min), self.z1.max)
        z2 = min(max(z2, self.z2.min), self.z2.max)
        self.last_image = self.decode(z1, z2)
        self.image.set_data(self.last_image)
        self.marker.set_offsets([[z1, z2]])
        self.caption.set_text(self.caption_format.format(z1, z2))
        self.picture.value = self.redraw.png()

    def _on_slider(self, _change) -> None:
        self.show(self.z1.value, self.z2.value)


class LatentExplorer(DecoderSliders):
    """Sliders for z1 and z2 -> the decoder's image of that code, live, with the point
    marked on the scatter of the codes of real digits."""

    def __init__(self, model: torch.nn.Module, codes, labels, class_names=None,
                 steps: int = 100):
        codes = _np(codes)
        if codes.ndim != 2 or codes.shape[1] != 2:
            raise ValueError(f"The latent explorer needs 2-D codes, got shape {codes.shape}")
        self.model = model.eval()
        low, high = codes.min(axis=0), codes.max(axis=0)
        margin = 0.05 * (high - low)
        start = np.median(codes, axis=0)
        self.z1, self.z2 = (
            widgets.FloatSlider(value=float(start[i]), min=float(low[i] - margin[i]),
                                max=float(high[i] + margin[i]), step=float((high[i] - low[i]) / steps),
                                description=name, readout_format=".2f", continuous_update=True,
                                layout=widgets.Layout(width="48%"))
            for i, name in enumerate(["z1", "z2"]))

        fig = Figure(figsize=(8.6, 3.6))
        ax_codes, ax_image = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1]})
        code_scatter(ax_codes, codes, labels, class_names, s=3)
        ax_codes.set_xlim(self.z1.min, self.z1.max)   # the whole slider range is visible
        ax_codes.set_ylim(self.z2.min, self.z2.max)
        ax_codes.set_title("codes of training digits; X marks z")
        self.marker = ax_codes.scatter([start[0]], [start[1]], marker="X", s=140, c="black",
                                       edgecolors="white", linewidths=1.2, zorder=3,
                                       clip_on=False)
        self.image = ax_image.imshow(np.zeros((28, 28)), vmin=0, vmax=1, cmap="gray")
        ax_image.set_xticks([]), ax_image.set_yticks([])
        self.caption = ax_image.set_title(" ")
        fig.tight_layout()
        self.redraw = FastRedraw(fig, [self.marker, self.image, self.caption])
        self.picture = widgets.Image(format="png")
        self.last_image = None

        self.z1.observe(self._on_slider, names="value")
        self.z2.observe(self._on_slider, names="value")
        super().__init__([widgets.HBox([self.z1, self.z2]), self.picture])
        self.show(self.z1.value, self.z2.value)


class EmbeddingComparison(widgets.VBox):
    """PCA codes next to autoencoder codes of the same held-out images: drawn directly when
    the code is 2-D, or through t-SNE for larger codes. Controls: method, latent size,
    perplexity (t-SNE's effective number of neighbours) and number of points."""

    METHODS = ("2-D codes", "t-SNE of the codes")

    def __init__(self, x_train, x_test, y_test, autoencoders: dict, class_names=None,
                 max_points: int = 2000, seed: int = 0):
        if 2 not in autoencoders:
            raise ValueError("EmbeddingComparison needs a 2-D autoencoder (key 2) among `autoencoders`")
        max_points = min(max_points, len(x_test))
        self.labels = _np(y_test[:max_points])
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
        self.picture = widgets.Image(format="png")
        for control in (self.method, self.latent, self.perplexity, self.points):
            control.observe(self._on_control, names="value")
        super().__init__([widgets.HBox([self.method, self.latent]),
                          widgets.HBox([self.perplexity, self.points]), self.status, self.picture])
        self._on_control(None)

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

    def _on_control(self, _change) -> None:
        direct = self.method.value == self.METHODS[0]
        self.perplexity.disabled = direct
        self.latent.disabled = direct
        if direct and self.latent.value != 2:
            self.latent.value = 2              # triggers this method again, with latent 2
            return
        if not direct:
            self.status.value = "<small>computing t-SNE ...</small>"
        self.show(self.method.value, self.latent.value, self.perplexity.value, self.points.value)


def _check_finite(z1, z2) -> None:
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
               for v in (z1, z2)):
        raise ValueError(f"z1 and z2 must be finite numbers, got {z1!r} and {z2!r}")


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
