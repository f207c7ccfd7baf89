"""What every widget of the course shares: controls, a picture, and one callback.

A widget builds its controls (ipywidgets sliders, dropdowns, ...) and a matplotlib figure, then
calls `self.start(controls, rows)`, which lays out `rows` (by default the controls, one a line)
above the picture, makes every control call `update` when its value changes, and draws the
first picture. So every widget has, for code, tests and the site build alike:

    widget.controls   {name: control}, in the order `show` takes their values
    widget.picture    the ipywidgets.Image that shows the figure (a PNG)
    widget.show(...)  compute for these values and draw; the controls call it through `update`,
                      tests call it directly
    widget.last       what the last `show` computed (when the widget keeps it)
    widget.web_parts() only the widgets the website runs live (the latent explorers here, the
                      drawing views): what the page needs, for website/export.py; the others
                      are played back there from their `controls` and `picture`

Each control is also an attribute of its own name (`explorer.z1`, `browser.page`).
"""
from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch

from ..drawing import PIXEL_RANGE
from ..models import device_of
from ..plots import FastRedraw


class Widget(widgets.VBox):
    """Base of the course's widgets: see the module's docstring."""

    last = None

    def start(self, controls: dict, rows: list | None = None) -> None:
        """Lay out `rows` (default: the controls) above a new `picture`, wire every control to
        `update`, and draw the first picture."""
        self.controls = dict(controls)
        self.picture = widgets.Image(format="png")
        for control in self.controls.values():
            control.observe(self.update, names="value")
        super().__init__(self.arrange(list(self.controls.values()) if rows is None else rows))
        self.update()

    def arrange(self, rows: list) -> list:
        """The widget's children: `rows` above the picture. A widget may place them otherwise."""
        return [*rows, self.picture]

    def update(self, _change=None) -> None:
        """Show the controls' current values: what every control calls when it moves."""
        self.show(*(control.value for control in self.controls.values()))

    def show(self, *values) -> None:
        raise NotImplementedError("a widget draws its picture in show()")


class LatentSliders(Widget):
    """What the latent explorers of notebooks 01 and 06 share: sliders z1 and z2, the decoder's
    image of the code z = (z1, z2), and a cross at z on a scatter of codes, redrawn fast. A
    subclass sets self.model, self.z1 and self.z2, draws its codes, then calls
    self.start_sliders(...) with its figure."""

    caption_format = "decoded z = ({:.2f}, {:.2f})"
    last_image = None

    def start_sliders(self, fig, ax_codes, ax_image, start) -> None:
        """Put the cross at `start` on ax_codes and the decoded image on ax_image, wire the
        sliders and draw the first picture."""
        self.marker = ax_codes.scatter([start[0]], [start[1]], marker="X", s=140, c="black",
                                       edgecolors="white", linewidths=1.2, zorder=3, clip_on=False)
        self.image = ax_image.imshow(np.zeros((28, 28)), vmin=0, vmax=1, cmap="gray")
        ax_image.set_xticks([]), ax_image.set_yticks([])
        self.caption = ax_image.set_title(self.caption_format.format(*start))   # room for it
        fig.tight_layout()
        self.redraw = FastRedraw(fig, [self.marker, self.image, self.caption])
        self.start({"z1": self.z1, "z2": self.z2}, [widgets.HBox([self.z1, self.z2])])

    @torch.no_grad()
    def decode(self, z1: float, z2: float) -> np.ndarray:
        """The decoder's image (28x28, values in [0, 1]) of the code (z1, z2)."""
        _check_finite(z1, z2)
        z = torch.tensor([[z1, z2]], dtype=torch.float32, device=device_of(self.model))
        return self.model.decode(z).reshape(28, 28).clamp(*PIXEL_RANGE).cpu().numpy()

    def web_parts(self) -> dict:
        """What the website's copy of this explorer needs (website/export.py, which runs the
        decoder in the page): the decoder, the sliders, the figure's moving parts and the
        caption's template."""
        return dict(networks={"decoder": self.model.decoder}, sliders=[self.z1, self.z2],
                    images={"digit": self.image}, texts={"caption": self.caption},
                    templates={"caption": self.caption_format}, axes=self.marker.axes,
                    marker=self.marker)

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


def _check_finite(z1, z2) -> None:
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
               for v in (z1, z2)):
        raise ValueError(f"z1 and z2 must be finite numbers, got {z1!r} and {z2!r}")


def half_width_slider(name: str, value: float, low: float, high: float, step: float) -> widgets.FloatSlider:
    """A FloatSlider half the widget's width (two side by side), updating as it moves."""
    return widgets.FloatSlider(value=value, min=low, max=high, step=step, description=name,
                               readout_format=".2f", continuous_update=True,
                               layout=widgets.Layout(width="48%"))
