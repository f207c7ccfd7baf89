"""Widgets of notebook 05: the stage viewer and the label-budget control."""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..errors import check_int
from ..plots import figure_to_png

TRAINABLE, FROZEN = "tab:red", "black"


def nodes_for(size: int) -> int:
    """How many circles stand for a layer of `size` units in a diagram (grows slowly)."""
    return int(np.clip(round(np.log2(size)) - 2, 2, 8))


def draw_stage_diagram(ax, sizes: list[int], stage: int | str) -> dict:
    """Draw the network used at greedy `stage` (1..len(sizes)-1), or stage "fine-tune": layers
    as columns of nodes, weights as lines, red = trainable, black = frozen.
    Returns {"trainable": [...], "frozen": [...]}: the names of the weight layers drawn."""
    n_stages = len(sizes) - 1
    fine_tune = stage == "fine-tune"
    if not fine_tune and not (isinstance(stage, (int, np.integer)) and not isinstance(stage, bool)
                              and 1 <= stage <= n_stages):
        raise ValueError(f"stage must be 1..{n_stages} or 'fine-tune', got {stage!r}")
    ax.clear()
    k = n_stages if fine_tune else int(stage)
    names = ["x"] + [f"$h_{i}$" for i in range(1, k + 1)]
    columns = [(f"{n}\n({s})", s) for n, s in zip(names, sizes[:k + 1])]
    if fine_tune:
        columns.append(("class\nscores (10)", 10))
    else:   # decoder k rebuilds level k-1
        target = "$\\hat{x}$" if k == 1 else f"$\\hat h_{{{k - 1}}}$"
        columns.append((f"{target}\n({sizes[k - 1]})", sizes[k - 1]))
    layers = {"trainable": [], "frozen": []}
    positions = []
    for c, (_, size) in enumerate(columns):
        n = nodes_for(size)
        positions.append([(c, y) for y in np.linspace(-(n - 1) / 2, (n - 1) / 2, n)])
    for c in range(len(columns) - 1):
        last = c == len(columns) - 2
        trainable = fine_tune or c >= k - 1          # layer k and decoder k learn at stage k
        if fine_tune:
            name = "head" if last else f"layer {c + 1}"
        else:
            name = f"decoder {k}" if last else f"layer {c + 1}"
        layers["trainable" if trainable else "frozen"].append(name)
        colour, width = (TRAINABLE, 1.1) if trainable else (FROZEN, 0.6)
        for x0, y0 in positions[c]:
            for x1, y1 in positions[c + 1]:
                ax.plot([x0, x1], [y0, y1], color=colour, lw=width, alpha=0.8, zorder=1)
        ax.text(c + 0.5, 4.6, name, ha="center", fontsize=7, color=colour)
    for c, ((label, _), column) in enumerate(zip(columns, positions)):
        xs, ys = zip(*column)
        ax.scatter(xs, ys, s=90, c="white", edgecolors="0.3", zorder=2)
        ax.text(c, -4.9, label, ha="center", va="top", fontsize=8)
    ax.set_xlim(-0.6, len(columns) - 0.4), ax.set_ylim(-8.2, 5.2)
    ax.set_axis_off()
    ax.legend(handles=[Line2D([], [], color=TRAINABLE, label="trainable"),
                       Line2D([], [], color=FROZEN, label="frozen")],
              loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=2)
    what = "supervised fine-tuning: every weight learns" if fine_tune else \
        f"stage {k}: learn level-{k} features of " + ("the input" if k == 1 else f"level-{k - 1} features")
    ax.set_title(what)
    return layers


class StageViewer(widgets.VBox):
    """Stage 1..N of greedy training -> the network diagram (trainable red, frozen black) and
    held-out digits passed up through layers 1..k and back down through decoders k..1."""

    def __init__(self, stages: list, x_test: torch.Tensor, n_digits: int = 6):
        if not stages:
            raise ValueError("StageViewer needs the stack after each stage")
        self.stages = [m.cpu().eval() for m in stages]
        self.sizes = self.stages[0].sizes
        self.x = x_test[:n_digits].detach().cpu()
        self.stage = widgets.IntSlider(value=1, min=1, max=len(stages), description="stage",
                                       continuous_update=False)
        self.fig = Figure(figsize=(11, 3.6))
        self.diagram_ax, self.image_ax = self.fig.subplots(
            1, 2, gridspec_kw={"width_ratios": [1.35, 1]})
        self.image = self.image_ax.imshow(np.zeros((56, 28 * n_digits)), vmin=0, vmax=1, cmap="gray")
        self.image_ax.set_xticks([]), self.image_ax.set_yticks([14, 42], ["input", "rebuilt"])
        self.picture = widgets.Image(format="png")
        self.last = None
        self.stage.observe(lambda _: self.show(self.stage.value), names="value")
        super().__init__([self.stage, self.picture])
        self.show(1)

    @torch.no_grad()
    def compute(self, stage: int) -> dict:
        check_int("stage", stage, minimum=1, maximum=len(self.stages))
        rebuilt = self.stages[stage - 1].reconstruct(self.x, stage)
        mosaic = torch.cat([torch.cat(list(self.x.reshape(-1, 28, 28)), dim=1),
                            torch.cat(list(rebuilt.reshape(-1, 28, 28)), dim=1)])
        return dict(stage=stage, mosaic=mosaic.numpy(),
                    mse=((rebuilt - self.x) ** 2).mean().item())

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


class LabelBudgetControl(widgets.VBox):
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
        self.picture = widgets.Image(format="png")
        self.last = None
        self.budget.observe(lambda _: self.show(self.budget.value), names="value")
        super().__init__([self.budget, self.readout, self.picture])
        self.show(self.budgets[0])

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
