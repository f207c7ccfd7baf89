"""Figures in one style: digit grids, filters, code scatters, loss curves, posterior ellipses,
the stacked autoencoder's stage diagram, and fast redraws for widgets. Everything a notebook
and a widget both draw lives here.

Two styles, picked by `use_course_style` (argument, else the environment variable AE_STYLE):
"desk" for a learner at a screen, "projector" for a class (larger text, thicker lines, bigger
markers and digits). Both colour the ten digit classes with the same colour-blind-safe palette.
"""
from __future__ import annotations

import io
import math
import os

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse
from PIL import Image

from .tensors import to_numpy

# The ten digit classes' colours: M. A. Petroff's 10-colour sequence ("Accessible Color
# Sequences for Data Visualization", 2021, arXiv:2107.02270; matplotlib's "petroff10" style).
# It was chosen by optimisation so that neighbours stay apart under simulated red-green and
# blue-yellow colour blindness, and it has exactly ten colours, where Okabe-Ito has eight and
# Paul Tol's "muted" nine (the usual tab10 puts red next to green). One marker for every class:
# the widgets recolour a single scatter in place.
CLASS_PALETTE = ["#3f90da", "#ffa90e", "#bd1f01", "#94a4a2", "#832db6",
                 "#a96b59", "#e76300", "#b9ac70", "#717581", "#92dadd"]
CLASS_COLOURS = ListedColormap(CLASS_PALETTE, name="course-classes")

_DESK = {
    "figure.dpi": 100, "savefig.dpi": 100, "figure.facecolor": "white",
    "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10,
    "axes.spines.top": False, "axes.spines.right": False,
    "image.cmap": "gray", "image.interpolation": "nearest",
    "legend.fontsize": 8, "legend.frameon": False,
    # matplotlib's defaults, listed so that going back from the projector style restores them
    "figure.titlesize": "large", "xtick.labelsize": "medium", "ytick.labelsize": "medium",
    "lines.linewidth": 1.5, "lines.markersize": 6, "axes.linewidth": 0.8,
    "xtick.major.width": 0.8, "ytick.major.width": 0.8, "xtick.major.size": 3.5, "ytick.major.size": 3.5,
}
# For a room: text 1.3 times as large, thicker lines and ticks. Figures keep their size in
# inches, so they still fit a 1280x720 projector; the text takes more of them (much larger text
# makes the longer titles of side-by-side panels run into each other).
_PROJECTOR = dict(_DESK, **{
    "font.size": 13, "axes.titlesize": 12, "axes.labelsize": 13, "figure.titlesize": 14,
    "xtick.labelsize": 12, "ytick.labelsize": 12, "legend.fontsize": 11,
    "lines.linewidth": 2.5, "lines.markersize": 8, "axes.linewidth": 1.3,
    "xtick.major.width": 1.3, "ytick.major.width": 1.3, "xtick.major.size": 5, "ytick.major.size": 5,
})
# rcParams, and the sizes of our own figures' parts: the side of a digit cell and the area of a
# scatter point, as multiples of the desk sizes.
STYLES = {
    "desk": {"rc": _DESK, "digit_scale": 1.0, "marker_scale": 1.0},
    "projector": {"rc": _PROJECTOR, "digit_scale": 1.15, "marker_scale": 2.5},
}
_active = "desk"
MARK_COLOUR = "black"        # points that are not digits of a class (random draws, probes): no class uses it


def use_course_style(style: str | None = None) -> str:
    """Set the course's figure style: `style`, else $AE_STYLE, else "desk". Called once by each
    notebook's setup cell; it applies to every figure made afterwards, the widgets' too
    (matplotlib reads rcParams when a figure is created). Returns the style's name."""
    global _active
    where = "style" if style is not None else "AE_STYLE"
    name = style if style is not None else os.environ.get("AE_STYLE", "desk")
    if name not in STYLES:
        raise ValueError(f"{where} must be one of {sorted(STYLES)}, got {name!r}")
    plt.rcParams.update(STYLES[name]["rc"])
    _active = name
    _figures_in_the_notebook()
    return name


def _figures_in_the_notebook() -> None:
    """Inside a notebook's kernel, show figures in the notebook even when the environment
    variable MPLBACKEND names a backend that draws nowhere (Agg, usual on servers and hubs),
    which the kernel would otherwise keep: every plt.show() would show nothing."""
    import sys
    if "ipykernel" not in sys.modules:
        return
    from IPython import get_ipython
    ip = get_ipython()
    if ip is not None and hasattr(ip, "kernel") and "inline" not in plt.get_backend():
        ip.run_line_magic("matplotlib", "inline")


def _scale(what: str) -> float:
    return STYLES[_active][what]


def as_images(x) -> np.ndarray:
    """(N, 784) or (N, 28, 28) tensor/array -> (N, 28, 28) NumPy array."""
    x = to_numpy(x)
    if x.ndim == 2:                          # flat rows of D pixels -> sqrt(D) x sqrt(D)
        side = int(round(np.sqrt(x.shape[1])))
        x = x.reshape(-1, side, side)
    return x


def digit_rows(rows: dict, n: int = 10, title: str | None = None, cell: float = 0.9,
               column_titles: list | None = None):
    """One row of n images per entry of `rows` ({"label": images}), the label on the left,
    optional titles over the columns. Pixel values on a fixed scale 0 (black) to 1 (white).
    `cell` is a digit's side in inches at the desk style (larger at the projector style)."""
    cell *= _scale("digit_scale")
    fig, axes = plt.subplots(len(rows), n, figsize=(cell * n + 1.2, cell * len(rows) + 0.4),
                             squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        images = as_images(images)
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(images[c], vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
    for c, column_title in enumerate(column_titles or []):
        axes[0, c].set_title(column_title)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def filter_grid(filters, n: int = 32, ncols: int = 8, title: str | None = None, ax_size=0.9):
    """First-layer weights as 28x28 images, each on its own symmetric scale (grey = 0,
    white = positive, black = negative): what each hidden unit responds to."""
    ax_size *= _scale("digit_scale")
    filters = as_images(filters)[:n]
    nrows = int(np.ceil(len(filters) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ax_size * ncols, ax_size * nrows + 0.4),
                             squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, w in zip(axes.flat, filters):
        limit = np.abs(w).max() or 1.0
        ax.imshow(w, vmin=-limit, vmax=limit)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def filter_mosaic(filters, ncols: int = 4, places: int | None = None, gap: int = 2) -> np.ndarray:
    """(n, 28, 28) filters -> one image with `places` (default n) places, ncols a row, each
    filter scaled by its largest absolute weight to [-1, 1], separated by `gap` pixels of 0
    (grey). Places without a filter stay grey, so every page has the same size."""
    filters = np.asarray(filters, dtype=np.float64)
    per_page = max(places or len(filters), len(filters), 1)
    nrows = math.ceil(per_page / ncols)
    side = filters.shape[-1] if filters.ndim == 3 else 28
    mosaic = np.zeros((nrows * (side + gap) - gap, ncols * (side + gap) - gap))
    for i, w in enumerate(filters):
        r, c = divmod(i, ncols)
        limit = np.abs(w).max() or 1.0
        mosaic[r * (side + gap):r * (side + gap) + side, c * (side + gap):c * (side + gap) + side] = w / limit
    return mosaic


def code_scatter(ax, codes, labels, class_names=None, s: float = 4, legend: bool = True,
                 xlabel: str = "$z_1$", ylabel: str = "$z_2$"):
    """2-D codes as points coloured by class (CLASS_COLOURS); `s` is the points' area at the desk
    style (larger at the projector style). Returns the PathCollection (for set_offsets)."""
    codes, labels = to_numpy(codes), to_numpy(labels)
    points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap=CLASS_COLOURS, vmin=-0.5,
                        vmax=9.5, s=s * _scale("marker_scale"), linewidths=0)
    ax.set_xlabel(xlabel), ax.set_ylabel(ylabel)
    if legend:
        names = class_names or [str(i) for i in range(10)]
        handles = [plt.Line2D([], [], marker="o", ls="", color=CLASS_COLOURS(i), label=name)
                   for i, name in enumerate(names)]
        _side_legend(ax, handles)
    return points


def mark_points(ax, points, label: str, marker: str = "x", s: float = 10):
    """Points that are not codes of digits (random draws, probes) over a code scatter: crosses in
    MARK_COLOUR, which no class uses, added to the axes' legend under `label`."""
    points = to_numpy(points)
    marks = ax.scatter(points[:, 0], points[:, 1], s=s, marker=marker, color=MARK_COLOUR,
                       linewidths=0.8, label=label)
    old = ax.get_legend()
    if old is None:
        ax.legend(handles=[marks], loc="upper right")
    else:
        _side_legend(ax, [*old.legend_handles, marks])
    return marks


def _side_legend(ax, handles) -> None:
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5),
              handletextpad=0.1, borderaxespad=0.2)


def distinct_colours(n: int) -> list:
    """n colours, no two alike (for models, not classes): tab10's ten, then tab20's lighter ten."""
    table = plt.get_cmap("tab20").colors
    ordered = list(table[0::2]) + list(table[1::2])
    if n > len(ordered):
        raise ValueError(f"at most {len(ordered)} distinct colours, asked for {n}")
    return ordered[:n]


def label_column(ax, points: dict, gap: float = 0.075, fontsize: float = 8) -> None:
    """Write each name of `points` ({name: (x, y)} in data coordinates) in a column just right
    of the axes, at about its point's height, joined to it by a thin line. Names keep at least
    `gap` (a share of the axes' height) between them, so none covers another, however close
    their points are."""
    ax.get_xlim(), ax.get_ylim()                               # settle the limits first
    height = {name: ax.transAxes.inverted().transform(ax.transData.transform(xy))[1]
              for name, xy in points.items()}
    order = sorted(height, key=height.get)
    placed = []
    for name in order:                                         # bottom up, pushing names apart
        placed.append(max(height[name], placed[-1] + gap) if placed else height[name])
    overflow = max(0.0, placed[-1] - 1.0) if placed else 0.0   # keep the top name inside the figure
    for name, y in zip(order, placed):
        ax.annotate(name, xy=points[name], xycoords="data", xytext=(1.04, y - overflow),
                    textcoords="axes fraction", va="center", fontsize=fontsize, annotation_clip=False,
                    arrowprops=dict(arrowstyle="-", color="0.6", lw=0.6, shrinkA=0, shrinkB=4))


def loss_curves(histories: dict, ylabel: str, title: str | None = None, logy: bool = False):
    """Training (solid) and held-out (dashed) loss per epoch, one colour per model."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, (name, history) in enumerate(histories.items()):
        colour = f"C{i}"
        epochs = np.arange(1, len(history["train_loss"]) + 1)
        ax.plot(epochs, history["train_loss"], color=colour, label=f"{name} (train)")
        if history.get("val_loss"):
            ax.plot(epochs, history["val_loss"], color=colour, ls="--", label=f"{name} (test)")
    ax.set_xlabel("epoch"), ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def image_rows(fig, row_labels: list[str], n: int) -> list[list]:
    """A grid of len(row_labels) x n blank 28x28 images on `fig`, each row labelled on the
    left, for a widget to fill with set_data. Returns the image artists, row by row."""
    axes = fig.subplots(len(row_labels), n, squeeze=False)
    artists = []
    for r, label in enumerate(row_labels):
        row = []
        for c in range(n):
            row.append(axes[r, c].imshow(np.zeros((28, 28)), vmin=0, vmax=1, cmap="gray"))
            axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
        artists.append(row)
    return artists


def posterior_ellipses(ax, mu, logvar, colours, n_std: float = 2.0):
    """Draw the n_std-standard-deviation ellipse of each q(z|x) = N(mu, diag(sigma^2))."""
    for m, lv, colour in zip(to_numpy(mu), to_numpy(logvar), colours):
        width, height = 2 * n_std * np.exp(0.5 * lv)
        ax.add_patch(Ellipse(m, width, height, fill=False, ec=colour, lw=1.5))
        ax.plot(*m, "+", color=colour, ms=6)


# --- the stacked autoencoder's stages (notebook 05) ----------------------------------------

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


def figure_to_png(fig) -> bytes:
    """Render a whole figure to PNG bytes (for an ipywidgets.Image)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


class FastRedraw:
    """Redraw only the parts of a figure that move, for widgets that must answer quickly.

    The figure is drawn once without the `moving` artists and that picture is kept; each
    update pastes it back, draws only the moving artists on top, and encodes the canvas as a
    PNG. This is matplotlib's 'blitting', done on the off-screen Agg canvas.
    """

    def __init__(self, fig, moving: list):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        self.fig, self.moving = fig, moving
        self.canvas = FigureCanvasAgg(fig)
        for artist in moving:
            artist.set_animated(True)       # left out of the full draw below
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def png(self) -> bytes:
        self.canvas.restore_region(self.background)
        for artist in self.moving:
            artist.axes.draw_artist(artist) if artist.axes else self.fig.draw_artist(artist)
        rgba = np.asarray(self.canvas.buffer_rgba())
        buffer = io.BytesIO()
        Image.fromarray(rgba[..., :3]).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()
