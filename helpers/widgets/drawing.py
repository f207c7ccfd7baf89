"""Draw a digit: a drawing pad, and three views that show where the models put the drawing
(notebooks 01, 02 and 06).

The pad is an ipycanvas Canvas. The browser sends every mouse or touch event to Python; Python
keeps the strokes, draws each new piece of a stroke on the canvas at once, and when the pen is
lifted turns the strokes into a 28x28 MNIST-style digit (helpers.drawing) and hands it to the
views. The canvas only shows the strokes: what the models see is computed from the strokes
Python holds, so the tests and the notebooks can draw from code, without a browser.
"""
from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
import torch
from ipycanvas import Canvas
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse
from PIL import Image

from ..classifier import class_probabilities
from ..corruption import NOISE_KINDS, check_noise, corrupt
from ..drawing import CANVAS, ERASER_WIDTH, PEN_WIDTH, PIXEL_RANGE, Stroke, prepare_digit, render_strokes
from ..losses import mse_per_pixel
from ..models import decode_all, device_of, encode_all, reconstruct_all
from ..plots import FastRedraw, code_scatter
from ..tensors import to_numpy
from .base import Widget

EMPTY = "draw a digit on the pad (hold the mouse button down, or use a finger)"


class DrawingPad(widgets.HBox):
    """A canvas to draw a digit on (pen, eraser, clear), and the 28x28 digit prepared from it
    as MNIST's digits were. `on_digit(callback)`: callback(digit) each time the pen is lifted,
    with the 28x28 digit (NumPy, values in [0, 1]) or None when the pad is empty."""

    LABELS = {"pen": "pen", "eraser": "eraser", "clear": "clear", "sees": "what the models see:"}

    def __init__(self, size: int = CANVAS, pen_width: float = PEN_WIDTH,
                 eraser_width: float = ERASER_WIDTH):
        self.size, self.pen_width, self.eraser_width = size, pen_width, eraser_width
        self.strokes: list[Stroke] = []
        self.background = None            # ink already on the pad (load_digit), canvas-sized
        self.erasing = False
        self.digit = None                 # the last prepared 28x28 digit, or None
        self._stroke = None               # the stroke being drawn, while the pen is down
        self._callbacks: list = []

        # no CSS border: the browser maps the mouse onto the canvas by its box, border included
        self.canvas = Canvas(width=size, height=size,
                             layout=widgets.Layout(width=f"{size}px", height=f"{size}px"))
        self.canvas.line_cap = self.canvas.line_join = "round"
        self.canvas.on_mouse_down(self.pen_down)
        self.canvas.on_mouse_move(self.pen_move)
        self.canvas.on_mouse_up(lambda x, y: self.pen_up())
        self.canvas.on_mouse_out(lambda x, y: self.pen_up())     # released outside the pad
        self.canvas.on_touch_start(lambda touches: touches and self.pen_down(*touches[0]))
        self.canvas.on_touch_move(lambda touches: touches and self.pen_move(*touches[0]))
        self.canvas.on_touch_end(lambda touches: self.pen_up())
        self.canvas.on_touch_cancel(lambda touches: self.pen_up())
        self.canvas.on_client_ready(self._repaint)                # a page reload: draw it all again

        button = dict(layout=widgets.Layout(width="110px"))
        self.pen_button = widgets.Button(description=self.LABELS["pen"], icon="pencil", **button)
        self.eraser_button = widgets.Button(description=self.LABELS["eraser"], icon="eraser", **button)
        self.clear_button = widgets.Button(description=self.LABELS["clear"], icon="trash", **button)
        self.pen_button.on_click(lambda _: self.use_eraser(False))
        self.eraser_button.on_click(lambda _: self.use_eraser(True))
        self.clear_button.on_click(lambda _: self.clear())
        self.preview = widgets.Image(format="png", layout=widgets.Layout(width="84px", height="84px"))
        self.message = widgets.HTML()
        side = widgets.VBox([self.pen_button, self.eraser_button, self.clear_button,
                             widgets.HTML(f"<small>{self.LABELS['sees']}</small>"),
                             self.preview, self.message], layout=widgets.Layout(width="130px"))
        super().__init__([self.canvas, side])
        self.use_eraser(False)
        self._repaint()
        self.update()

    # --- what a learner does -------------------------------------------------------------------
    def pen_down(self, x: float, y: float) -> None:
        width = self.eraser_width if self.erasing else self.pen_width
        self._stroke = Stroke([(x, y)], width, self.erasing)
        c = self.canvas                   # the style is set once per stroke: a move sends one line
        c.fill_style = c.stroke_style = self._colour(self._stroke)
        c.line_width = width
        c.fill_circle(x, y, width / 2)

    def pen_move(self, x: float, y: float) -> None:
        if self._stroke is None:          # the mouse only passes over the pad
            return
        (x0, y0) = self._stroke.points[-1]
        self._stroke.points.append((x, y))
        self.canvas.stroke_line(x0, y0, x, y)   # shown at once; the models wait for pen_up

    def pen_up(self) -> None:
        """The stroke ends: now (not on every move) prepare the digit and tell the views."""
        if self._stroke is None:
            return
        self.strokes.append(self._stroke)
        self._stroke = None
        self.update()

    def use_eraser(self, erasing: bool) -> None:
        self.erasing = bool(erasing)
        self.pen_button.button_style = "" if self.erasing else "info"
        self.eraser_button.button_style = "info" if self.erasing else ""

    def clear(self) -> None:
        self.strokes, self.background, self._stroke = [], None, None
        self._repaint()
        self.update()

    # --- drawing from code ---------------------------------------------------------------------
    def draw(self, strokes) -> None:
        """Add strokes (helpers.drawing.Stroke, in canvas pixels) as if drawn by hand."""
        self.strokes += list(strokes)
        self._repaint()
        self.update()

    def load_digit(self, image) -> None:
        """Put a 28x28 digit (e.g. a test image) on the pad, each pixel a 10x10 square; draw or
        erase on it as on your own drawing."""
        image = to_numpy(image).astype(np.float32).reshape(28, 28)
        if self.size % 28:
            raise ValueError(f"load_digit needs a pad size that is a multiple of 28, got {self.size}")
        self.strokes, self._stroke = [], None
        self.background = np.kron(np.clip(image, *PIXEL_RANGE), np.ones((self.size // 28,) * 2, np.float32))
        self._repaint()
        self.update()

    def labels(self) -> dict:
        """The pad's words (its buttons, the preview's caption), for the website's copy."""
        return dict(self.LABELS)

    def on_digit(self, callback) -> None:
        self._callbacks.append(callback)

    # --- computation -----------------------------------------------------------------------------
    def ink(self) -> np.ndarray:
        """The pad as ink in [0, 1], (size, size), computed from the strokes (not read from the page)."""
        return render_strokes(self.strokes, (self.size, self.size), self.background)

    def update(self) -> None:
        try:
            self.digit = prepare_digit(self.ink())
            self.message.value = ""
        except ValueError as error:       # an empty pad: say so, show nothing
            self.digit = None
            self.message.value = f"<small>{error}</small>"
        shown = self.digit if self.digit is not None else np.zeros((28, 28))
        self.preview.value = _png(np.kron(shown, np.ones((3, 3))))
        for callback in self._callbacks:
            callback(self.digit)

    # --- the canvas ------------------------------------------------------------------------------
    @staticmethod
    def _colour(stroke: Stroke) -> str:
        return "black" if stroke.erase else "white"      # white ink on black, as in MNIST

    def _repaint(self) -> None:
        c = self.canvas
        c.fill_style = "black"
        c.fill_rect(0, 0, self.size, self.size)
        if self.background is not None:
            grey = np.round(self.background * 255).astype(np.uint8)
            c.put_image_data(np.stack([grey] * 3, axis=-1), 0, 0)
        for stroke in self.strokes:
            c.fill_style = c.stroke_style = self._colour(stroke)
            c.line_width = stroke.width
            if len(stroke.points) > 1:
                c.stroke_lines(stroke.points)
            for x, y in (stroke.points[0], stroke.points[-1]):
                c.fill_circle(x, y, stroke.width / 2)


def _png(image) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(image, *PIXEL_RANGE) * 255).astype(np.uint8)).save(buffer, format="png")
    return buffer.getvalue()


class DrawnDigitView(Widget):
    """What the three views share: a pad, a figure redrawn fast, a line of text. Its input is
    the pad (each time the pen is lifted, `update` runs) and its `controls`, if any (notebook
    02's noise); `show(digit, *control values)` computes and draws, as in every widget. A
    subclass builds its figure in `_build` (setting self.redraw, a plots.FastRedraw), defines
    compute(digit, *control values) and _draw(result), and says in web_parts() what the
    website's copy of the view needs (website/export.py, website/static/aew.js, which computes the
    same numbers in the page; tests/browser/test_site.py compares them). Its words are the
    format templates in TEXTS, which the website's copy fills in too."""

    def start_view(self, controls: dict | None = None) -> None:
        self.pad = DrawingPad()
        self.result = widgets.HTML()
        self.pad.on_digit(lambda _digit: self.update())
        self._build()
        self.start(controls or {})

    def arrange(self, rows: list) -> list:
        """The pad on the left; the controls, the picture and the text on its right."""
        right = widgets.VBox([*rows, self.picture, self.result])
        return [widgets.HBox([self.pad, right], layout=widgets.Layout(flex_flow="row wrap"))]

    def update(self, _change=None) -> None:
        """Show the pad's digit for the controls' current values."""
        self.show(self.pad.digit, *(control.value for control in self.controls.values()))

    def show(self, digit, *values) -> None:
        """Compute and draw the views of `digit` (28x28 or 784 values), or an empty view for None."""
        self.last = None if digit is None else self.compute(digit, *values)
        self._draw(self.last)
        self.picture.value = self.redraw.png()
        self.result.value = EMPTY if digit is None else self.last["text"]   # last: the text says "done"


def nearest_codes(codes, code, n: int) -> np.ndarray:
    """Indices of the n rows of `codes` nearest to `code` (Euclidean), nearest first; ties
    keep the rows' order (as the website's copy does)."""
    return np.argsort(((np.asarray(codes) - code) ** 2).sum(axis=1), kind="stable")[:n]


def _whole(autoencoder) -> list:
    """An autoencoder's layers, encoder then decoder, as one list."""
    return [*autoencoder.encoder, *autoencoder.decoder]


def _as_row(digit) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(digit, dtype=np.float32)).reshape(1, -1)
    if x.shape[1] != 784:
        raise ValueError(f"a digit must have 28x28 = 784 pixels, got {x.shape[1]}")
    return x


def _image_axes(fig, grid, titles):
    """One 28x28 image (blank) per grid cell, no ticks, with a title each; returns (images, titles)."""
    images, texts = [], []
    for cell, title in zip(grid, titles):
        ax = fig.add_subplot(cell)
        images.append(ax.imshow(np.zeros((28, 28)), vmin=0, vmax=1, cmap="gray"))
        ax.set_xticks([]), ax.set_yticks([])
        texts.append(ax.set_title(title, fontsize=9))
    return images, texts


def _digit_panel(fig, top_titles, n_bottom: int, caption: str):
    """The right half of the figures of notebooks 01 and 06: two large images on top, a row of
    n_bottom small ones below with a caption. Returns (top images, top titles, bottom images,
    bottom titles)."""
    grid = fig.add_gridspec(2, n_bottom * 2, left=0.56, right=0.99, bottom=0.03, top=0.86,
                            height_ratios=[1.7, 1], hspace=0.75, wspace=0.3)
    half = n_bottom
    top, top_titles = _image_axes(fig, [grid[0, :half], grid[0, half:]], top_titles)
    bottom, bottom_titles = _image_axes(fig, [grid[1, 2 * i:2 * i + 2] for i in range(n_bottom)],
                                        [" "] * n_bottom)
    first = bottom[0].axes.get_position()
    fig.text(0.56, first.y1 + 0.075, caption, fontsize=9)
    return top, top_titles, bottom, bottom_titles


class DrawnCode(DrawnDigitView):
    """Notebook 01: your digit's 2-D code as a cross on the codes of the training digits, its
    reconstruction, and the training digits with the nearest codes."""

    TEXTS = {"text": "code z = ({z1:.2f}, {z2:.2f}); reconstruction MSE {error:.4f} per pixel; "
                     "nearest training digits: {names}",
             "reconstruction": "reconstruction\nMSE {error:.4f}", "reconstruction_empty": "reconstruction\n ",
             "near_empty": " ", "separator": ", "}

    def __init__(self, model, codes, labels, images, class_names=None, n_neighbours: int = 5):
        self.model = model.eval()
        self.codes = to_numpy(codes)
        if self.codes.ndim != 2 or self.codes.shape[1] != 2:
            raise ValueError(f"DrawnCode needs 2-D codes, got shape {self.codes.shape}")
        self.labels, self.images = to_numpy(labels), to_numpy(images).reshape(-1, 28, 28)
        self.class_names = class_names or [str(i) for i in range(10)]
        self.n_neighbours = n_neighbours
        self.start_view()

    def _build(self) -> None:
        fig = Figure(figsize=(8.6, 3.8))
        ax = fig.add_axes([0.09, 0.13, 0.34, 0.74])
        code_scatter(ax, self.codes, self.labels, self.class_names, s=3)
        low, high = self.codes.min(axis=0), self.codes.max(axis=0)
        margin = 0.05 * (high - low)
        self.limits = (low - margin, high + margin)
        ax.set_xlim(self.limits[0][0], self.limits[1][0]), ax.set_ylim(self.limits[0][1], self.limits[1][1])
        ax.set_title("codes of the training digits; X = your digit")
        self.marker = ax.scatter([0], [0], marker="X", s=170, c="black", edgecolors="white",
                                 linewidths=1.5, zorder=3)
        (self.drawn, self.recon), (_, self.recon_title), self.near, self.near_titles = _digit_panel(
            fig, ["your digit\n ", self.TEXTS["reconstruction_empty"]], self.n_neighbours,
            f"the {self.n_neighbours} training digits with the nearest codes:")
        self.redraw = FastRedraw(fig, [self.marker, self.drawn, self.recon, self.recon_title,
                                       *self.near, *self.near_titles])

    @torch.no_grad()
    def compute(self, digit) -> dict:
        """{"code": (2,), "reconstruction": (28, 28), "error": MSE per pixel against the digit,
        "neighbours": indices of the nearest training codes (Euclidean), nearest first, "text"}."""
        x = _as_row(digit)
        code = self.model.encode(x.to(device_of(self.model)))
        recon = self.model.decode(code).cpu().reshape(28, 28).numpy()
        code = code.cpu().numpy()[0]
        neighbours = nearest_codes(self.codes, code, self.n_neighbours)
        error = float(((recon - x.numpy().reshape(28, 28)) ** 2).mean())
        names = self.TEXTS["separator"].join(self.class_names[int(self.labels[i])] for i in neighbours)
        text = self.TEXTS["text"].format(z1=code[0], z2=code[1], error=error, names=names)
        return dict(digit=x.numpy().reshape(28, 28), code=code, reconstruction=recon, error=error,
                    neighbours=neighbours, text=text)

    def web_parts(self, candidates: int = 5000) -> dict:
        """What the website's copy of this view needs (website/export.py): the networks it runs,
        the figure's moving parts, and the training digits it searches for neighbours, at most
        the first `candidates` (their codes and 28x28 images travel with the page: a sheet of
        4000 digits is about 0.7 MB)."""
        n = min(candidates, len(self.codes))
        searched = (f"On this page the nearest digits are searched among the first {n} training "
                    f"digits; among all {len(self.codes)} in JupyterLab." if n < len(self.codes) else "")
        return dict(view="code", networks={"encoder": self.model.encoder, "decoder": self.model.decoder},
                    templates=self.TEXTS,
                    images={"digit": self.drawn, "reconstruction": self.recon, "near": self.near},
                    texts={"reconstruction": self.recon_title, "near": self.near_titles},
                    axes=self.marker.axes, marker=self.marker,
                    sheet=self.images[:n],
                    data=dict(codes=self.codes[:n].tolist(), labels=self.labels[:n].tolist(),
                              limits=[list(map(float, self.limits[0])), list(map(float, self.limits[1]))],
                              class_names=self.class_names, n_neighbours=self.n_neighbours),
                    check=lambda result: {"neighbours": nearest_codes(self.codes[:n], result["code"],
                                                                      self.n_neighbours).tolist()},
                    note=" ".join(["Your drawing is encoded and decoded in your browser.", searched]).strip())

    def _draw(self, result) -> None:
        self.marker.set_visible(result is not None)
        if result is None:
            for artist in [self.drawn, self.recon, *self.near]:
                artist.set_data(np.zeros((28, 28)))
            self.recon_title.set_text(self.TEXTS["reconstruction_empty"])
            for title in self.near_titles:
                title.set_text(self.TEXTS["near_empty"])
            return
        # a code off the map is drawn on its edge (the text below gives the exact value)
        self.marker.set_offsets([np.clip(result["code"], *self.limits)])
        self.drawn.set_data(result["digit"])
        self.recon.set_data(np.clip(result["reconstruction"], *PIXEL_RANGE))
        self.recon_title.set_text(self.TEXTS["reconstruction"].format(error=result["error"]))
        for artist, title, i in zip(self.near, self.near_titles, result["neighbours"]):
            artist.set_data(self.images[i])
            title.set_text(self.class_names[int(self.labels[i])])


class DrawnDenoising(DrawnDigitView):
    """Notebook 02: your digit with the noise you pick, and the plain autoencoder's and the
    denoising autoencoder's repairs, each with its MSE against your clean digit.

    dae_model: one DAE for every kind of noise, or a dict {noise kind: DAE trained on it}."""

    TEXTS = {"text": "{kind} noise, level {level:.2f}; MSE per pixel against your digit: noisy "
                     "{noisy:.4f}, plain AE {plain:.4f}, DAE {dae:.4f}",
             "titles": ["{kind} {level:.2f}\nMSE {noisy:.4f}", "plain AE\nMSE {plain:.4f}", "DAE\nMSE {dae:.4f}"],
             "title_empty": " \n "}

    def __init__(self, plain_model, dae_model, kind: str = "masking", level: float = 0.5,
                 seed: int = 0):
        daes = dae_model if isinstance(dae_model, dict) else {k: dae_model for k in NOISE_KINDS}
        missing = [k for k in NOISE_KINDS if k not in daes]
        if missing:
            raise ValueError(f"dae_model has no DAE for {', '.join(missing)}")
        check_noise(kind, level)
        self.plain, self.daes, self.seed = plain_model.eval(), {k: m.eval() for k, m in daes.items()}, seed
        self.kind = widgets.ToggleButtons(options=NOISE_KINDS, value=kind, description="noise")
        self.level = widgets.FloatSlider(value=level, min=0.0, max=0.9, step=0.05, description="level",
                                         readout_format=".2f", continuous_update=True)
        self.start_view(dict(kind=self.kind, level=self.level))

    def _build(self) -> None:
        fig = Figure(figsize=(6.4, 2.3))
        grid = fig.add_gridspec(1, 4, left=0.01, right=0.99, bottom=0.02, top=0.78, wspace=0.15)
        images, self.titles = _image_axes(fig, list(grid), ["your digit"] + [self.TEXTS["title_empty"]] * 3)
        self.drawn, self.noisy, self.plain_out, self.dae_out = images
        self.redraw = FastRedraw(fig, [*images, *self.titles[1:]])

    @torch.no_grad()
    def compute(self, digit, kind: str | None = None, level: float | None = None) -> dict:
        """Your digit with `kind` noise at `level` (default: the controls), seeded, and both
        repairs: {"noisy", "plain AE", "DAE": (28, 28), "errors": MSE per pixel vs your digit, "text"}."""
        kind = self.kind.value if kind is None else kind
        level = self.level.value if level is None else level
        check_noise(kind, level)
        x = _as_row(digit)
        noisy = corrupt(x, kind, level, torch.Generator().manual_seed(self.seed))
        out = {"digit": x, "noisy": noisy}
        out["plain AE"], out["DAE"] = reconstruct_all(self.plain, noisy), reconstruct_all(self.daes[kind], noisy)
        out["errors"] = {name: mse_per_pixel(out[name], x).item() for name in ("noisy", "plain AE", "DAE")}
        out["text"] = self.TEXTS["text"].format(**self._values(kind, level, out["errors"]))
        out.update(kind=kind, level=level)
        return {k: v.reshape(28, 28).clamp(*PIXEL_RANGE).numpy() if isinstance(v, torch.Tensor) else v
                for k, v in out.items()}

    @staticmethod
    def _values(kind: str, level: float, errors: dict) -> dict:
        """The names TEXTS' templates use."""
        return dict(kind=kind, level=level, noisy=errors["noisy"], plain=errors["plain AE"], dae=errors["DAE"])

    def web_parts(self) -> dict:
        """What the website's copy of this view needs (website/export.py): the plain AE and the
        three DAEs, the figure's moving parts, and the random numbers `corrupt` draws with this
        view's seed (so the page makes the very same noise)."""
        generator = torch.Generator().manual_seed(self.seed)
        first, second = (torch.rand((1, 784), generator=generator)[0].tolist() for _ in range(2))
        normal = torch.randn((1, 784), generator=torch.Generator().manual_seed(self.seed))[0].tolist()
        return dict(view="denoising", networks={"plain": _whole(self.plain),
                              **{f"dae {k}": _whole(m) for k, m in self.daes.items()}},
                    templates=self.TEXTS,
                    images={"digit": self.drawn, "noisy": self.noisy, "plain": self.plain_out,
                            "dae": self.dae_out},
                    texts={"titles": self.titles[1:]},
                    data=dict(kinds=list(NOISE_KINDS),
                              # masking: uniform < level drops; salt-and-pepper: a second draw picks salt
                              uniform=first, uniform2=second, normal=normal),
                    note="Your drawing is corrupted and repaired in your browser: the page runs "
                         "both autoencoders.")

    def _draw(self, result) -> None:
        artists = (self.drawn, self.noisy, self.plain_out, self.dae_out)
        if result is None:
            for artist in artists:
                artist.set_data(np.zeros((28, 28)))
            for title in self.titles[1:]:
                title.set_text(self.TEXTS["title_empty"])
            return
        for artist, key in zip(artists, ("digit", "noisy", "plain AE", "DAE")):
            artist.set_data(result[key])
        values = self._values(result["kind"], result["level"], result["errors"])
        for title, template in zip(self.titles[1:], self.TEXTS["titles"]):
            title.set_text(template.format(**values))


class DrawnPosterior(DrawnDigitView):
    """Notebook 06: your digit's q(z|x) as an ellipse (2 standard deviations) on the VAE's
    latent map, codes drawn from it decoded, and the judge classifier's guess."""

    TEXTS = {"text": "judge: {name} ({confidence:.0%} confident); q(z|x): μ = ({mu1:.2f}, {mu2:.2f}), "
                     "σ = ({sigma1:.2f}, {sigma2:.2f})",
             "judge": "judge: {name}\n({confidence:.0%} confident)", "judge_empty": "your digit\n "}

    def __init__(self, vae, judge, mu_train, labels, class_names=None, n_samples: int = 5,
                 limit: float = 4.0, seed: int = 0):
        self.vae, self.judge = vae.eval(), judge.eval()
        self.mu_train, self.labels = to_numpy(mu_train), to_numpy(labels)
        if self.mu_train.ndim != 2 or self.mu_train.shape[1] != 2:
            raise ValueError(f"DrawnPosterior needs a 2-D VAE, got means of shape {self.mu_train.shape}")
        self.class_names = class_names or [str(i) for i in range(10)]
        self.n_samples, self.limit = n_samples, limit
        # the same eps for every drawing: the samples change only because q(z|x) does
        self.eps = torch.randn(n_samples, 2, generator=torch.Generator().manual_seed(seed))
        self.start_view()

    def _build(self) -> None:
        fig = Figure(figsize=(8.6, 3.8))
        ax = fig.add_axes([0.09, 0.13, 0.34, 0.74])
        code_scatter(ax, self.mu_train, self.labels, self.class_names, s=3)
        ax.set_xlim(-self.limit, self.limit), ax.set_ylim(-self.limit, self.limit)
        ax.set_title("means of q(z|x) of the training digits;\nblack: q(z|x) of your digit (2 std)")
        self.ellipse = ax.add_patch(Ellipse((0, 0), 1, 1, fill=False, ec="black", lw=2, zorder=3))
        self.centre, = ax.plot([0], [0], "+", color="black", ms=10, mew=2, zorder=3)
        (self.drawn, self.mean_image), (self.judge_title, _), self.samples, _ = _digit_panel(
            fig, [self.TEXTS["judge_empty"], "decoded μ\n "], self.n_samples,
            f"{self.n_samples} codes z ~ q(z|x), decoded:")
        self.redraw = FastRedraw(fig, [self.ellipse, self.centre, self.drawn, self.mean_image,
                                       self.judge_title, *self.samples])

    @torch.no_grad()
    def compute(self, digit) -> dict:
        """{"mu", "sigma": (2,) of q(z|x); "mean": decoded mu; "samples": (n, 28, 28) decoded
        z = mu + sigma * eps; "probabilities": the judge's (10,); "guess", "confidence", "text"}."""
        x = _as_row(digit)
        mu, logvar = (t[0] for t in encode_all(self.vae, x))
        sigma = torch.exp(0.5 * logvar)
        z = torch.cat([mu[None], mu + sigma * self.eps])
        decoded = decode_all(self.vae, z).reshape(-1, 28, 28).numpy()
        probabilities = class_probabilities(self.judge, x)[0].numpy()
        guess = int(probabilities.argmax())
        text = self.TEXTS["text"].format(name=self.class_names[guess], confidence=probabilities[guess],
                                         mu1=mu[0], mu2=mu[1], sigma1=sigma[0], sigma2=sigma[1])
        return dict(digit=x.numpy().reshape(28, 28), mu=mu.numpy(), sigma=sigma.numpy(),
                    mean=decoded[0], samples=decoded[1:], probabilities=probabilities,
                    guess=guess, confidence=float(probabilities[guess]), text=text)

    def web_parts(self) -> dict:
        """What the website's copy of this view needs (website/export.py): the VAE's encoder (its
        body and the two heads), its decoder, the judge, the eps of the samples, and the
        figure's moving parts."""
        return dict(view="posterior", networks={"body": self.vae.encoder, "mu": [self.vae.fc_mu],
                              "logvar": [self.vae.fc_logvar], "decoder": self.vae.decoder,
                              "judge": self.judge},
                    templates=self.TEXTS,
                    images={"digit": self.drawn, "mean": self.mean_image, "samples": self.samples},
                    texts={"judge": self.judge_title},
                    axes=self.ellipse.axes, ellipse=self.ellipse, centre=self.centre,
                    data=dict(eps=self.eps.tolist(), class_names=self.class_names),
                    note="Your drawing is encoded, sampled, decoded and judged in your browser.")

    def _draw(self, result) -> None:
        self.ellipse.set_visible(result is not None)
        self.centre.set_visible(result is not None)
        if result is None:
            for artist in [self.drawn, self.mean_image, *self.samples]:
                artist.set_data(np.zeros((28, 28)))
            self.judge_title.set_text(self.TEXTS["judge_empty"])
            return
        self.ellipse.set_center(result["mu"])
        self.ellipse.set_width(4 * result["sigma"][0])       # 2 std on each side
        self.ellipse.set_height(4 * result["sigma"][1])
        self.centre.set_data([result["mu"][0]], [result["mu"][1]])
        self.drawn.set_data(result["digit"])
        self.mean_image.set_data(result["mean"])
        for artist, image in zip(self.samples, result["samples"]):
            artist.set_data(image)
        self.judge_title.set_text(self.TEXTS["judge"].format(name=self.class_names[result["guess"]],
                                                             confidence=result["confidence"]))

