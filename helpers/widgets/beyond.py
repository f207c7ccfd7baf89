"""Widgets of notebook 09: the conditional VAE explorer (a class picker and two latent sliders)
and the walk between two digits (the drawing pad, a path through the codes of a plain
autoencoder and of a VAE, and a slider along it)."""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..classifier import class_probabilities
from ..errors import check_choice, is_one_of
from ..latent import PATHS, interpolate
from ..models import decode_all, device_of, encode_all
from ..plots import FastRedraw
from ..tensors import to_numpy
from .base import Widget, _check_finite, half_width_slider
from .drawing import DrawnDigitView, _as_row, _image_axes


class ConditionalExplorer(Widget):
    """Ask a conditional VAE for a class: pick the class and the code z = (z1, z2). Left, the
    decoder's drawings of that class over a grid of codes, with a cross at z; middle, the
    drawing at z, large; below, the same z decoded with every class's label: the code holds the
    style, the label the identity. Its words are the format templates in TEXTS (the website's
    copy fills them in too)."""

    TEXTS = {"grid": "class '{name}': the decoder over z", "image": "class '{name}'\nz = ({z1:.2f}, {z2:.2f})"}

    def __init__(self, cvae, class_names=None, label: int = 0, limit: float = 2.5,
                 grid: int = 9):
        self.model = cvae.eval()
        self.class_names = list(class_names or [str(i) for i in range(10)])
        self.limit, self.n_grid = limit, grid
        self._grids: dict = {}
        self.label = widgets.Dropdown(options=[(name, i) for i, name in enumerate(self.class_names)],
                                      value=label, description="class")
        self.z1, self.z2 = (half_width_slider(name, 0.0, -limit, limit, 0.05) for name in ("z1", "z2"))
        fig = Figure(figsize=(10, 5.2))
        ax_grid = fig.add_axes([0.05, 0.35, 0.4, 0.57])
        self.grid_image = ax_grid.imshow(np.zeros((grid * 28, grid * 28)), vmin=0, vmax=1, cmap="gray",
                                         extent=(-limit, limit, -limit, limit))
        ax_grid.set_xlabel("$z_1$"), ax_grid.set_ylabel("$z_2$")
        self.grid_title = ax_grid.set_title(" ")
        self.marker = ax_grid.scatter([0], [0], marker="X", s=140, c="red", edgecolors="white",
                                      linewidths=1.2, zorder=3, clip_on=False)
        ax_big = fig.add_axes([0.52, 0.38, 0.22, 0.5])
        self.big = ax_big.imshow(np.zeros((28, 28)), vmin=0, vmax=1, cmap="gray")
        ax_big.set_xticks([]), ax_big.set_yticks([])
        self.big_title = ax_big.set_title(" \n ")
        fig.text(0.78, 0.8, "the decoder is told\nthe class; the code z\nis left to say how\n"
                            "it is drawn", fontsize=9, va="top")
        row_grid = fig.add_gridspec(1, 10, left=0.05, right=0.98, bottom=0.02, top=0.15, wspace=0.08)
        self.row, self.row_titles = _image_axes(fig, list(row_grid), self.class_names)
        fig.text(0.05, 0.215, "the same z with each class's label:", fontsize=9)
        self.redraw = FastRedraw(fig, [self.grid_image, self.grid_title, self.marker, self.big,
                                       self.big_title, *self.row, *self.row_titles])
        self.start(dict(label=self.label, z1=self.z1, z2=self.z2),
                   [self.label, widgets.HBox([self.z1, self.z2])])

    @torch.no_grad()
    def decode(self, labels, z) -> np.ndarray:
        """Images (N, 28, 28) the decoder draws for labels (N,) and codes z (N, 2)."""
        device = device_of(self.model)
        y = torch.as_tensor(labels).long().reshape(-1)
        z = torch.as_tensor(z, dtype=torch.float32).reshape(-1, 2)
        return self.model.decode(z.to(device), y.to(device)).cpu().reshape(-1, 28, 28).numpy()

    def grid(self, label: int) -> np.ndarray:
        """The class's drawings over an n x n grid of codes in [-limit, limit]^2, as one image
        (z2 grows upwards, as on the axes)."""
        if label not in self._grids:
            n, values = self.n_grid, np.linspace(-self.limit, self.limit, self.n_grid)
            z = np.array([[a, b] for b in values[::-1] for a in values])
            images = self.decode(np.full(len(z), label), z).reshape(n, n, 28, 28)
            self._grids[label] = images.transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
        return self._grids[label]

    def compute(self, label: int, z1: float, z2: float) -> dict:
        """{"grid": the class over the grid, "image": (28, 28) at z, "row": (10, 28, 28), the
        same z with every label}."""
        if not is_one_of(label, range(len(self.class_names))):
            raise ValueError(f"label must be a class number 0-{len(self.class_names) - 1}, got {label!r}")
        _check_finite(z1, z2)
        row = self.decode(np.arange(len(self.class_names)), np.tile([z1, z2], (len(self.class_names), 1)))
        return dict(grid=self.grid(label), image=row[label], row=row, label=label, z=(z1, z2))

    def show(self, label: int, z1: float, z2: float) -> None:
        self.last = result = self.compute(label, z1, z2)
        name = self.class_names[label]
        self.grid_image.set_data(result["grid"])
        self.grid_title.set_text(self.TEXTS["grid"].format(name=name))
        self.marker.set_offsets([[z1, z2]])
        self.big.set_data(result["image"])
        self.big_title.set_text(self.TEXTS["image"].format(name=name, z1=z1, z2=z2))
        for i, (artist, image) in enumerate(zip(self.row, result["row"])):
            artist.set_data(image)
            self.row_titles[i].set_color("red" if i == label else "black")
        self.picture.value = self.redraw.png()


class DrawnWalk(DrawnDigitView):
    """Walk from your digit (the drawing pad) to another (a held-out digit, or a drawing you
    kept) through the codes of a plain autoencoder and of a VAE, along a straight line or an arc
    (helpers.latent.path). Rows: the two decoders' drawings along each path, with the judge's
    confidence; right: that confidence along the whole path, and both drawings at the slider's t.

    ends: {name: 28x28 image} the walk may go to, e.g. one held-out digit of each class.
    Its words are the format templates in TEXTS (the website's copy fills them in too)."""

    STRIP = 9          # drawings shown along each path
    CURVE = 33         # points of the confidence curves
    MODELS = ("plain AE", "VAE")
    TEXTS = {"text": "judge: {name} ({confidence:.0%} confident) on your digit; {kind} walk to {to}: "
                     "the judge's mean confidence along the path, plain AE {ae:.2f}, VAE {vae:.2f}",
             "strip": "{confidence:.2f}", "strip_empty": " ",
             "at_t": "{model} at t\n{name} ({confidence:.0%})", "at_t_empty": " \n "}

    def __init__(self, ae, vae, judge, ends: dict, class_names=None, to: str | None = None,
                 kind: str = "linear", t: float = 0.5):
        if not ends:
            raise ValueError("DrawnWalk needs at least one digit to walk to")
        check_choice("kind", kind, PATHS)
        self.ae, self.vae, self.judge = ae.eval(), vae.eval(), judge.eval()
        self.ends = {name: to_numpy(image).reshape(28, 28) for name, image in ends.items()}
        self.class_names = list(class_names or [str(i) for i in range(10)])
        self.to = widgets.Dropdown(options=list(self.ends), value=to or list(self.ends)[0],
                                   description="walk to")
        self.kind = widgets.ToggleButtons(options=PATHS, value=kind, description="path")
        self.t = widgets.FloatSlider(value=t, min=0.0, max=1.0, step=0.05, description="t",
                                     readout_format=".2f", continuous_update=True)
        self.keep_button = widgets.Button(description="keep as an end", icon="thumb-tack",
                                          layout=widgets.Layout(width="150px"),
                                          tooltip="keep the pad's digit in the 'walk to' list")
        self.keep_button.on_click(lambda _: self.keep())
        self.kept = 0
        self.start_view(dict(to=self.to, kind=self.kind, t=self.t))

    def arrange(self, rows: list) -> list:
        """As the other drawing views, with the keep button beside the 'walk to' list."""
        rows = [widgets.HBox([self.to, self.keep_button]), *rows[1:]]
        return super().arrange(rows)

    def keep(self) -> str | None:
        """Add the pad's digit to the ends the walk can go to, and walk to it. Returns its name."""
        if self.pad.digit is None:
            self.result.value = "draw a digit first, then keep it"
            return None
        self.kept += 1
        name = f"your drawing {self.kept}"
        self.ends[name] = np.array(self.pad.digit, dtype=np.float32).reshape(28, 28)
        self.to.options = list(self.ends)
        self.to.value = name
        return name

    def _build(self) -> None:
        fig = Figure(figsize=(9.4, 3.6))
        strip = fig.add_gridspec(2, self.STRIP, left=0.09, right=0.6, bottom=0.1, top=0.8,
                                 hspace=0.6, wspace=0.08)
        self.strips, self.strip_titles = [], []
        for r, name in enumerate(self.MODELS):
            images, titles = _image_axes(fig, [strip[r, i] for i in range(self.STRIP)],
                                         [self.TEXTS["strip_empty"]] * self.STRIP)
            images[0].axes.set_ylabel(name, rotation=0, ha="right", va="center")
            self.strips.append(images), self.strip_titles.append(titles)
        fig.text(0.09, 0.93, "from your digit (left) to the end you pick (right); above each drawing, "
                             "the judge's confidence", fontsize=9)
        ax = fig.add_axes([0.69, 0.58, 0.29, 0.3])
        t = np.linspace(0, 1, self.CURVE)
        self.curves = [ax.plot(t, np.zeros_like(t), color=colour, label=name)[0]
                       for colour, name in (("C0", "plain AE"), ("C3", "VAE"))]
        self.cursor = ax.axvline(0.5, color="black", lw=1)
        ax.set_xlim(0, 1), ax.set_ylim(0, 1.02), ax.set_xlabel("t (along the path)", labelpad=1)
        ax.set_ylabel("judge's\nconfidence"), ax.legend(loc="lower left", fontsize=7)
        at_t = fig.add_gridspec(1, 2, left=0.72, right=0.96, bottom=0.04, top=0.34, wspace=0.3)
        self.at_t, self.at_t_titles = _image_axes(fig, list(at_t), [self.TEXTS["at_t_empty"]] * 2)
        self.redraw = FastRedraw(fig, [*self.strips[0], *self.strips[1], *self.strip_titles[0],
                                       *self.strip_titles[1], *self.curves, self.cursor, *self.at_t,
                                       *self.at_t_titles])

    @torch.no_grad()
    def compute(self, digit, to: str | None = None, kind: str | None = None,
                t: float | None = None) -> dict:
        """The walk from `digit` to the end `to` along a `kind` path, and the drawings at t.
        {"strip": {"plain AE", "VAE": (STRIP, 28, 28)}, "strip confidence", "curve": the
        judge's confidence at CURVE points, "at t": drawings at t, "guess", "confidence" (the
        judge on your digit), "mean confidence" (along each path, ends left out), "text"}."""
        to = self.to.value if to is None else to
        kind = self.kind.value if kind is None else kind
        t = self.t.value if t is None else t
        if to not in self.ends:
            raise ValueError(f"to must be one of {list(self.ends)}, got {to!r}")
        check_choice("kind", kind, PATHS)
        _check_finite(t, 0.0)
        t = min(max(float(t), 0.0), 1.0)
        x = torch.cat([_as_row(digit), _as_row(self.ends[to])])
        codes = {"plain AE": encode_all(self.ae, x), "VAE": encode_all(self.vae, x)[0]}
        out = dict(digit=x[0].reshape(28, 28).numpy(), strip={}, strip_confidence={}, curve={},
                   at_t={}, at_t_guess={}, mean_confidence={}, to=to, kind=kind, t=t)
        for name, model in zip(self.MODELS, (self.ae, self.vae)):
            z0, z1 = codes[name]
            where = torch.cat([torch.linspace(0, 1, self.CURVE), torch.linspace(0, 1, self.STRIP),
                               torch.tensor([t])])                  # the curve, the strip, t
            images = decode_all(model, interpolate(z0, z1, where, kind))
            probabilities = class_probabilities(self.judge, images)
            confidence = probabilities.max(dim=1).values.numpy()
            out["curve"][name] = confidence[:self.CURVE]
            out["strip"][name] = images[self.CURVE:-1].reshape(-1, 28, 28).numpy()
            out["strip_confidence"][name] = confidence[self.CURVE:-1]
            out["at_t"][name] = images[-1].reshape(28, 28).numpy()
            out["at_t_guess"][name] = (int(probabilities[-1].argmax()), float(confidence[-1]))
            out["mean_confidence"][name] = float(confidence[1:self.CURVE - 1].mean())
        probabilities = class_probabilities(self.judge, x[:1])[0]
        out["guess"] = int(probabilities.argmax())
        out["confidence"] = float(probabilities[out["guess"]])
        m = out["mean_confidence"]
        out["text"] = self.TEXTS["text"].format(name=self.class_names[out["guess"]], confidence=out["confidence"],
                                                kind=kind, to=to, ae=m["plain AE"], vae=m["VAE"])
        return out

    def _draw(self, result) -> None:
        artists = [*self.strips[0], *self.strips[1], *self.at_t]
        self.cursor.set_visible(result is not None)
        if result is None:
            for artist in artists:
                artist.set_data(np.zeros((28, 28)))
            for title in [*self.strip_titles[0], *self.strip_titles[1]]:
                title.set_text(self.TEXTS["strip_empty"])
            for curve in self.curves:
                curve.set_ydata(np.zeros(self.CURVE))
            for title in self.at_t_titles:
                title.set_text(self.TEXTS["at_t_empty"])
            return
        for r, name in enumerate(self.MODELS):
            for artist, title, image, confidence in zip(self.strips[r], self.strip_titles[r],
                                                        result["strip"][name],
                                                        result["strip_confidence"][name]):
                artist.set_data(image)
                title.set_text(self.TEXTS["strip"].format(confidence=confidence))
            self.curves[r].set_ydata(result["curve"][name])
            self.at_t[r].set_data(result["at_t"][name])
            guess, confidence = result["at_t_guess"][name]
            self.at_t_titles[r].set_text(self.TEXTS["at_t"].format(model=name, name=self.class_names[guess],
                                                                   confidence=confidence))
        self.cursor.set_xdata([result["t"], result["t"]])

