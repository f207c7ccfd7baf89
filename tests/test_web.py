"""helpers.web, which turns the course's widgets into web forms for `make site`: driven from
Python on small models (the pages themselves are tested in tests/browser/test_site.py)."""
import json
import re

import ipywidgets
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from helpers import models, web, widgets


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
    for page in range(4):                 # each frame is the widget's own picture at that page
        browser.page.value = page
        src = data["srcs"][data["frames"][str(page)]["img"][0]]
        assert src.startswith("webwidgets/01/")
        saved = files.path / src.split("/")[-1]
        from PIL import Image
        import io
        theirs = np.asarray(Image.open(io.BytesIO(browser.picture.value)).convert("L"))
        assert np.array_equal(np.asarray(Image.open(saved).convert("L")), theirs)
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
    assert len(list(files.path.glob("*.png"))) == 1


@pytest.fixture(scope="module")
def explorer(tiny_ae):
    g = torch.Generator().manual_seed(0)
    return widgets.LatentExplorer(tiny_ae, torch.randn(100, 2, generator=g), torch.arange(100) % 10)


def test_decoder_form_carries_float16_weights_that_decode_like_pytorch(explorer, files, tmp_path):
    form, markup = web.web_form(explorer, "01-4", files, tmp_path)
    assert form == "decoder"
    data = player_data(markup)
    assert [layer["kind"] for layer in data["layers"]] == ["Linear", "ReLU", "Linear", "Sigmoid"]
    assert [s["label"] for s in data["sliders"]] == ["z1", "z2"]
    assert data["sliders"][0]["min"] == explorer.z1.min and data["sliders"][0]["step"] == explorer.z1.step
    script = next(files.path.glob("weights-*.js")).read_text()
    assert f'src="webwidgets/01/weights-' in markup
    # the weights in the script are the decoder's, in float16
    blobs = dict(re.findall(r'\["(\w+)"\] = "([^"]+)"', script))
    first = data["layers"][0]
    import base64
    raw = np.frombuffer(base64.b64decode(blobs[first["blob"]]), dtype="<f2")
    weight = raw[:first["in"] * first["out"]].reshape(first["out"], first["in"])
    assert np.allclose(weight, explorer.model.decoder[0].weight.detach().numpy(), atol=1e-3)
    # the check data for the browser test: 100 codes and PyTorch's pixels for them
    check = json.loads((tmp_path / "01-4-decoder-check.json").read_text())
    assert len(check["codes"]) == 100 and len(check["pixels"][0]) == 784
    layers = web.decoder_layers(explorer)
    assert np.abs(web.run_decoder(layers, check["codes"]) - np.array(check["pixels"])).max() < 0.01


def test_decoder_with_another_kind_of_layer_falls_back_to_its_picture(files, tmp_path):
    torch.manual_seed(0)
    model = models.Autoencoder([784, 16, 2], activation="softplus").eval()
    g = torch.Generator().manual_seed(0)
    explorer = widgets.LatentExplorer(model, torch.randn(50, 2, generator=g), torch.arange(50) % 10)
    assert web.decoder_layers(explorer) is None
    form, _ = web.web_form(explorer, "01-5", files, tmp_path)
    assert form == "static"


def test_every_grid_names_a_course_widget():
    for name in web.GRIDS:
        assert isinstance(getattr(widgets, name, None), type), f"GRIDS names {name}, not a widget of helpers.widgets"
