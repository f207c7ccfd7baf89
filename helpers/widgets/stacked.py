"""Widgets of notebook 05: the stage viewer and the label-budget control."""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..errors import check_int
from ..losses import mse_per_pixel
from ..models import device_of
from ..plots import draw_stage_diagram, figure_to_png
from .base import Widget


class StageViewer(Widget):
    """Stage 1..N of greedy training -> the network diagram (trainable red, frozen black) and
    held-out digits passed up through layers 1..k and back down through decoders k..1."""

    def __init__(self, stages: list, x_test: torch.Tensor, n_digits: int = 6):
        if not stages:
            raise ValueError("StageViewer needs the stack after each stage")
        self.stages = [m.eval() for m in stages]
        self.sizes = self.stages[0].sizes
        self.x = x_test[:n_digits].detach().cpu()
        self.stage = widgets.IntSlider(value=1, min=1, max=len(stages), description="stage",
                                       continuous_update=False)
        self.fig = Figure(figsize=(11, 3.6))
        self.diagram_ax, self.image_ax = self.fig.subplots(
            1, 2, gridspec_kw={"width_ratios": [1.35, 1]})
        self.image = self.image_ax.imshow(np.zeros((56, 28 * n_digits)), vmin=0, vmax=1, cmap="gray")
        self.image_ax.set_xticks([]), self.image_ax.set_yticks([14, 42], ["input", "rebuilt"])
        self.start(dict(stage=self.stage))

    @torch.no_grad()
    def compute(self, stage: int) -> dict:
        check_int("stage", stage, minimum=1, maximum=len(self.stages))
        model = self.stages[stage - 1]
        rebuilt = model.reconstruct(self.x.to(device_of(model)), stage).cpu()
        mosaic = torch.cat([torch.cat(list(self.x.reshape(-1, 28, 28)), dim=1),
                            torch.cat(list(rebuilt.reshape(-1, 28, 28)), dim=1)])
        return dict(stage=stage, mosaic=mosaic.numpy(), mse=mse_per_pixel(rebuilt, self.x).item())

    def show(self, stage: int) -> None:
        r = self.last = self.compute(stage)
        r["layers"] = draw_stage_diagram(self.diagram_ax, self.sizes, stage)
        self.image.set_data(r["mosaic"])
        path = f"up through layers 1-{stage}, down through decoders {stage}-1" if stage > 1 \
            else "layer 1, then decoder 1"
        self.image_ax.set_title(f"after stage {stage}: {path}\n"
                                f"MSE {r['mse']:.4f} per pixel (mean over pixels and these digits)",
                                fontsize=8)
        self.fig.tight_layout()
        self.picture.value = figure_to_png(self.fig)


class LabelBudgetControl(Widget):
    """Labels per class -> test accuracy of the pretrained-then-fine-tuned classifier against
    the same network trained from a random start, one dot per seed."""

    def __init__(self, table: dict):
        self.table = table
        self.budgets = list(table["budgets"])
        self.budget = widgets.ToggleButtons(options=self.budgets, value=self.budgets[0],
                                            description="labels/class")
        self.readout = widgets.HTML()
        self.fig = Figure(figsize=(10, 3.4))
        self.curve_ax, self.bar_ax = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1]})
        for i, key in enumerate(("pretrained", "random")):
            acc = np.asarray(table[key])
            self.curve_ax.plot(self.budgets, acc.mean(axis=1), "o-", color=f"C{i}",
                               label=f"{key} (mean of {acc.shape[1]} seeds)")
            for b, row in zip(self.budgets, acc):
                self.curve_ax.scatter([b] * len(row), row, s=10, color=f"C{i}", alpha=0.5)
        self.curve_ax.set_xscale("log")
        self.curve_ax.set_xticks(self.budgets, [str(b) for b in self.budgets])
        self.curve_ax.set_xlabel("labelled training examples per class")
        self.curve_ax.set_ylabel("test accuracy")
        self.curve_ax.set_title("accuracy against label budget")
        self.curve_ax.legend(loc="lower right")
        self.cursor = self.curve_ax.axvline(self.budgets[0], color="0.6", ls=":")
        self.start(dict(budget=self.budget), [self.budget, self.readout])

    def compute(self, per_class: int) -> dict:
        if per_class not in self.budgets:
            raise ValueError(f"labels per class must be one of {self.budgets}, got {per_class!r}")
        i = self.budgets.index(per_class)
        pre, rnd = np.asarray(self.table["pretrained"][i]), np.asarray(self.table["random"][i])
        return dict(per_class=per_class, pretrained=pre, random=rnd,
                    gain=float(pre.mean() - rnd.mean()))

    def show(self, per_class: int) -> None:
        r = self.last = self.compute(per_class)
        self.cursor.set_xdata([per_class, per_class])
        ax = self.bar_ax
        ax.clear()
        for i, key in enumerate(("pretrained", "random")):
            ax.bar(i, r[key].mean(), color=f"C{i}", alpha=0.7)
            ax.scatter([i] * len(r[key]), r[key], color="black", s=12, zorder=3)
        ax.set_xticks([0, 1], ["pretrained +\nfine-tuned", "random\ninitialisation"])
        ax.set_xlabel("starting weights")
        ax.set_ylim(0, 1), ax.set_ylabel("test accuracy")
        ax.set_title(f"{per_class} labels per class: gain {100 * r['gain']:+.1f} points")
        self.fig.tight_layout()
        self.picture.value = figure_to_png(self.fig)
        self.readout.value = (f"{per_class} labels per class ({10 * per_class} labelled images): "
                              f"pretrained <b>{r['pretrained'].mean():.1%}</b>, random start "
                              f"<b>{r['random'].mean():.1%}</b> (mean over seeds; dots = seeds)")
