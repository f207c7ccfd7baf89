"""website/export.py, which turns the course's widgets into web forms for `make site`: driven
from Python on small models (the pages themselves are tested in tests/browser/test_site.py)."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import ipywidgets
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from helpers import corruption, drawing, models, widgets
from helpers.drawing import EXAMPLES, Stroke, prepare_digit, render_strokes
from helpers.vae import VAE
from website import export as web


@pytest.fixture
def files(tmp_path):
    return web.Folder(tmp_path / "site" / "webwidgets" / "01", "webwidgets/01")


def player_data(markup: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" class="aew-data">(.*?)</script>',
                                markup, re.S).group(1))


def test_describe_figure_reads_titles_labels_and_legend():
    fig = Figure()
    ax = fig.subplots()
    ax.plot([1, 2, 3], [3, 2, 1], label="train")
    ax.plot([1, 2, 3], [4, 3, 2], label="test")
    ax.set_title("Training the 2-D autoencoder")
    ax.set_xlabel("epoch"), ax.set_ylabel("MSE per pixel\n(mean over pixels)")
    ax.legend()
    text = web.describe_figure(fig)
    assert text == ("Figure: line plot 'Training the 2-D autoencoder': x axis epoch, "
                    "y axis MSE per pixel (mean over pixels); legend train, test")


def test_describe_figure_names_the_rows_of_a_digit_grid():
    fig = Figure()
    axes = fig.subplots(2, 3)
    for row, label in zip(axes, ["input x", "$\\hat{x}$ = G(E(x))"]):
        for ax in row:
            ax.imshow(np.zeros((28, 28)))
            ax.set_xticks([]), ax.set_yticks([])
        row[0].set_ylabel(label)
    fig.suptitle("Held-out digits\nMSE 0.0123 per pixel")
    assert web.describe_figure(fig) == ("Held-out digits; MSE 0.0123 per pixel. "
                                        "6 images in rows: input x; x̂ = G(E(x))")
    assert len(web.describe_figure(fig, limit=20)) == 20


@pytest.fixture(scope="module")
def tiny_ae():
    torch.manual_seed(0)
    return models.Autoencoder([784, 16, 2]).eval()


def test_frames_form_plays_back_the_widgets_own_pictures(tiny_ae, files, tmp_path):
    browser = widgets.FilterBrowser({"a": tiny_ae, "b": tiny_ae}, per_page=4)   # 16 units: 4 pages
    browser.page.value = 2
    form, markup = web.web_form(browser, "01-1", files, tmp_path)
    assert form == "frames"
    data = player_data(markup)
    assert [c["name"] for c in data["controls"]] == ["page"]
    assert data["controls"][0]["values"] == ["0", "1", "2", "3"]
    assert data["controls"][0]["start"] == 2 and browser.page.value == 2     # put back as found
    assert sorted(data["frames"]) == ["0", "1", "2", "3"]
    for page in range(4):                 # each frame is the widget's own picture at that page,
        browser.page.value = page         # in web.GREY_LEVELS shades: each pixel within 3 of 255
        src = data["srcs"][data["frames"][str(page)]["img"][0]]
        assert src.startswith("webwidgets/01/")
        saved = files.path / src.split("/")[-1]
        from PIL import Image
        import io
        theirs = np.asarray(Image.open(io.BytesIO(browser.picture.value)).convert("L")).astype(int)
        ours = np.asarray(Image.open(saved).convert("L")).astype(int)
        assert ours.shape == theirs.shape and np.abs(ours - theirs).max() <= 3
        assert len(np.unique(ours)) <= web.GREY_LEVELS
        assert (ours[theirs == 255] == 255).all() and (ours[theirs == 0] == 0).all()   # white stays white
    # the first picture is in the markup itself, so the page shows it before any script runs
    first = data["srcs"][data["frames"]["2"]["img"][0]]
    assert f'src="{first}"' in markup and 'alt="' in markup


def test_frames_form_follows_a_reduced_grid_and_widgets_that_move_their_own_controls(tiny_ae, files, tmp_path):
    g = torch.Generator().manual_seed(1)
    x_train, x_test = torch.rand(300, 784, generator=g), torch.rand(200, 784, generator=g)
    torch.manual_seed(1)
    comparison = widgets.EmbeddingComparison(x_train, x_test, torch.arange(200) % 10,
                                             {2: tiny_ae, 4: models.Autoencoder([784, 16, 4]).eval()},
                                             max_points=200)
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):    # t-SNE; web_form limits its own threads the same way
        comparison.method.value = "t-SNE of the codes"
        comparison.latent.value = 4
    form, markup = web.web_form(comparison, "01-2", files, tmp_path)
    data = player_data(markup)
    controls = {c["name"]: c for c in data["controls"]}
    assert [c["name"] for c in data["controls"]] == ["method", "latent", "perplexity", "points"]
    assert controls["method"]["values"] == list(widgets.EmbeddingComparison.METHODS)
    assert controls["latent"]["values"] == ["2", "4"]
    assert controls["perplexity"]["values"] == ["30"]
    assert controls["points"]["values"] == ["200"]     # the grid's 500 is beyond this slider's range
    assert [c["start"] for c in data["controls"]] == [1, 1, 0, 0]    # as the widget was left
    combos = {tuple(data["controls"][i]["values"][int(p)] for i, p in enumerate(key.split(",")))
              for key in data["frames"]}
    # 2-D codes exist only for latent size 2: the widget moves its latent control itself
    assert combos == {("2-D codes", "2", "30", "200"), ("t-SNE of the codes", "2", "30", "200"),
                      ("t-SNE of the codes", "4", "30", "200")}
    assert (comparison.method.value, comparison.latent.value) == ("t-SNE of the codes", 4)
    assert not any("drawn in" in h for h in data["htmls"])       # skip_html: the status line
    assert "t-SNE is precomputed" in markup


def test_unknown_widget_gets_its_picture_as_executed(files, tmp_path):
    class Custom(ipywidgets.VBox):
        pass

    fig = Figure()
    fig.subplots().plot([0, 1], [0, 1])
    from helpers.plots import figure_to_png
    custom = Custom([ipywidgets.IntSlider(), ipywidgets.Image(value=figure_to_png(fig), format="png")])
    custom.fig = fig
    form, markup = web.web_form(custom, "01-3", files, tmp_path)
    assert form == "static"
    assert "moves in JupyterLab" in markup and 'alt="Figure: line plot' in markup
    assert len(list(files.path.glob("*.webp"))) == 1


@pytest.fixture(scope="module")
def explorer(tiny_ae):
    g = torch.Generator().manual_seed(0)
    return widgets.LatentExplorer(tiny_ae, torch.randn(100, 2, generator=g), torch.arange(100) % 10)


def test_decoder_form_carries_weights_that_decode_like_pytorch(explorer, files, tmp_path):
    form, markup = web.web_form(explorer, "01-4", files, tmp_path)
    assert form == "decoder"
    data = player_data(markup)
    assert [layer["kind"] for layer in data["network"]["layers"]] == ["Linear", "ReLU", "Linear", "Sigmoid"]
    assert [s["label"] for s in data["sliders"]] == ["z1", "z2"]
    assert data["sliders"][0]["min"] == explorer.z1.min and data["sliders"][0]["step"] == explorer.z1.step
    # the page fetches the weights later, as one binary file: nothing in the markup loads them
    assert data["network"]["url"].startswith("webwidgets/01/net-") and "<script src" not in markup
    # the weights in the file are the decoder's, in the format the exporter chose for it
    assert_file_holds(files, data["network"], [m for m in explorer.model.decoder if isinstance(m, torch.nn.Linear)])
    report = json.loads((tmp_path / "01-4-weights.json").read_text())["decoder"]
    assert report["layers"] == formats_of(data["network"]) and report["url"] == data["network"]["url"]
    assert data["caption"]["template"] == explorer.caption_format and data["download"].endswith("MB")
    # the check data for the browser test: 100 codes and PyTorch's pixels for them
    check = json.loads((tmp_path / "01-4-decoder-check.json").read_text())
    assert len(check["codes"]) == 100 and len(check["pixels"][0]) == 784
    layers = web.decoder_layers(explorer)
    for fmt in web.FORMATS:
        page = web.run_decoder(web.stored(layers, fmt), check["codes"])
        assert np.abs(page - np.array(check["pixels"])).max() < 0.01, fmt
    # the formats were chosen on those very codes: as shipped, within the margin
    page = web.run_decoder(web.stored(layers, report["layers"]), check["codes"])
    assert np.abs(page - np.array(check["pixels"])).max() == pytest.approx(report["difference"], abs=2e-6)
    assert report["difference"] < web.INT8_MARGIN


def test_decoder_with_another_kind_of_layer_falls_back_to_its_picture(files, tmp_path):
    torch.manual_seed(0)
    model = models.Autoencoder([784, 16, 2], activation="softplus").eval()
    g = torch.Generator().manual_seed(0)
    explorer = widgets.LatentExplorer(model, torch.randn(50, 2, generator=g), torch.arange(50) % 10)
    assert web.decoder_layers(explorer) is None
    form, _ = web.web_form(explorer, "01-5", files, tmp_path)
    assert form == "static"


def formats_of(spec) -> list[str]:
    return [layer["format"] for layer in spec["layers"] if layer["kind"] == "Linear"]


def network_file(files, spec) -> list[dict]:
    """A network's file as the page fetches it, each Linear read in its format (website/
    export.py's _network_file): its stored numbers ("weight", "bias", and for int8 the row
    "scale"s) and the float32 weight the page computes with ("float")."""
    raw = (files.path / spec["url"].split("/")[-1]).read_bytes()
    assert len(raw) == spec["bytes"]
    assert spec["url"].endswith(".i8" if "int8" in formats_of(spec) else ".f16")
    layers, end = [], 0
    for layer in spec["layers"]:
        if layer["kind"] != "Linear":
            continue
        n, out, at = layer["in"] * layer["out"], layer["out"], layer["offset"]
        assert at == end, "the layers follow each other in the file"
        if layer["format"] == "float16":
            weight = np.frombuffer(raw, "<f2", n, at).reshape(out, -1)
            bias = np.frombuffer(raw, "<f2", out, at + 2 * n)
            layers.append({"weight": weight, "bias": bias, "float": weight.astype(np.float32)})
            end = at + 2 * (n + out)
        else:
            weight = np.frombuffer(raw, "i1", n, at).reshape(out, -1)
            scale = np.frombuffer(raw, "<f4", out, at + n)
            bias = np.frombuffer(raw, "<f4", out, at + n + 4 * out)
            layers.append({"weight": weight, "scale": scale, "bias": bias,
                           "float": weight.astype(np.float32) * scale[:, None]})
            end = at + n + 8 * out
    assert end == len(raw)
    return layers


def assert_file_holds(files, spec, linear) -> None:
    """The network's file holds these Linear modules' weights: the same numbers in float16, or
    each within half its row's scale in int8 (and the biases in float32)."""
    shipped = [layer for layer in spec["layers"] if layer["kind"] == "Linear"]
    assert [(layer["in"], layer["out"]) for layer in shipped] == [(m.in_features, m.out_features) for m in linear]
    for layer, fmt, module in zip(network_file(files, spec), formats_of(spec), linear):
        weight, bias = module.weight.detach().numpy(), module.bias.detach().numpy()
        if fmt == "float16":
            assert np.array_equal(layer["weight"], weight.astype(np.float16))
            assert np.array_equal(layer["bias"], bias.astype(np.float16))
        else:
            assert np.array_equal(layer["scale"], np.abs(weight).max(axis=1) / 127)
            assert (np.abs(layer["float"] - weight) <= layer["scale"][:, None] / 2 * (1 + 1e-6)).all()
            assert np.array_equal(layer["bias"], bias)


def course_widget_classes():
    return [cls for cls in vars(widgets).values()
            if isinstance(cls, type) and issubclass(cls, widgets.Widget) and cls is not widgets.Widget]


def test_every_course_widget_has_a_web_form_found_by_its_class():
    for cls in course_widget_classes():
        assert web.form_of(cls) is not None, f"{cls.__name__} has no web form in website/export.py FORMS"
    assert all(isinstance(cls, type) for cls in web.FORMS), "FORMS is keyed by classes, not names"


def test_a_renamed_widget_class_keeps_its_live_form(tiny_ae, files, tmp_path):
    """The form follows the class, not its name: a subclass under another name, and the class
    itself renamed, are still played live."""
    renamed = type("NoisePlayground", (widgets.NoiseExplorer,), {})
    assert web.form_of(renamed) == web.form_of(widgets.NoiseExplorer) == web.FORMS[widgets.NoiseExplorer]
    g = torch.Generator().manual_seed(0)
    explorer = widgets.LatentExplorer(tiny_ae, torch.randn(50, 2, generator=g), torch.arange(50) % 10)
    original = type(explorer).__name__
    try:
        type(explorer).__name__ = type(explorer).__qualname__ = "CodeExplorer"
        form, _ = web.web_form(explorer, "01-9", files, tmp_path)
    finally:
        type(explorer).__name__ = type(explorer).__qualname__ = original
    assert form == "decoder"


def test_a_course_widget_without_a_web_form_stops_the_build_instead_of_a_still_picture(files, tmp_path):
    class Unlisted(widgets.Widget):
        def __init__(self):
            self.start({"n": ipywidgets.IntSlider(value=1, min=0, max=3)})

        def show(self, n):
            self.picture.value = b""

    with pytest.raises(web.NoWebForm, match="Unlisted.*FORMS in website/export.py"):
        web.web_form(Unlisted(), "01-10", files, tmp_path)


def test_renaming_a_course_widget_in_helpers_breaks_the_exporter_loudly():
    """What a rename in helpers/widgets does to `make site`: the exporter names the class it
    no longer finds, at import, before any notebook runs."""
    code = ("import helpers.widgets as w\n"
            "w.NoisePlayground = w.NoiseExplorer\n"
            "del w.NoiseExplorer\n"
            "import website.export\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "NoiseExplorer" in done.stderr.splitlines()[-1], done.stderr[-500:]


# --- the drawing pads ------------------------------------------------------------------------

NODE = shutil.which("node")
REPO = Path(__file__).resolve().parents[1]
AEW_JS = REPO / "website" / "static" / "aew.js"
# Node runs aew.js as a page would (its players find no figures), then the given expression,
# with FILES: the files named after it, as ArrayBuffers (the networks the page fetches).
_NODE_RUN = """
const fs = require("fs");
global.window = global;
global.document = {readyState: "complete", querySelectorAll: () => []};
eval(fs.readFileSync(process.argv[1], "utf8"));
const FILES = {};
for (const path of process.argv.slice(2)) {
  const bytes = fs.readFileSync(path);
  FILES[require("path").basename(path)] = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
}
const input = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify((%s)(input)));
"""


def run_aew_in_node(expression: str, data, files=()):
    done = subprocess.run([NODE, "-e", _NODE_RUN % expression, str(AEW_JS), *map(str, files)],
                          input=json.dumps(data), capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout)


needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


# helpers.drawing's constants, as the page's data carries them (website/export.py)
PREP = {"box": drawing.BOX, "frame": drawing.FRAME, "threshold": drawing.INK_THRESHOLD,
        "pixels": list(drawing.PIXEL_RANGE)}


@needs_node
def test_the_pages_preparation_gives_the_same_digit_as_python():
    """aew.js's prepareDigit against helpers.drawing.prepare_digit, on the same ink: the
    examples the page's buttons draw, a thin and a wide shape, noise, a block whose placement
    rounds halves, and an empty pad."""
    inks = [render_strokes(strokes) for strokes in EXAMPLES.values()]
    inks.append(render_strokes([Stroke([(30, 40), (35, 260)], width=8)]))
    inks.append(render_strokes([Stroke([(20, 200), (260, 180)])]))
    inks.append(np.clip(np.random.default_rng(0).random((61, 45)) - 0.7, 0, 1).astype(np.float32))
    block = np.zeros((280, 280), np.float32)    # its centre of mass lands on halves: rounded up
    block[30:130, 200:250] = 1
    inks.append(block)
    inks.append(np.zeros((50, 40), np.float32))
    page = run_aew_in_node(
        "inks => inks.map(i => { const d = AEW.prepareDigit(Float32Array.from(i.ink), i.h, i.w, i.prep); "
        "return d && Array.from(d); })",
        [{"ink": ink.reshape(-1).tolist(), "h": ink.shape[0], "w": ink.shape[1], "prep": PREP} for ink in inks])
    for ink, ours in zip(inks[:-1], page[:-1]):
        assert ours is not None
        assert np.abs(np.array(ours).reshape(28, 28) - prepare_digit(ink)).max() < 1e-6
    assert page[-1] is None                 # an empty pad: no digit (Python raises ValueError)


@pytest.fixture(scope="module")
def drawing_views(tiny_ae):
    torch.manual_seed(0)
    dae, vae, judge = models.Autoencoder([784, 16, 2]).eval(), VAE([784, 16, 2]).eval(), models.mlp([784, 10]).eval()
    x = torch.rand(100, 784, generator=torch.Generator().manual_seed(1))
    y = torch.arange(100) % 10
    views = {"code": widgets.DrawnCode(tiny_ae, models.encode_all(tiny_ae, x), y, x),
             "denoising": widgets.DrawnDenoising(tiny_ae, {"masking": dae, "gaussian": tiny_ae,
                                                           "salt-and-pepper": dae}),
             "posterior": widgets.DrawnPosterior(vae, judge, models.encode_all(vae, x)[0], y)}
    for view in views.values():
        view.pad.load_digit(x[0])
    return views


@pytest.mark.parametrize("name", ["code", "denoising", "posterior"])
def test_drawing_form_ships_the_views_networks_in_int8_or_float16(name, drawing_views, files, tmp_path):
    view = drawing_views[name]
    before = {id(p): p.detach().clone() for ms in view.web_parts()["networks"].values() for m in ms
              for p in m.parameters()}
    form, markup = web.web_form(view, f"01-{name}", files, tmp_path)
    assert form == "drawing"
    data = player_data(markup)
    parts = view.web_parts()
    assert set(data["networks"]) == set(parts["networks"])
    assert "<script src" not in markup         # the networks are fetched later, each once
    report = json.loads((tmp_path / f"01-{name}-weights.json").read_text())
    assert set(report) == set(parts["networks"])
    for net, modules in parts["networks"].items():
        linear = [m for m in modules if isinstance(m, torch.nn.Linear)]
        spec = data["networks"][net]
        assert_file_holds(files, spec, linear)
        size = {"float16": lambda m: 2 * (m.weight.numel() + m.bias.numel()),
                "int8": lambda m: m.weight.numel() + 8 * m.out_features}
        assert spec["bytes"] == sum(size[f](m) for f, m in zip(formats_of(spec), linear))
        assert report[net]["float16_bytes"] == sum(size["float16"](m) for m in linear)
        assert report[net]["layers"] == formats_of(spec) and report[net]["url"] == spec["url"]
        if "int8" in formats_of(spec):
            assert report[net]["difference"] < web.INT8_MARGIN
    # the view's networks have their own weights again once the formats are chosen
    after = {id(p): p for ms in parts["networks"].values() for m in ms for p in m.parameters()}
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)
    # the view's words are its Python templates, and the preparation's constants Python's
    assert data["templates"] == type(view).TEXTS
    assert {k: data["pad"][k] for k in PREP} == PREP
    assert data["pad"]["buttons"] == view.pad.labels() and data["pixels"] == list(drawing.PIXEL_RANGE)
    # the pad: as in the notebook, with the digit it holds and the example drawings
    assert data["pad"]["size"] == view.pad.size and data["pad"]["pen"] == view.pad.pen_width
    assert [e["name"] for e in data["pad"]["examples"]] == list(EXAMPLES)
    assert np.abs(np.array(data["pad"]["start"]) / 255 - view.pad.background[::10, ::10].reshape(-1)).max() < 0.003
    # a fixture for the browser tests: PyTorch's results for the pad's digit and the examples
    check = json.loads((tmp_path / f"01-{name}-drawing-check.json").read_text())
    settings = 6 if name == "denoising" else 1
    assert len(check) == (1 + len(EXAMPLES)) * settings
    assert check[0]["result"]["text"] == view.compute(view.pad.digit, **check[0]["setting"])["text"]
    # accessible: the pad and the figure are labelled pictures, the result a live region
    assert 'class="aew-pad-canvas"' in markup and 'aria-label="Drawing pad:' in markup
    assert 'aria-live="polite"' in markup


@needs_node
def test_the_pages_networks_compute_what_pytorch_does(drawing_views, files, tmp_path):
    """The networks as the page runs them (aew.js's runNetwork on the float16 weights, in Node)
    against the PyTorch modules, for the digit on the pad."""
    view = drawing_views["posterior"]
    _, markup = web.web_form(view, "01-6", files, tmp_path)
    data = player_data(markup)
    paths = [files.path / spec["url"].split("/")[-1] for spec in data["networks"].values()]
    digit = view.pad.digit.reshape(-1)
    page = run_aew_in_node(
        "d => { const n = {}; for (const k in d.networks) n[k] = AEW.layersFrom(d.networks[k], "
        "FILES[d.networks[k].url.split('/').pop()]); const h = AEW.runNetwork(n.body, d.x); "
        "return {mu: Array.from(AEW.runNetwork(n.mu, h)), "
        "judge: Array.from(AEW.runNetwork(n.judge, d.x)), "
        "decoded: Array.from(AEW.runNetwork(n.decoder, [0.5, -1]))}; }",
        {"networks": data["networks"], "x": digit.tolist()}, paths)
    with torch.no_grad():
        x = torch.as_tensor(digit)[None]
        mu = view.vae.fc_mu(view.vae.encoder(x))[0].numpy()
        logits = view.judge(x)[0].numpy()
        decoded = view.vae.decode(torch.tensor([[0.5, -1.0]]))[0].numpy()
    assert np.abs(np.array(page["mu"]) - mu).max() < 0.01
    assert np.abs(np.array(page["judge"]) - logits).max() < 0.01
    assert np.abs(np.array(page["decoded"]) - decoded).max() < 0.01


def test_a_view_with_a_network_the_page_cannot_run_stays_a_picture(files, tmp_path):
    torch.manual_seed(0)
    odd = models.Autoencoder([784, 16, 2], activation="softplus").eval()
    x = torch.rand(20, 784, generator=torch.Generator().manual_seed(1))
    view = widgets.DrawnCode(odd, models.encode_all(odd, x), torch.arange(20) % 10, x)
    form, markup = web.web_form(view, "01-7", files, tmp_path)
    assert form == "static" and "moves in JupyterLab" in markup


def test_the_neighbours_on_the_page_are_searched_among_the_first_digits(drawing_views, files, tmp_path):
    view = drawing_views["code"]                  # 100 training digits
    markup = web.web_form(view, "01-8", files, tmp_path)[1]
    data = player_data(markup)
    data.update(json.loads((files.path / data["view_data"]["url"].split("/")[-1]).read_text()))
    assert len(data["codes"]) == len(data["labels"]) == 100 and "searched among" not in markup
    assert "encoded and decoded in your browser" in markup
    parts = view.web_parts(candidates=30)
    assert len(parts["data"]["codes"]) == 30 and "among the first 30 training digits" in parts["note"]
    check = json.loads((tmp_path / "01-8-drawing-check.json").read_text())
    for case in check:                            # all 100 searched: the notebook's neighbours
        assert case["result"]["neighbours"] == list(view.compute(np.array(case["digit"]))["neighbours"])


@needs_node
def test_the_pages_noise_is_helpers_corruption_on_the_same_random_numbers(drawing_views):
    """aew.js's corrupt against helpers.corruption.corrupt: each kind at a few levels, on the
    random numbers the denoising view ships (what corrupt draws with the view's seed)."""
    view = drawing_views["denoising"]
    random = view.web_parts()["data"]
    digit = torch.as_tensor(prepare_digit(render_strokes(EXAMPLES["7"]))).reshape(1, 784)
    cases = [(kind, level) for kind in corruption.NOISE_KINDS for level in (0.0, 0.25, 0.3, 0.6, 1.0)]
    page = run_aew_in_node(
        "d => d.cases.map(([k, l]) => Array.from(AEW.corrupt(k, l, Float32Array.from(d.digit), d.random, "
        "d.salt, d.pixels)))",
        {"cases": cases, "digit": digit[0].tolist(), "random": random, "salt": corruption.SALT_SHARE,
         "pixels": list(drawing.PIXEL_RANGE)})
    for (kind, level), ours in zip(cases, page):
        theirs = corruption.corrupt(digit, kind, level, torch.Generator().manual_seed(view.seed))[0].numpy()
        assert np.abs(np.array(ours) - theirs).max() < 1e-6, (kind, level)


@needs_node
def test_the_pages_texts_are_the_views_python_templates_filled_alike(drawing_views):
    """The page fills the views' TEXTS (Python format templates) with aew.js's `format`: the
    same text as Python's str.format for the same numbers."""
    values = {"z1": -1.23456, "z2": 0.5, "error": 0.0123456, "names": "1, 7", "kind": "masking", "level": 0.25,
              "noisy": 0.1, "plain": 0.02, "dae": 0.015, "name": "3", "confidence": 0.8765, "mu1": 0.1,
              "mu2": -2.0, "sigma1": 0.3, "sigma2": 0.45}
    templates = [t for view in drawing_views.values() for value in type(view).TEXTS.values()
                 for t in (value if isinstance(value, list) else [value])]
    templates.append(widgets.LatentExplorer.caption_format)
    page = run_aew_in_node("d => d.templates.map(t => AEW.format(t, t.includes('{:') ? d.positional : d.values))",
                           {"templates": templates, "values": values, "positional": [1.25, -0.333]})
    for template, ours in zip(templates, page):
        theirs = template.format(1.25, -0.333) if "{:" in template else template.format(**values)
        assert ours == theirs, (template, ours, theirs)


@needs_node
def test_every_drawing_view_has_its_player_in_the_page(drawing_views):
    """Each view names the player aew.js runs for it (web_parts()["view"], not its class name)."""
    players = run_aew_in_node("d => AEW.views", {})
    assert sorted(view.web_parts()["view"] for view in drawing_views.values()) == sorted(players)


# --- the networks' formats (website/export.py: FORMATS, choose_formats) -----------------------

def test_int8_rows_come_back_within_half_their_scale():
    rng = np.random.default_rng(0)
    weight = rng.normal(0, 0.1, (40, 300)).astype(np.float32)
    weight[3] = 0                                   # a row of zeros
    weight[7, 5] = 25.0                             # a row with one large weight
    weight[9] = -rng.random(300) * 1e-6             # a row of tiny negatives
    q, scale = web.quantise_rows(weight)
    assert q.dtype == np.int8 and scale.dtype == np.float32 and scale.shape == (40,)
    assert np.abs(q).max() <= 127
    back = web.dequantise_rows(q, scale)
    assert (np.abs(back - weight) <= scale[:, None] / 2 * (1 + 1e-6)).all()
    nonzero = np.abs(weight).max(axis=1) > 0
    assert (np.abs(q[nonzero]).max(axis=1) == 127).all()    # each row uses the whole range
    assert (back[3] == 0).all() and scale[3] == 1
    assert np.abs(back[7, 5] - 25.0) < 1e-5 and np.abs(back[7] - weight[7]).max() > 0.01   # coarse row
    # stored: the int8 network runs like the float32 one, within what its scales allow
    layers = [{"kind": "Linear", "in": 300, "out": 40, "weight": weight, "bias": rng.normal(0, 1, 40).astype(np.float32)}]
    x = rng.random((5, 300)).astype(np.float32)
    exact = x @ weight.T + layers[0]["bias"]
    int8 = web.run_layers(web.stored(layers, "int8"), x)
    assert (np.abs(int8 - exact) <= (scale / 2 * np.abs(x).sum(axis=1)[:, None]) + 1e-4).all()
    with pytest.raises(ValueError, match="unknown weight format 'int4'"):
        web.stored(layers, "int4")


def _network(n_in, n_out, seed, scale=0.05):
    rng = np.random.default_rng(seed)
    return [{"kind": "Linear", "in": n_in, "out": n_out,
             "weight": rng.normal(0, scale, (n_out, n_in)).astype(np.float32),
             "bias": rng.normal(0, 0.1, n_out).astype(np.float32)}, {"kind": "Sigmoid"}]


def test_the_chooser_keeps_int8_within_the_margin_and_float16_beyond_it():
    x = np.random.default_rng(1).random((20, 100)).astype(np.float32)
    nets = {"small": _network(100, 10, 2), "big": _network(100, 50, 3)}
    reference = {name: web.run_layers(layers, x) for name, layers in nets.items()}

    def page(stored):                 # what a fake page shows: both networks' outputs
        return {name: web.run_layers(layers, x) for name, layers in stored.items()}

    chosen, report = web.choose_formats(nets, page, reference)
    assert {n: r["format"] for n, r in report.items()} == {"small": "int8", "big": "int8"}
    assert all(r["layers"] == ["int8"] and r["refused"] == [] for r in report.values())
    assert all(r["difference"] == web.difference(page(chosen), reference) < web.INT8_MARGIN for r in report.values())

    # a page that magnifies one network's output, so that float16 stays within the margin and
    # int8 does not: int8 is refused there, and still taken for the other network
    float16, int8 = (web.difference(web.run_layers(web.stored(nets["big"], fmt), x), reference["big"])
                     for fmt in ("float16", "int8"))
    assert int8 > 10 * float16 > 0
    factor = web.INT8_MARGIN / np.sqrt(float16 * int8)

    def magnifying(stored):
        out = page(stored)
        out["big"] = out["big"] * factor
        return out

    chosen, report = web.choose_formats(nets, magnifying, magnifying(
        {name: [dict(l, format="float32") if l["kind"] == "Linear" else l for l in layers]
         for name, layers in nets.items()}))
    assert report["big"]["format"] == "float16" and report["big"]["refused"][0] >= web.INT8_MARGIN
    assert report["small"]["format"] == "int8" and report["small"]["difference"] < web.INT8_MARGIN
    assert all(l["format"] == "float16" for l in chosen["big"] if l["kind"] == "Linear")
    # a verdict that int8 tips: the page's text changes, float16 is kept whatever the numbers.
    # The verdict is "yes" above a threshold, put on one output between float16's and int8's.
    outputs = {fmt: web.run_layers(web.stored(nets["small"], fmt), x) for fmt in web.FORMATS}
    outputs["float32"] = reference["small"]
    below = np.maximum(outputs["float32"], outputs["float16"])
    at = np.unravel_index(np.argmax(outputs["int8"] - below), below.shape)
    assert outputs["int8"][at] > below[at], "int8 must pass float32 and float16 somewhere"
    threshold = (outputs["int8"][at] + below[at]) / 2

    def verdict(stored):
        return {"text": "judge: " + ("yes" if web.run_layers(stored["small"], x)[at] > threshold else "no")}

    _, report = web.choose_formats({"small": nets["small"]}, verdict, verdict(nets))
    assert verdict(nets)["text"] == "judge: no" and report["small"]["float16"] == 0
    assert report["small"]["format"] == "float16" and report["small"]["refused"] == [float("inf")]


def test_the_chooser_adds_up_the_errors_of_several_int8_networks():
    """Two networks, each within the margin alone: the second becomes int8 only if both
    together stay within it."""
    x = np.random.default_rng(4).random((20, 100)).astype(np.float32)
    nets = {"a": _network(100, 30, 5), "b": _network(100, 30, 6)}
    alone = {n: web.difference(web.run_layers(web.stored(nets[n], "int8"), x),
                               web.run_layers(nets[n], x)) for n in nets}

    def summed(stored):
        return sum(web.run_layers(layers, x) for layers in stored.values())

    reference = summed(nets)
    both = web.difference(summed({n: web.stored(l, "int8") for n, l in nets.items()}), reference)
    margin = (max(alone.values()) + both) / 2 if both > max(alone.values()) else None
    assert margin is not None, f"the fixture's errors must add up: alone {alone}, both {both}"
    _, report = web.choose_formats(nets, summed, reference, margin=margin)
    assert sorted(r["format"] for r in report.values()) == ["float16", "int8"]


def test_the_chooser_picks_each_layer_of_a_network():
    """A network whose first layer passes in int8 and whose second, magnified by the page,
    does not: int8 for the first, float16 for the second, in one file the page reads."""
    x = np.random.default_rng(10).random((20, 100)).astype(np.float32)
    net = _network(100, 40, 11) + _network(40, 10, 12)
    float32 = web.run_layers(net, x)
    second = {fmt: web.difference(web.run_layers(web.stored(net, ["float16", fmt]), x), float32)
              for fmt in web.FORMATS}
    factor = web.INT8_MARGIN / np.sqrt(second["float16"] * second["int8"])

    def page(stored):
        return web.run_layers(stored["net"], x) * factor

    first_alone = web.difference(page({"net": web.stored(net, ["int8", "float16"])}), float32 * factor)
    assert first_alone < web.INT8_MARGIN, "the fixture's first layer must pass alone"
    chosen, report = web.choose_formats({"net": net}, page, float32 * factor)
    assert report["net"]["layers"] == ["int8", "float16"] and report["net"]["format"] == "int8+float16"
    assert report["net"]["difference"] == pytest.approx(first_alone) and len(report["net"]["refused"]) == 1
    assert [l.get("format") for l in chosen["net"]] == ["int8", None, "float16", None]


def test_difference_reads_numbers_texts_and_their_shapes():
    assert web.difference({"a": [1.0, 2.0], "t": "code 0.12"}, {"a": [1.0, 2.5], "t": "code 0.13"}) == 0.5
    assert web.difference({"t": "judge: 3"}, {"t": "judge: 5"}) == float("inf")       # a verdict
    assert web.difference({"t": "MSE 0.0121"}, {"t": "MSE 0.0123"}) == float("inf")   # two units
    assert web.difference({"n": [1, 2]}, {"n": [1, 3]}) == 1                         # neighbours
    assert web.difference(np.zeros(3), np.zeros(4)) == float("inf")
    assert web.difference({"a": 1}, {"b": 1}) == float("inf")


@needs_node
def test_the_page_reads_int8_weights_as_python_dequantises_them(files):
    """aew.js's layersFrom on an int8 file (and a float16 one) against export.py's dequantised
    weights, and runNetwork against run_layers."""
    layers = _network(60, 12, 7, scale=2.0) + _network(12, 5, 8)[:1] + [{"kind": "ReLU"}]
    layers[0]["weight"][2] = 0                       # a row of zeros: scale 1
    x = np.random.default_rng(9).random(60).astype(np.float32)
    formats = {"float16": "float16", "int8": "int8", "mixed": ["int8", "float16"]}
    specs = {name: web._network_file(web.stored(layers, fmt), files) for name, fmt in formats.items()}
    assert specs["int8"]["url"].endswith(".i8") and specs["float16"]["url"].endswith(".f16")
    assert specs["mixed"]["url"].endswith(".i8")
    page = run_aew_in_node(
        "d => Object.fromEntries(Object.entries(d.specs).map(([fmt, spec]) => { "
        "const net = AEW.layersFrom(spec, FILES[spec.url.split('/').pop()]); "
        "return [fmt, {weights: net.filter(l => l.kind === 'Linear').map(l => [Array.from(l.weight), Array.from(l.bias)]), "
        "out: Array.from(AEW.runNetwork(net, d.x))}]; }))",
        {"specs": specs, "x": x.tolist()}, [files.path / s["url"].split("/")[-1] for s in specs.values()])
    for name, fmt in formats.items():
        ours = web.stored(layers, fmt)
        linear = [l for l in ours if l["kind"] == "Linear"]
        for (weight, bias), layer in zip(page[name]["weights"], linear):
            theirs_weight, theirs_bias = web._linear(layer)
            assert np.array_equal(np.float32(weight), theirs_weight.reshape(-1)), name    # to the bit
            assert np.array_equal(np.float32(bias), theirs_bias), name
        assert np.abs(np.array(page[name]["out"]) - web.run_layers(ours, x)).max() < 1e-5, name
    with pytest.raises(subprocess.CalledProcessError) as failed:
        run_aew_in_node("d => AEW.layersFrom(d.spec, new ArrayBuffer(8))",
                        {"spec": {**specs["int8"], "layers": [{**specs["int8"]["layers"][0], "format": "int4"}]}})
    assert "unknown format int4" in failed.value.stderr


def test_a_network_two_widgets_of_a_page_run_is_one_file(explorer, drawing_views, files, tmp_path):
    """The latent explorer and the drawing pad of a page run the same decoder: the pad keeps the
    formats chosen for the explorer (they suit it), so the page fetches one file for both."""
    _, explorer_markup = web.web_form(explorer, "01-11", files, tmp_path)
    _, pad_markup = web.web_form(drawing_views["code"], "01-12", files, tmp_path)
    decoder = player_data(explorer_markup)["network"]
    assert player_data(pad_markup)["networks"]["decoder"] == decoder
    report = json.loads((tmp_path / "01-12-weights.json").read_text())
    assert report["decoder"]["shared"] and not report["encoder"]["shared"]
    assert report["decoder"]["difference"] < web.INT8_MARGIN


def test_formats_another_widget_chose_are_kept_only_if_they_suit_this_one():
    x = np.random.default_rng(13).random((20, 100)).astype(np.float32)
    net = _network(100, 40, 14)
    float32 = web.run_layers(net, x)
    _, report = web.choose_formats({"net": net}, lambda s: web.run_layers(s["net"], x), float32,
                                   fixed={"net": ["float16"]})
    assert report["net"]["layers"] == ["float16"] and report["net"]["shared"]      # kept: not tried
    # a page that magnifies the output: the other widget's int8 does not suit it, chosen afresh
    int8 = web.difference(web.run_layers(web.stored(net, "int8"), x), float32)
    factor = 2 * web.INT8_MARGIN / int8
    _, report = web.choose_formats({"net": net}, lambda s: web.run_layers(s["net"], x) * factor, float32 * factor,
                                   fixed={"net": ["int8"]})
    assert report["net"]["layers"] == ["float16"] and not report["net"]["shared"]
