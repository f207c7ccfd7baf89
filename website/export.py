"""The course as a website: what the kernel does while `make site` executes a notebook.

`make site` (website/build.py) runs each notebook with `enable(...)` as a hidden first cell and
`export_widgets()` as a hidden last cell. Nothing here changes what a notebook computes, and
nothing in helpers/ imports this module (it is the site's build tool, not the course):

- every matplotlib figure shown inline gets a text alternative (`describe_figure`), stored in
  the output's metadata, which the website uses as the image's alt text;
- every course widget that is displayed gets a placeholder in its output; at the end of the
  notebook `export_widgets()` turns each one into a web form that moves without a kernel.

Which form a widget gets is looked up in FORMS by its class (along the class's MRO), never by
the class's name: a renamed widget class breaks the import of this module, and a course widget
missing from FORMS stops the build, instead of either silently becoming a still picture. The
forms, and what each widget declares for them:
    "decoder"  the latent explorers (01, 06), helpers.widgets.base.LatentSliders.web_parts():
               the decoder (each layer's weights in int8 with a scale per row where the page's
               digits stay within INT8_MARGIN of PyTorch's, else float16: `choose_formats`; fetched by
               the page as a binary file when the widget comes near the screen), its
               background picture and the sliders; the page runs the forward pass itself;
    "drawing"  the drawing pads (01, 02, 06), helpers.widgets.drawing's views' web_parts():
               a pad in the page, the preparation of helpers.drawing in JavaScript (with its
               constants from Python), the networks the view runs (int8 or float16, chosen and
               fetched the same way), and the view's text templates, filled in by the page;
    "frames"   the other course widgets (their `controls` and `picture`, helpers.widgets.base):
               the controls are set to each value of a grid (FORMS) and the widget's own picture
               and texts are saved, so the page plays them back;
    "static"   any other widget: its picture as executed and one line saying that it moves in
               JupyterLab.
Frames come from the widget object itself (the same class and code path as in JupyterLab), so
the notebook and its web page cannot drift apart. Every text the page shows comes from here or
from the widget (website/static/aew.js holds none).
"""
from __future__ import annotations

import hashlib
import html
import io
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers import drawing as course_drawing
from helpers import widgets as course_widgets
from helpers.corruption import SALT_SHARE
from helpers.tensors import to_numpy
from helpers.widgets.base import LatentSliders
from helpers.widgets.drawing import DrawnDigitView

ALL = "all"          # a grid entry: every value the control offers


@dataclass(frozen=True)
class Live:
    """A widget the page computes itself, from what its `web_parts()` declares."""
    form: str                          # "decoder" or "drawing"


@dataclass(frozen=True)
class Frames:
    """A widget the page plays back. grids: sub-grids of control values (their union is
    precomputed; a control missing from a sub-grid keeps its value); note: the one line the
    page shows when the grid is smaller than the widget's; warm_up: visit every frame once
    before saving any; skip_html: the widget's texts left off the page."""
    grids: list
    note: str = ""
    warm_up: bool = False
    skip_html: tuple = ()


# The web form of each course widget class. A class not listed here is looked up through its
# base classes; a course widget (helpers.widgets.base.Widget) that finds none stops the build.
FORMS = {
    LatentSliders: Live("decoder"),
    DrawnDigitView: Live("drawing"),
    course_widgets.NoiseExplorer: Frames([{"kind": ALL, "level": ALL}]),
    course_widgets.FilterBrowser: Frames([{"page": ALL}]),
    course_widgets.SparsityControl: Frames([{"rho": ALL}]),
    course_widgets.StageViewer: Frames([{"stage": ALL}]),
    course_widgets.LabelBudgetControl: Frames([{"budget": ALL}]),
    course_widgets.KLWeightControl: Frames([{"beta": ALL}]),
    # Its picture greys every n computed so far: visit all n once first, so that each frame
    # shows the same picture whatever order a reader moves the slider in.
    course_widgets.MonteCarloControl: Frames([{"n": ALL}], warm_up=True),
    course_widgets.KLExplorer: Frames(
        [{"mu_q": [v / 2 for v in range(-8, 9)], "sigma_q": [0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]}],
        note="On this page p stays as set in the notebook, μ_q moves in steps of 0.5 and σ_q "
             "takes 0.25, 0.5, 1, 1.5, ..., 3; every value moves in JupyterLab."),
    course_widgets.KLDirectionDemo: Frames(
        [{"separation": [0.5] + [float(v) for v in range(1, 11)],
          "weight": [0.05] + [v / 10 for v in range(1, 10)] + [0.95]}],
        note="On this page the separation moves in steps of 1 and the left weight in steps "
             "of 0.1; every value moves in JupyterLab."),
    course_widgets.ContractionControl: Frames(
        [{"lam": ALL, "index": [0, 1, 2], "sigma": [0.05, 0.1, 0.2, 0.3]}],
        note="On this page: the first three test digits and σ = 0.05, 0.1, 0.2 or 0.3; "
             "every digit and σ in JupyterLab."),
    course_widgets.ModelComparison: Frames(
        [{"first": ALL, "second": ALL}],
        note="On this page the masked share stays as set in the notebook; every level "
             "moves in JupyterLab."),
    course_widgets.EmbeddingComparison: Frames(
        [{"method": ["2-D codes"], "latent": [2], "points": ALL},
         {"method": ["t-SNE of the codes"], "latent": ALL, "perplexity": [30], "points": [500]}],
        skip_html=("status",),       # "drawn in 0.2 s" says nothing on a web page
        note="On this page t-SNE is precomputed at perplexity 30 for 500 points; every "
             "perplexity and number of points in JupyterLab."),
    # 09: played back. Every class, with z1 or z2 moved one at a time in steps of 1.
    course_widgets.ConditionalExplorer: Frames(
        [{"label": ALL, "z1": [-2.0, -1.0, 0.0, 1.0, 2.0]}, {"label": ALL, "z2": [-2.0, -1.0, 0.0, 1.0, 2.0]}],
        note="On this page z1 and z2 move one at a time, in steps of 1, the other at 0; every "
             "code in JupyterLab."),
    # A drawing view, but played back: the page has no player for its walk (two encoders, two
    # decoders and the judge along each path), so it walks from the digit the notebook left
    # on the pad.
    course_widgets.DrawnWalk: Frames(
        [{"to": ALL, "kind": ALL}, {"kind": ALL, "t": [0.0, 0.25, 0.5, 0.75, 1.0]}],
        skip_html=("pad",),          # the pad's own words, for a pad the page does not show
        note="On this page the walk starts from the held-out digit the notebook put on the pad, "
             "and t moves in steps of 0.25; drawing your own digit, and keeping it as an end, "
             "need JupyterLab."),
}
DECODER_LAYERS = {"Linear", "ReLU", "Sigmoid", "Tanh", "Identity"}

# The page's own words (everything else it shows comes from the widgets). Python format
# templates: aew.js fills them in.
WORDS = {
    "loading": "Loading the network's weights ({size}) ...",
    "failed": "This widget could not load its network ({error}).",
    "file": "The website must be served, not opened from a folder: run python3 -m http.server "
            "--directory build/site and open http://127.0.0.1:8000/ (see README, The course as a "
            "website).",
    "decoded": "{alt} The digit decoded from {caption}.",
    "now": "{alt} Now: {text}.",
    "preview": "The 28 by 28 digit the models see: {what}",
    "prepared": "your drawing, prepared",
    "empty": "empty",
    "examples": "draw an example:",
    "example": "draw an example {name}",
}
PAD_LABEL = ("Drawing pad: draw a digit here with the mouse, a pen or a finger (white ink on "
             "black). Without a pointer, use the example buttons beside it.")
DECODER_NOTE = "The digit is decoded in your browser: the page runs the decoder's forward pass."

_state: dict = {}


def form_of(cls) -> Live | Frames | None:
    """The web form registered for a widget class or the nearest of its base classes."""
    return next((FORMS[base] for base in cls.__mro__ if base in FORMS), None)


# --- text alternatives for figures ---------------------------------------------------------

def _clean(text: str) -> str:
    """A matplotlib label as plain words: mathtext's $ and backslashes dropped, one line. Lines
    are joined by a space inside brackets or after '=', else by '; '."""
    text = re.sub(r"\\(mathcal|mathbf|mathrm|operatorname)\{([^}]*)\}", r"\2", text or "")
    text = text.replace("\\hat{x}", "x̂").replace("\\hat x", "x̂").replace("\\|", "‖")
    text = re.sub(r"[$\\{}]", "", text)
    joined = ""
    for line in (" ".join(line.split()) for line in text.split("\n")):
        if not line:
            continue
        open_bracket = joined.count("(") > joined.count(")")
        glue = " " if open_bracket or joined.endswith("=") or line.startswith("(") else "; "
        joined = joined + glue + line if joined else line
    return joined


def _kind_of_plot(ax) -> str:
    from matplotlib.collections import PathCollection, PolyCollection
    from matplotlib.patches import Rectangle, StepPatch
    kinds = []
    if any(isinstance(c, PathCollection) for c in ax.collections):
        kinds.append("scatter plot")
    if any(isinstance(p, StepPatch) for p in ax.patches):
        kinds.append("histogram")
    elif sum(isinstance(p, Rectangle) for p in ax.patches) >= 2:
        kinds.append("bar chart")
    if [line for line in ax.lines if len(line.get_xdata()) > 1]:
        kinds.append("line plot")
    elif any(isinstance(c, PolyCollection) for c in ax.collections):
        kinds.append("filled curve")
    if ax.images:
        kinds.append("image")
    return " and ".join(kinds) or "diagram"


def describe_figure(fig, limit: int = 400) -> str:
    """A short text alternative for a figure, written from its own texts: the title, each
    panel's kind, title and axis labels, and its legend; digit grids as rows of images."""
    parts = []
    title = _clean(fig.get_suptitle()) if hasattr(fig, "get_suptitle") else ""
    axes = [ax for ax in fig.axes if ax.get_visible()]
    pictures = [ax for ax in axes if ax.images and not ax.lines and not ax.collections]
    panels = [ax for ax in axes if ax not in pictures and ax.axison or
              (ax not in pictures and (ax.lines or ax.collections or ax.texts))]
    if pictures:
        rows = [_clean(ax.get_ylabel()) for ax in pictures if _clean(ax.get_ylabel())]
        titles = [_clean(ax.get_title()) for ax in pictures if _clean(ax.get_title())]
        if len(pictures) == 1:
            what = "image" + (f" '{titles[0]}'" if titles else "")
        else:
            what = f"{len(pictures)} images"
            if rows:
                what += " in rows: " + "; ".join(rows)
            elif titles:
                what += ", titled " + "; ".join(dict.fromkeys(titles))
        parts.append(what)
    for ax in panels:
        what = _kind_of_plot(ax)
        if _clean(ax.get_title()):
            what += f" '{_clean(ax.get_title())}'"
        labels = [f"{name} axis {_clean(label)}" for name, label in
                  (("x", ax.get_xlabel()), ("y", ax.get_ylabel())) if _clean(label)]
        if labels:
            what += ": " + ", ".join(labels)
        legend = ax.get_legend()
        if legend is not None:
            entries = [_clean(t.get_text()) for t in legend.get_texts()]
            what += "; legend " + ", ".join(e for e in entries if e)
        parts.append(what)
    text = (f"{title}. " if title else "") + ("Figure: " if not title else "") + ". ".join(parts)
    text = text.strip() or "Figure"
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _figure_of(widget):
    """The matplotlib Figure a course widget draws into (self.fig, or self.redraw.fig)."""
    from matplotlib.figure import Figure
    for candidate in (getattr(widget, "fig", None), getattr(getattr(widget, "redraw", None), "fig", None)):
        if isinstance(candidate, Figure):
            return candidate
    return next((v for v in vars(widget).values() if isinstance(v, Figure)), None)


# --- the kernel side: formatters ------------------------------------------------------------

def enable(page: str, files_dir, files_url: str, markup_dir) -> None:
    """Called in a hidden first cell: alt text for figures, placeholders for widgets.
    page: a short name for the page, e.g. '01'; files_dir: where the widgets' pictures and
    weights go (a folder of the site), files_url: that folder's address relative to the page;
    markup_dir: where each widget's HTML (and, for decoders, test data) goes."""
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from matplotlib.figure import Figure

    ip = get_ipython()
    if ip is None:
        raise RuntimeError("website.export.enable() runs inside an IPython kernel")
    _state.update(page=page, files=Folder(Path(files_dir), files_url), markup_dir=Path(markup_dir),
                  widgets=[])
    for folder in (_state["files"].path, _state["markup_dir"]):
        folder.mkdir(parents=True, exist_ok=True)

    # The page shows figures inline whatever MPLBACKEND says (MPLBACKEND=Agg, usual on servers,
    # would leave no PNG formatter for figures). The inline backend registers its formatters
    # when it is loaded: load it now, so that ours wraps its PNG formatter.
    ip.run_line_magic("matplotlib", "inline")
    plt.close(plt.figure())
    png = ip.display_formatter.formatters["image/png"]
    original = png.lookup_by_type(Figure)

    def png_with_alt(fig):
        data = original(fig)
        metadata = {}
        if isinstance(data, tuple):
            data, metadata = data
        return data, {**(metadata or {}), "alt": describe_figure(fig)}

    png.for_type(Figure, png_with_alt)

    html_formatter = ip.display_formatter.formatters["text/html"]
    for name in dir(course_widgets):
        cls = getattr(course_widgets, name)
        if isinstance(cls, type) and hasattr(cls, "children"):
            html_formatter.for_type(cls, _placeholder)


def _placeholder(widget) -> str:
    number = len(_state["widgets"]) + 1
    widget_id = f"{_state['page']}-{number}"
    _state["widgets"].append((widget_id, widget))
    return f'<div class="aew-placeholder" data-aew="{widget_id}"></div>'


# --- the web forms -----------------------------------------------------------------------------

def export_widgets() -> list[dict]:
    """Called in a hidden last cell: write the web form of every widget this notebook showed,
    <markup_dir>/<id>.html (the player's markup), and the files it names; a summary in
    <markup_dir>/widgets.json."""
    import time
    summary = []
    for widget_id, widget in _state.get("widgets", []):
        started = time.perf_counter()
        form, markup = web_form(widget, widget_id, _state["files"], _state["markup_dir"])
        (_state["markup_dir"] / f"{widget_id}.html").write_text(markup, encoding="utf-8")
        weights = _state["markup_dir"] / f"{widget_id}-weights.json"
        summary.append({"id": widget_id, "class": type(widget).__name__, "form": form,
                        "frames": markup.count('"img":['), "seconds": round(time.perf_counter() - started, 1),
                        "networks": json.loads(weights.read_text()) if weights.exists() else {}})
    (_state["markup_dir"] / "widgets.json").write_text(json.dumps(summary, indent=1))
    return summary


class Folder:
    """A folder of the site and its address relative to the page that uses it; it remembers
    the size of each picture written into it (for the pages' width and height attributes)."""

    def __init__(self, path: Path, url: str):
        self.path, self.url = Path(path), url.rstrip("/")
        self.sizes: dict[str, tuple[int, int]] = {}
        # the formats chosen for each network written here (by network_key): another widget of
        # the page that runs the same network keeps them, so that the page fetches it once
        self.formats: dict[str, list[str]] = {}

    def write(self, name: str, data: bytes) -> str:
        """Write data as `name` (once: names are hashes of their content); return its URL."""
        self.path.mkdir(parents=True, exist_ok=True)
        if not (self.path / name).exists():
            (self.path / name).write_bytes(data)
        return f"{self.url}/{name}"

    def img(self, url: str, alt: str, lazy: bool = True) -> str:
        """An <img> of a picture written here: sized (no layout shift as it arrives) and, below
        the fold, loaded only when the reader scrolls near it."""
        width, height = self.sizes[url]
        loading = ' loading="lazy" decoding="async"' if lazy else ""
        return (f'<img class="aew-picture" src="{url}" alt="{html.escape(alt)}" width="{width}" '
                f'height="{height}"{loading}>')


class NoWebForm(LookupError):
    """A course widget whose class has no entry in FORMS (nor any of its base classes)."""


def web_form(widget, widget_id: str, files: Folder, markup_dir: Path) -> tuple[str, str]:
    """(form, HTML) for one widget: 'decoder', 'drawing', 'frames' or 'static' (see the
    module's doc)."""
    import torch
    from threadpoolctl import threadpool_limits
    # One thread: each frame is a small computation, and OpenMP's waiting threads slow t-SNE
    # tenfold on a busy machine (66 s instead of 7 s for 500 points, measured).
    threads = torch.get_num_threads()
    with threadpool_limits(limits=1):
        torch.set_num_threads(1)
        try:
            return _web_form(widget, widget_id, files, markup_dir)
        finally:
            torch.set_num_threads(threads)


def _web_form(widget, widget_id: str, files: Folder, markup_dir: Path) -> tuple[str, str]:
    spec = form_of(type(widget))
    if spec is None:
        if isinstance(widget, course_widgets.Widget):
            raise NoWebForm(f"{type(widget).__qualname__} (widget {widget_id}) is a course widget "
                            f"with no web form: add its class to FORMS in website/export.py")
        return "static", _static_form(widget, widget_id, files)
    if spec == Live("decoder"):
        layers = decoder_layers(widget)
        if layers is not None:
            return "decoder", _decoder_form(widget, widget_id, files, markup_dir, layers)
        return "static", _static_form(widget, widget_id, files)
    if spec == Live("drawing"):
        markup = _drawing_form(widget, widget_id, files, markup_dir)
        if markup is not None:
            return "drawing", markup
        return "static", _static_form(widget, widget_id, files)
    return "frames", _frames_form(widget, widget_id, files, spec)


GREY_LEVELS = 48     # shades of grey a widget's greyscale picture keeps on the website


# Widgets' pictures are stored as lossless WebP: the same pixels as the PNG, about a fifth fewer
# bytes on these figures (every current browser reads it: Chrome 32, Firefox 65, Safari 14).
# The encoder's effort (for lossless WebP, `method` and `quality` both set it): method 4 at
# quality 100 took 0.05 s per frame of 08 and 09 for 77% of the PNG's bytes; method 5, 0.3 s
# for 74%; method 6, 1.6 s for 74%.
WEBP_EFFORT = {"method": 4, "quality": 100}


def _save_picture(png: bytes, files: Folder) -> str:
    """Save a widget's picture (PNG bytes, as the kernel made it) under a name made of its hash
    (the same picture is stored once), compressed for the web: greyscale pictures with
    GREY_LEVELS evenly spaced shades (each pixel within 3 of its 255 levels, which no eye tells
    apart on these digits and plots, and a sixth smaller: 3 MB of the site's precomputed
    frames), coloured ones reduced to a palette of 256 colours (as a GIF would; invisible on
    these figures, and a third of the size); then written as lossless WebP."""
    from PIL import Image
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
        step = 255 / (GREY_LEVELS - 1)
        grey = np.round(np.round(rgb[..., 0] / step) * step).astype(np.uint8)
        image = Image.fromarray(grey, mode="L")
    else:
        image = Image.fromarray(rgb).quantize(256, method=Image.Quantize.FASTOCTREE,
                                              dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="webp", lossless=True, exact=True, **WEBP_EFFORT)
    data = buffer.getvalue()
    url = files.write(hashlib.sha256(data).hexdigest()[:16] + ".webp", data)
    files.sizes[url] = image.size
    return url


def _controls(widget) -> list:
    """(name, control) for each control of a widget: a course widget lists them itself
    (`widget.controls`, helpers.widgets.base); for any other box, each control that is one of
    its attributes, in the order it shows them."""
    import ipywidgets as w
    if isinstance(getattr(widget, "controls", None), dict):
        return list(widget.controls.items())
    kinds = (w.ToggleButtons, w.Dropdown, w.RadioButtons, w.SelectionSlider, w.IntSlider, w.FloatSlider)
    found = {id(v): k for k, v in vars(widget).items() if isinstance(v, kinds)}
    ordered = []

    def walk(node):
        if id(node) in found:
            ordered.append((found[id(node)], node))
        for child in getattr(node, "children", ()):
            walk(child)

    walk(widget)
    return ordered


def _outputs(widget, skip=()):
    """The widget's pictures and HTML texts, in the order it shows them: a course widget's
    picture is `widget.picture` (helpers.widgets.base); any other box, its Image children."""
    import ipywidgets as w
    skip_ids = {id(getattr(widget, name)) for name in skip if hasattr(widget, name)}
    images, texts = [], []

    def walk(node):
        if id(node) in skip_ids:
            return
        if isinstance(node, w.Image):
            images.append(node)
        elif isinstance(node, w.HTML):
            texts.append(node)
        for child in getattr(node, "children", ()):
            walk(child)

    walk(widget)
    if isinstance(getattr(widget, "picture", None), w.Image):
        images = [widget.picture]
    return images, texts


def _choices(control) -> list[tuple[str, object]]:
    """Every (label, value) a control offers."""
    import ipywidgets as w
    if isinstance(control, (w.ToggleButtons, w.Dropdown, w.RadioButtons, w.SelectionSlider)):
        return list(zip(control._options_labels, control._options_values))
    count = int(math.floor((control.max - control.min) / control.step + 1e-9)) + 1
    values = [control.min + i * control.step for i in range(count)]
    if isinstance(control, w.IntSlider):
        values = [int(v) for v in values]
    else:
        values = [round(v, 10) for v in values]
    return [(_readout(control, v), v) for v in values]


def _readout(control, value) -> str:
    fmt = getattr(control, "readout_format", "d")
    try:
        return format(value, fmt)
    except (TypeError, ValueError):
        return str(value)


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _frames_form(widget, widget_id: str, files: Folder, spec: Frames) -> str:
    import ipywidgets as w
    controls = _controls(widget)
    names = [name for name, _ in controls]
    start = {name: c.value for name, c in controls}
    # The values each control takes on the page: the union over the sub-grids, in the
    # control's own order; a control no sub-grid moves keeps its current value.
    combos = []
    for grid in spec.grids:
        unknown = set(grid) - set(names)
        if unknown:
            raise ValueError(f"{type(widget).__name__} has no control named {sorted(unknown)}")
        axes = []
        for name, control in controls:
            wanted = grid.get(name)
            if wanted is None:
                axes.append([start[name]])
            elif wanted == ALL:
                axes.append([v for _, v in _choices(control)])
            else:                # values outside a slider's range would be clamped: left out
                low, high = getattr(control, "min", None), getattr(control, "max", None)
                inside = [v for v in wanted if low is None or low - 1e-9 <= v <= high + 1e-9]
                axes.append(inside or [start[name]])
        combos.extend(itertools.product(*axes))
    start_combo = tuple(start[n] for n in names)
    if start_combo not in combos:          # the picture as executed is always one frame
        combos.insert(0, start_combo)
    values = {}
    for i, (name, control) in enumerate(controls):
        seen = []
        for combo in combos:
            if not any(_same(combo[i], u) for u in seen):
                seen.append(combo[i])
        order = [v for _, v in _choices(control)]      # the control's own order of values
        rank = {repr(v): k for k, v in enumerate(order)}
        values[name] = sorted(seen, key=lambda v: (rank.get(repr(v), len(order)),
                                                   v if isinstance(v, (int, float)) else 0))

    images, texts = _outputs(widget, spec.skip_html)
    fig = _figure_of(widget)
    srcs, alts, htmls, frames = [], [], [], {}

    def intern(table, item):
        if item not in table:
            table.append(item)
        return table.index(item)

    def set_controls(combo):
        for (name, control), v in zip(controls, combo):
            if not _same(control.value, v):
                control.value = v

    if spec.warm_up:
        for combo in combos:
            set_controls(combo)
    for combo in combos:
        set_controls(combo)
        # Read the values back: a widget may move one control when another changes
        # (EmbeddingComparison forces latent size 2 for 2-D codes).
        actual = [c.value for _, c in controls]
        index = []
        for name, v in zip(names, actual):
            found = [i for i, u in enumerate(values[name]) if _same(u, v)]
            index.append(found[0] if found else None)
        if None in index:
            continue
        key = ",".join(map(str, index))
        if key in frames:
            continue
        frames[key] = {"img": [intern(srcs, _save_picture(i.value, files)) for i in images],
                       "alt": intern(alts, describe_figure(fig) if fig is not None else "widget picture"),
                       "html": [intern(htmls, t.value) for t in texts]}
    set_controls(tuple(start[n] for n in names))

    web_controls = []
    for name, control in controls:
        own = {repr(v): label for label, v in _choices(control)}
        kind = "choice" if isinstance(control, (w.ToggleButtons, w.Dropdown, w.RadioButtons)) else "range"
        web_controls.append({
            "name": name, "label": control.description or name, "kind": kind,
            "values": [own.get(repr(v), _readout(control, v)) for v in values[name]],
            "start": next(i for i, v in enumerate(values[name]) if _same(v, start[name]))})
    data = {"form": "frames", "controls": web_controls, "frames": frames, "srcs": srcs,
            "alts": alts, "htmls": htmls}
    return _player_markup(widget_id, "frames", data, spec.note, files=files)


def _static_form(widget, widget_id: str, files: Folder) -> str:
    images, texts = _outputs(widget)
    fig = _figure_of(widget)
    alt = describe_figure(fig) if fig is not None else f"{type(widget).__name__} as executed"
    pictures = "".join(files.img(_save_picture(i.value, files), alt) for i in images if i.value)
    words = "".join(f'<div class="aew-html">{t.value}</div>' for t in texts)
    return (f'<figure class="aew aew-static" id="aew-{widget_id}">{words}{pictures}'
            f'<figcaption class="aew-note">This picture is the widget as executed: it moves in '
            f'JupyterLab (<code>make lab</code>).</figcaption></figure>')


def _player_markup(widget_id: str, form: str, data: dict, note: str, extra: str = "",
                   files: Folder | None = None) -> str:
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    note_html = f'<figcaption class="aew-note">{html.escape(note)}</figcaption>' if note else ""
    first = ""
    if form == "frames":
        key = ",".join(str(c["start"]) for c in data["controls"])
        frame = data["frames"].get(key) or next(iter(data["frames"].values()))
        texts = "".join(f'<div class="aew-html">{data["htmls"][i]}</div>' for i in frame["html"])
        pictures = "".join(files.img(data["srcs"][i], data["alts"][frame["alt"]]) for i in frame["img"])
        first = f'<div class="aew-texts">{texts}</div>{pictures}'
    return (f'<figure class="aew aew-{form}" id="aew-{widget_id}" data-aew-form="{form}">'
            f'<div class="aew-controls"></div>{first}{extra}{note_html}'
            f'<script type="application/json" class="aew-data">{payload}</script></figure>')


# --- the browser decoder ------------------------------------------------------------------

# How a network's weights travel to the page, chosen for each Linear layer at build time:
#   "float16"  its weight and bias in float16 (half the bytes of float32);
#   "int8"     its weight row by row as int8 numbers times one float32 scale per row (the
#              row's largest |weight| / 127), its bias in float32: about a quarter of the bytes
#              of float32. Kept only where the page computes what PyTorch does within
#              INT8_MARGIN (choose_formats).
# A network is one file: .f16 if all its layers are float16, else .i8.
FORMATS = {"float16": ".f16", "int8": ".i8"}
# The largest difference int8 weights may make on the page's check data (every number the
# widget computes: pixels, codes, probabilities, errors), against the float32 networks: well
# inside the tolerances of the site's page-against-PyTorch tests (tests/browser/test_site.py:
# 0.01 per pixel and per probability, 0.02 for mu and sigma, 0.05 for codes), leaving room for
# the browser's float32 arithmetic. Every text must have the same words (the judge's verdict,
# the names of the nearest digits) and each number in it the same up to one unit of its last
# printed digit, a rounding that float16 weights tip too: so the mean squared errors, printed
# to 4 decimals, stay within 0.0002 (the tests allow 0.001). Else float16 is kept.
INT8_MARGIN = 0.004
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def same_text(ours: str, theirs: str) -> bool:
    """The same words, and each number the same up to one unit of its last printed digit."""
    if _NUMBER.split(ours) != _NUMBER.split(theirs):
        return False
    for a, b in zip(_NUMBER.findall(ours), _NUMBER.findall(theirs)):
        unit = 10.0 ** -len(b.split(".")[1]) if "." in b else 1.0
        if abs(float(a) - float(b)) > 1.01 * unit:
            return False
    return True


def network_layers(modules) -> list[dict] | None:
    """A network (an nn.Sequential or a list of modules) as a list of layers the page can run:
    Linear (its weight and bias in float32, as trained), ReLU, Sigmoid, Tanh; None if it has any
    other kind of layer. `stored` gives them as a page gets them."""
    layers = []
    for module in modules:
        kind = type(module).__name__
        if kind not in DECODER_LAYERS:
            return None
        if kind == "Linear":
            weight = to_numpy(module.weight).astype(np.float32)
            bias = to_numpy(module.bias).astype(np.float32)
            layers.append({"kind": "Linear", "in": weight.shape[1], "out": weight.shape[0],
                           "weight": weight, "bias": bias})
        elif kind != "Identity":
            layers.append({"kind": kind})
    return layers


def quantise_rows(weight) -> tuple[np.ndarray, np.ndarray]:
    """A weight matrix as int8 numbers and one float32 scale per row (output): the row's largest
    |weight| / 127 (1 for a row of zeros), so each weight is within scale / 2 of q * scale."""
    weight = np.asarray(weight, dtype=np.float32)
    scale = (np.abs(weight).max(axis=1) / 127).astype(np.float32)
    scale[scale == 0] = 1
    q = np.clip(np.round(weight / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def dequantise_rows(q, scale) -> np.ndarray:
    """The float32 weights the page computes with: q * scale, row by row."""
    return np.asarray(q, dtype=np.float32) * np.asarray(scale, dtype=np.float32)[:, None]


def stored(layers: list[dict], fmt) -> list[dict]:
    """A network's layers (network_layers) as the page gets them: each Linear in format `fmt`
    (FORMATS), or in the format a list gives for each Linear in turn: in float16 its weight and
    bias (little-endian); in int8 its weight as int8 with a float32 scale per row, its bias in
    float32."""
    count = sum(layer["kind"] == "Linear" for layer in layers)
    formats = [fmt] * count if isinstance(fmt, str) else list(fmt)
    if len(formats) != count:
        raise ValueError(f"{len(formats)} formats for a network of {count} Linear layers")
    for name in formats:
        if name not in FORMATS:
            raise ValueError(f"unknown weight format {name!r}: one of {', '.join(FORMATS)}")
    out, formats = [], iter(formats)
    for layer in layers:
        if layer["kind"] == "Linear":
            name = next(formats)
            if name == "float16":
                layer = {**layer, "format": name, "weight": np.asarray(layer["weight"]).astype("<f2"),
                         "bias": np.asarray(layer["bias"]).astype("<f2")}
            else:
                q, scale = quantise_rows(layer["weight"])
                layer = {**layer, "format": name, "weight": q, "scale": scale.astype("<f4"),
                         "bias": np.asarray(layer["bias"]).astype("<f4")}
        out.append(layer)
    return out


def _linear(layer: dict) -> tuple[np.ndarray, np.ndarray]:
    """A Linear layer's weight and bias as the page computes with them, in float32."""
    weight = (dequantise_rows(layer["weight"], layer["scale"]) if layer.get("format") == "int8"
              else np.asarray(layer["weight"], dtype=np.float32))
    return weight, np.asarray(layer["bias"], dtype=np.float32)


def run_layers(layers: list[dict], x) -> np.ndarray:
    """What the page computes, in NumPy (float32 arithmetic on the weights as stored)."""
    x = np.asarray(x, dtype=np.float32)
    for layer in layers:
        if layer["kind"] == "Linear":
            weight, bias = _linear(layer)
            x = x @ weight.T + bias
        elif layer["kind"] == "ReLU":
            x = np.maximum(x, 0)
        elif layer["kind"] == "Sigmoid":
            x = 1 / (1 + np.exp(-x))
        elif layer["kind"] == "Tanh":
            x = np.tanh(x)
    return x


def decoder_layers(widget) -> list[dict] | None:
    """The decoder of a latent explorer as network_layers, or None if it has any other kind
    of layer or if running them (in float16, as stored) does not reproduce the widget's own
    `decode` (then no decoder form)."""
    import torch
    layers = network_layers(widget.web_parts()["networks"]["decoder"])
    if layers is None:
        return None
    codes = np.random.default_rng(0).uniform(-2, 2, size=(5, 2))
    ours = run_decoder(stored(layers, "float16"), codes)
    with torch.no_grad():
        theirs = np.stack([widget.decode(float(a), float(b)).reshape(-1) for a, b in codes])
    return layers if np.abs(ours - theirs).max() < 0.01 else None


def run_decoder(layers: list[dict], codes) -> np.ndarray:
    """The page's decoder: run_layers, clamped to [0, 1] as the widget's decode is."""
    return np.clip(run_layers(layers, codes), 0, 1)


def difference(ours, theirs) -> float:
    """The largest difference between two results of a widget (numbers, arrays, texts, and
    dicts or lists of them): |a - b| over every number; infinite if the shape of the results
    differs or a text is not the `same_text`."""
    if isinstance(ours, dict) or isinstance(theirs, dict):
        if not (isinstance(ours, dict) and isinstance(theirs, dict)) or ours.keys() != theirs.keys():
            return math.inf
        return max((difference(ours[k], theirs[k]) for k in ours), default=0.0)
    if isinstance(ours, str) or isinstance(theirs, str):
        return 0.0 if isinstance(ours, str) and isinstance(theirs, str) and same_text(ours, theirs) else math.inf
    a, b = np.asarray(ours), np.asarray(theirs)
    if a.dtype == object or b.dtype == object:
        if not (isinstance(ours, (list, tuple)) and isinstance(theirs, (list, tuple))) or len(ours) != len(theirs):
            return math.inf
        return max((difference(x, y) for x, y in zip(ours, theirs)), default=0.0)
    if a.shape != b.shape:
        return math.inf
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max()) if a.size else 0.0


def network_key(layers: list[dict]) -> str:
    """A network's identity (network_layers): a hash of its layers and float32 weights."""
    digest = hashlib.sha256()
    for layer in layers:
        digest.update(layer["kind"].encode())
        if layer["kind"] == "Linear":
            digest.update(np.asarray(layer["weight"], "<f4").tobytes() + np.asarray(layer["bias"], "<f4").tobytes())
    return digest.hexdigest()


def choose_formats(networks: dict[str, list[dict]], run, reference, margin: float = INT8_MARGIN,
                   fixed: dict[str, list[str]] | None = None):
    """The format each Linear layer of each network travels in: int8 where the page's results
    stay within `margin` of the float32 networks' (`reference`), else float16. networks: name ->
    network_layers; run(stored networks, name -> layers as stored) -> the page's results on its
    check data. Starting from every layer in float16, each in turn (the largest first) becomes
    int8 if the results with it, and with those already int8, stay within the margin
    (`difference`): the choice is tested as the page runs it, the errors of every int8 layer
    added up. fixed: name -> formats another widget of the page chose for that network, kept
    (so that the page shares its file) if the results stay within the margin with them, else
    chosen afresh. Returns (name -> layers as stored, name -> {"format": "int8", "float16" or
    "int8+float16", "layers": each Linear's format, "difference": the largest difference of the
    results as chosen, "float16": with every layer in float16, "refused": the difference each
    layer left in float16 made when tried in int8}."""
    def float16(name):
        return ["float16"] * sum(layer["kind"] == "Linear" for layer in networks[name])

    def stored_all(formats):
        return {name: stored(layers, formats[name]) for name, layers in networks.items()}

    formats = {name: float16(name) for name in networks}
    chosen = stored_all(formats)
    float16_difference = found = difference(run(chosen), reference)
    fixed = {name: list(f) for name, f in (fixed or {}).items() if name in networks}
    if fixed:
        trial = stored_all({**formats, **fixed})
        tried = difference(run(trial), reference)
        if tried < margin:
            formats.update(fixed)
            chosen, found = trial, tried
        else:
            fixed = {}
    refused = {name: [] for name in networks}
    sizes = [(layer["in"] * layer["out"], name, k) for name, layers in networks.items() if name not in fixed
             for k, layer in enumerate([layer for layer in layers if layer["kind"] == "Linear"])]
    for _, name, k in sorted(sizes, key=lambda size: -size[0]):
        trial_formats = [*formats[name][:k], "int8", *formats[name][k + 1:]]
        trial = {**chosen, name: stored(networks[name], trial_formats)}
        tried = difference(run(trial), reference)
        if tried < margin:
            chosen, formats[name], found = trial, trial_formats, tried
        else:
            refused[name].append(tried)
    report = {}
    for name in networks:
        kinds = sorted(set(formats[name]), reverse=True)
        report[name] = {"format": "+".join(kinds) if kinds else "float16", "layers": formats[name],
                        "difference": found, "float16": float16_difference, "refused": refused[name],
                        "shared": name in fixed}
    return chosen, report


def _network_file(layers: list[dict], files: Folder) -> dict:
    """Write a network's weights, as `stored` gives them, as one binary file: each Linear in
    turn, in its format (float16: its weight then its bias, little-endian float16; int8: its
    int8 weight, then its float32 scales, then its float32 bias), named by its content (.f16 if
    every layer is float16, else .i8): a network that two widgets of a page share with the same
    formats is stored and fetched once. Returns what the page needs to fetch and run it: the
    file's URL and size, and the layers (each Linear with its format and its offset in the
    file, in bytes)."""
    blob, page_layers = bytearray(), []
    for layer in layers:
        if layer["kind"] == "Linear":
            page_layers.append({"kind": "Linear", "in": layer["in"], "out": layer["out"],
                                "format": layer["format"], "offset": len(blob)})
            parts = [layer["weight"]] + ([layer["scale"]] if layer["format"] == "int8" else []) + [layer["bias"]]
            blob += b"".join(p.tobytes() for p in parts)
        else:
            page_layers.append({"kind": layer["kind"]})
    int8 = any(layer.get("format") == "int8" for layer in page_layers)
    url = files.write(f"net-{hashlib.sha256(blob).hexdigest()[:16]}{FORMATS['int8' if int8 else 'float16']}", bytes(blob))
    return {"url": url, "bytes": len(blob), "layers": page_layers}


def _background(redraw, files: Folder) -> str:
    """The figure of a FastRedraw without its moving parts, saved as a picture; its URL."""
    from PIL import Image
    redraw.canvas.restore_region(redraw.background)
    rgba = np.asarray(redraw.canvas.buffer_rgba())[..., :3].copy()
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="png")
    return _save_picture(buffer.getvalue(), files)


def _pixel_box(artist, height: float) -> list[float]:
    """An artist's box in canvas pixels (origin top left): [x, y, width, height]."""
    bbox = artist.get_window_extent(artist.figure.canvas.get_renderer())
    return [bbox.x0, height - bbox.y1, bbox.width, bbox.height]


def _axes_map(ax, height: float) -> dict:
    """How the page turns data coordinates of `ax` into canvas pixels, and the axes' box."""
    (x0, y0), (x1, y1) = ax.transData.transform([(ax.get_xlim()[0], ax.get_ylim()[0]),
                                                  (ax.get_xlim()[1], ax.get_ylim()[1])])
    return {"x": [x0, x1], "y": [height - y0, height - y1],
            "xlim": list(ax.get_xlim()), "ylim": list(ax.get_ylim())}


def _text_slot(text, height: float) -> dict:
    """Where the page writes a (centred) text: its centre, the bottom of its lines, its size."""
    box = text.get_window_extent(text.figure.canvas.get_renderer())
    return {"x": (box.x0 + box.x1) / 2, "bottom": height - box.y0,
            "size": text.get_fontsize() * text.figure.dpi / 72}


def _json_file(value, files: Folder) -> dict:
    """Write a value as a JSON file of the site, named by its content; its URL and size."""
    blob = json.dumps(value, separators=(",", ":")).encode()
    return {"url": files.write(f"data-{hashlib.sha256(blob).hexdigest()[:16]}.json", blob), "bytes": len(blob)}


def _words(**extra) -> dict:
    return {**WORDS, **extra}


def _megabytes(size: int) -> str:
    """A download's size as the loading line shows it."""
    return f"{size / 1e6:.1f} MB"


def _decoder_form(widget, widget_id: str, files: Folder, markup_dir: Path, layers: list[dict]) -> str:
    import torch
    parts = widget.web_parts()
    redraw, fig = widget.redraw, widget.redraw.fig
    height = fig.bbox.height
    background = _background(redraw, files)     # without digit, cross and caption
    sliders = [{"label": s.description, "min": s.min, "max": s.max, "step": s.step,
                "value": s.value, "format": s.readout_format} for s in parts["sliders"]]
    dpi_scale = fig.dpi / 72
    # A fixture for the tests (not part of the site): the PyTorch decoder's output for 100
    # codes across the sliders' ranges, to compare with what the page computes; on them, the
    # decoder's weights travel in int8 if the page's digits stay within INT8_MARGIN.
    rng = np.random.default_rng(1)
    codes = np.column_stack([rng.uniform(s["min"], s["max"], 100) for s in sliders])
    with torch.no_grad():
        reference = np.stack([widget.decode(float(a), float(b)).reshape(-1) for a, b in codes])
    (markup_dir / f"{widget_id}-decoder-check.json").write_text(json.dumps(
        {"codes": codes.tolist(), "pixels": np.round(reference, 6).tolist()}))
    key = network_key(layers)
    chosen, report = choose_formats({"decoder": layers}, lambda nets: run_decoder(nets["decoder"], codes),
                                    reference, fixed={"decoder": files.formats[key]} if key in files.formats else {})
    files.formats.setdefault(key, report["decoder"]["layers"])
    data = {
        "form": "decoder", "sliders": sliders, "network": _network_file(chosen["decoder"], files),
        "size": [fig.bbox.width, height], "background": background,
        "alt": describe_figure(fig),
        "image_box": _pixel_box(parts["images"]["digit"], height),
        "axes": _axes_map(parts["axes"], height),
        "marker_size": math.sqrt(float(parts["marker"].get_sizes()[0])) * dpi_scale,
        "caption": {"template": parts["templates"]["caption"], **_text_slot(parts["texts"]["caption"], height)},
        "pixels": list(course_drawing.PIXEL_RANGE),
        "words": _words(),
    }
    data["download"] = _megabytes(data["network"]["bytes"])
    _write_weights_report(markup_dir, widget_id, report, {"decoder": layers}, {"decoder": data["network"]})
    extra = (f'<canvas class="aew-canvas" width="{int(fig.bbox.width)}" height="{int(height)}" '
             f'role="img" aria-label="{html.escape(data["alt"])}"></canvas>'
             '<p class="aew-status" role="status"></p>')
    return _player_markup(widget_id, "decoder", data, DECODER_NOTE, extra)


# --- the drawing pads -------------------------------------------------------------------------

def _drawing_form(widget, widget_id: str, files: Folder, markup_dir: Path) -> str | None:
    """The web form of a drawing view (helpers/widgets/drawing.py), from its `web_parts()`:
    a pad, the view's controls, its figure without the moving parts, where the page draws
    those, its text templates, and its networks as binary files (each layer in int8 where the
    page's results stay within INT8_MARGIN, else float16: choose_formats). None if a network has a layer the
    page cannot run. Writes <id>-drawing-check.json for the tests: what PyTorch computes for a
    few digits (on which the formats are chosen)."""
    from PIL import Image

    from helpers.drawing import EXAMPLES, prepare_digit, render_strokes
    from helpers.widgets.drawing import EMPTY
    parts = widget.web_parts()
    layers = {name: network_layers(modules) for name, modules in parts["networks"].items()}
    if any(network is None for network in layers.values()):
        return None
    # A fixture for the tests (not part of the site): PyTorch's results for the digit the
    # notebook left on the pad and for the examples, under a few settings of the controls.
    pad = widget.pad
    digits = ([pad.digit] if pad.digit is not None else []) + [
        prepare_digit(render_strokes(strokes)) for strokes in EXAMPLES.values()]
    settings = [{}]
    if "kind" in widget.controls:         # the denoising view: each noise at two levels
        settings = [{"kind": k, "level": level} for k in parts["data"]["kinds"] for level in (0.25, 0.6)]
    cases = [(digit, setting) for digit in digits for setting in settings]

    def results():
        out = []
        for digit, setting in cases:
            result = widget.compute(digit, **setting)
            result.update(parts.get("check", lambda r: {})(result))
            out.append(result)
        return out

    reference = results()
    (markup_dir / f"{widget_id}-drawing-check.json").write_text(json.dumps([
        {"digit": np.round(digit, 7).reshape(-1).tolist(), "setting": setting, "result": _jsonable(result)}
        for (digit, setting), result in zip(cases, reference)]))
    chosen, report = _choose_view_formats(parts["networks"], layers, results, reference, files)
    networks = {name: _network_file(chosen[name], files) for name in layers}
    _write_weights_report(markup_dir, widget_id, report, layers, networks)
    fig, height = widget.redraw.fig, widget.redraw.fig.bbox.height
    dpi_scale = fig.dpi / 72

    def boxes(artists):
        return [_pixel_box(a, height) for a in artists] if isinstance(artists, list) else _pixel_box(artists, height)

    def slots(texts):
        return [_text_slot(t, height) for t in texts] if isinstance(texts, list) else _text_slot(texts, height)

    controls = []
    for name, control in widget.controls.items():
        choices = _choices(control)
        kind = "choice" if isinstance(control.value, str) else "range"
        controls.append({"name": name, "label": control.description or name, "kind": kind,
                         "values": [label for label, _ in choices], "numbers": [v for _, v in choices],
                         "start": next(i for i, (_, v) in enumerate(choices) if _same(v, control.value))})
    start = None
    if pad.background is not None and not pad.strokes:     # a digit loaded from code
        step = pad.size // 28
        start = np.round(pad.background[::step, ::step] * 255).astype(int).reshape(-1).tolist()
    data = {
        "form": "drawing", "view": parts["view"], "networks": networks, "empty": EMPTY,
        "templates": parts["templates"], "controls": controls, "size": [fig.bbox.width, height],
        "background": _background(widget.redraw, files), "alt": describe_figure(fig),
        "images": {k: boxes(v) for k, v in parts["images"].items()},
        "texts": {k: slots(v) for k, v in parts["texts"].items()},
        "pad": {"size": pad.size, "pen": pad.pen_width, "eraser": pad.eraser_width, "start": start,
                "buttons": pad.labels(),
                # helpers.drawing.prepare_digit's constants, for the page's port of it
                "box": course_drawing.BOX, "frame": course_drawing.FRAME,
                "threshold": course_drawing.INK_THRESHOLD, "pixels": list(course_drawing.PIXEL_RANGE),
                "examples": [{"name": k, "strokes": [{"points": [list(map(float, p)) for p in s.points],
                                                      "width": s.width, "erase": s.erase} for s in v]}
                             for k, v in EXAMPLES.items()]},
        "pixels": list(course_drawing.PIXEL_RANGE),
        "salt_share": SALT_SHARE,                  # helpers.corruption.salt_and_pepper's coin
        "words": _words(),
        # the view's own data (codes of the training digits, random numbers, ...): a file fetched
        # with the networks, not in the page, which it would make slower to open
        "view_data": _json_file(parts["data"], files),
    }
    if "axes" in parts:
        data["axes"] = _axes_map(parts["axes"], height)
    if "marker" in parts:
        data["marker_size"] = math.sqrt(float(parts["marker"].get_sizes()[0])) * dpi_scale
    if "ellipse" in parts:
        data["ellipse_width"] = parts["ellipse"].get_linewidth() * dpi_scale
        data["centre_size"] = parts["centre"].get_markersize() * dpi_scale
        data["centre_width"] = parts["centre"].get_markeredgewidth() * dpi_scale
    if "sheet" in parts:                  # training digits in rows of 50, for the neighbours
        images = np.asarray(parts["sheet"]).reshape(-1, 28, 28)
        rows = -(-len(images) // 50)
        sheet = np.zeros((rows * 28, 50 * 28), dtype=np.uint8)
        for i, image in enumerate(images):
            r, c = divmod(i, 50)
            sheet[r * 28:(r + 1) * 28, c * 28:(c + 1) * 28] = np.round(np.clip(image, 0, 1) * 255)
        buffer = io.BytesIO()
        Image.fromarray(sheet).save(buffer, format="png")
        data["sheet"] = _save_picture(buffer.getvalue(), files)
    sheet_bytes = (files.path / data["sheet"].split("/")[-1]).stat().st_size if "sheet" in data else 0
    data["download"] = _megabytes(sum(n["bytes"] for n in {n["url"]: n for n in networks.values()}.values())
                                  + sheet_bytes + data["view_data"]["bytes"])

    labels = pad.labels()
    extra = (
        '<div class="aew-drawing-row"><div class="aew-pad">'
        f'<canvas class="aew-pad-canvas" width="{pad.size}" height="{pad.size}" role="img" '
        f'aria-label="{html.escape(PAD_LABEL)}">{html.escape(PAD_LABEL)}</canvas>'
        '<div class="aew-pad-side"><div class="aew-pad-buttons"></div>'
        f'<p class="aew-small">{html.escape(labels["sees"])}</p>'
        '<canvas class="aew-preview" width="84" height="84" role="img" '
        f'aria-label="{html.escape(WORDS["preview"].format(what=WORDS["empty"]))}"></canvas></div></div>'
        '<div class="aew-view">'
        f'<canvas class="aew-canvas" width="{int(fig.bbox.width)}" height="{int(height)}" '
        f'role="img" aria-label="{html.escape(data["alt"])}"></canvas>'
        '<p class="aew-status" role="status"></p>'
        f'<p class="aew-result" aria-live="polite">{html.escape(widget.result.value)}</p></div></div>')
    return _player_markup(widget_id, "drawing", data, parts["note"], extra)


def _jsonable(value):
    """A widget's result (NumPy arrays, tensors, numbers, dicts) as JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 7)
    return value


def _choose_view_formats(modules: dict, layers: dict, results, reference, files: Folder):
    """choose_formats for a drawing view: its networks (name -> modules, as web_parts gives
    them, and as network_layers) tried in PyTorch itself, by computing the view's `results()`
    with each Linear's weights set to the stored ones (and set back afterwards). Names that run
    the very same modules (one DAE for two kinds of noise) are one network, chosen once;
    networks that share only some of their modules all stay float16. A network another widget
    of the page runs keeps the formats chosen there if they suit this view (files.formats)."""
    import torch
    key = {name: tuple(id(m) for m in ms) for name, ms in modules.items()}
    first = {}                                   # one name per distinct network
    for name in modules:
        first.setdefault(key[name], name)
    ids = [i for k in first for i in k]
    if len(ids) != len(set(ids)):
        return {n: stored(l, "float16") for n, l in layers.items()}, {
            n: {"format": "float16", "layers": [l["format"] for l in stored(ls, "float16") if l["kind"] == "Linear"],
                "difference": None, "float16": None, "refused": [], "shared": False} for n, ls in layers.items()}
    linears = {name: [m for m in modules[name] if type(m).__name__ == "Linear"] for name in first.values()}
    saved = {id(m): (m.weight.detach().clone(), m.bias.detach().clone()) for ms in linears.values() for m in ms}

    def run(networks):
        with torch.no_grad():
            for name, ms in linears.items():
                for module, layer in zip(ms, [l for l in networks[name] if l["kind"] == "Linear"]):
                    weight, bias = _linear(layer)
                    module.weight.copy_(torch.from_numpy(weight))
                    module.bias.copy_(torch.from_numpy(bias))
        try:
            return results()
        finally:
            with torch.no_grad():
                for ms in linears.values():
                    for module in ms:
                        module.weight.copy_(saved[id(module)][0])
                        module.bias.copy_(saved[id(module)][1])

    keys = {name: network_key(layers[name]) for name in first.values()}
    chosen, report = choose_formats({name: layers[name] for name in first.values()}, run, reference,
                                    fixed={n: files.formats[k] for n, k in keys.items() if k in files.formats})
    for name, k in keys.items():
        files.formats.setdefault(k, report[name]["layers"])
    rep_of = {name: first[key[name]] for name in modules}
    return {n: chosen[rep_of[n]] for n in layers}, {n: report[rep_of[n]] for n in layers}


def _write_weights_report(markup_dir: Path, widget_id: str, report: dict, layers: dict, files_written: dict) -> None:
    """<id>-weights.json beside the widget's markup (not part of the site): each network's
    format, the largest difference int8 made on the check data (and float16 did), its file and
    its size, and the size it has in float16, for the build's summary and the tests."""
    float16_bytes = {name: sum(2 * (l["in"] * l["out"] + l["out"]) for l in ls if l["kind"] == "Linear")
                     for name, ls in layers.items()}
    def shown(value):               # JSON has no infinity: a difference in a text is said so
        return value if value is None or math.isfinite(value) else "a text differs"

    (markup_dir / f"{widget_id}-weights.json").write_text(json.dumps({
        name: {**report[name], "difference": shown(report[name]["difference"]),
               "float16": shown(report[name]["float16"]), "refused": [shown(v) for v in report[name]["refused"]],
               "url": files_written[name]["url"], "bytes": files_written[name]["bytes"],
               "float16_bytes": float16_bytes[name]} for name in layers}, indent=1))
