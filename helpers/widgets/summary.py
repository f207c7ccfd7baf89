"""Widget of notebook 08: any two models of the series side by side."""
from __future__ import annotations

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from ..corruption import check_noise, masking_noise
from ..errors import is_one_of
from ..losses import mse_per_pixel
from ..plots import FastRedraw, image_rows
from .base import Widget


class ModelComparison(Widget):
    """Two dropdowns pick two models of the series, a slider sets how many pixels of the input
    are masked (set to 0). Shows the clean digits, the masked input, each model's reconstruction
    of it with its MSE per pixel against the clean digits, and each model's samples.

    models:  the `series.SeriesModel`s to choose from
    images:  (n, 784) held-out digits
    samples: {model name: (>= n, 784) decoded random codes}, e.g. from series.measure"""

    ROWS = ["clean $x$", "masked input", "A: $\\hat{x}$", "B: $\\hat{x}$", "A: samples", "B: samples"]

    def __init__(self, models: list, images, samples: dict, n: int = 8, seed: int = 0,
                 first: str | None = None, second: str | None = None, level: float = 0.3):
        images = torch.as_tensor(images, dtype=torch.float32)[:n]
        if images.ndim != 2 or images.shape[1] != 784 or len(images) == 0:
            raise ValueError(f"images must have shape (n, 784), got {tuple(images.shape)}")
        self.models = {m.name: m for m in models}
        if len(self.models) < 2:
            raise ValueError("need at least two models to compare")
        missing = [name for name in self.models if name not in samples or len(samples[name]) < len(images)]
        if missing:
            raise ValueError(f"no (or too few) samples for {', '.join(missing)}")
        self.images, self.samples, self.seed = images, samples, seed
        names = list(self.models)
        self.first = widgets.Dropdown(options=names, value=first or names[0], description="model A")
        self.second = widgets.Dropdown(options=names, value=second or names[-1], description="model B")
        self.level = widgets.FloatSlider(value=level, min=0.0, max=0.9, step=0.05, readout_format=".2f",
                                         description="masked", continuous_update=True)

        n = len(images)
        fig = Figure(figsize=(0.95 * n + 1.6, 7.0))
        self.artists = image_rows(fig, self.ROWS, n)
        for c in range(n):
            self.artists[0][c].set_data(images[c].reshape(28, 28).numpy())
        self.title = fig.suptitle(" ")
        fig.tight_layout(rect=(0, 0, 1, 0.92))
        self.redraw = FastRedraw(fig, [a for row in self.artists[1:] for a in row] + [self.title])
        self.start(dict(first=self.first, second=self.second, level=self.level),
                   [widgets.HBox([self.first, self.second]), self.level])

    def compute(self, first: str, second: str, level: float) -> dict:
        """{"masked", "A", "B": (n, 784) tensors, "errors": {"masked", "A", "B": MSE per pixel
        against the clean digits}}. The mask is seeded: the same level gives the same input."""
        for name in (first, second):
            if not is_one_of(name, self.models):
                raise ValueError(f"unknown model {name!r}; choose one of {list(self.models)}")
        check_noise("masking", level)
        masked = masking_noise(self.images, level, torch.Generator().manual_seed(self.seed))
        out = {"masked": masked, "A": self.models[first].reconstruct(masked),
               "B": self.models[second].reconstruct(masked)}
        out["errors"] = {key: mse_per_pixel(out[key], self.images).item() for key in ("masked", "A", "B")}
        return out

    def show(self, first: str, second: str, level: float) -> None:
        self.last = self.compute(first, second, level)
        rows = [self.last["masked"], self.last["A"], self.last["B"],
                self.samples[first], self.samples[second]]
        for artists, images in zip(self.artists[1:], rows):
            for c, artist in enumerate(artists):
                artist.set_data(images[c].reshape(28, 28).clamp(0, 1).numpy())
        e = self.last["errors"]
        self.title.set_text(f"A = {first}, B = {second}; {level:.0%} of pixels masked\n"
                            f"MSE per pixel against the clean digits: input {e['masked']:.4f}, "
                            f"A {e['A']:.4f}, B {e['B']:.4f}")
        self.picture.value = self.redraw.png()
