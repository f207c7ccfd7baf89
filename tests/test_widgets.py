"""The widgets' callbacks, driven from Python as a browser would drive the controls."""
import numpy as np
import pytest
import torch

from helpers import models, widgets


@pytest.fixture(scope="module")
def ae2():
    torch.manual_seed(0)
    return models.Autoencoder([784, 16, 2]).eval()


@pytest.fixture(scope="module")
def codes():
    g = torch.Generator().manual_seed(0)
    return torch.randn(100, 2, generator=g), torch.arange(100) % 10


def test_latent_explorer_decodes_the_slider_position(ae2, codes):
    explorer = widgets.LatentExplorer(ae2, *codes)
    first_png, first_image = explorer.picture.value, explorer.last_image.copy()
    assert first_png[:4] == b"\x89PNG"
    explorer.z1.value = explorer.z1.max
    assert explorer.picture.value != first_png
    assert not np.array_equal(explorer.last_image, first_image)
    expected = ae2.decode(torch.tensor([[explorer.z1.value, explorer.z2.value]])).reshape(28, 28)
    assert np.allclose(explorer.last_image, expected.detach().numpy(), atol=1e-6)
    assert np.allclose(explorer.marker.get_offsets(), [[explorer.z1.value, explorer.z2.value]])


def test_latent_explorer_survives_both_ends_and_fast_moves(ae2, codes):
    explorer = widgets.LatentExplorer(ae2, *codes)
    for value in [explorer.z2.min, explorer.z2.max] + list(np.linspace(explorer.z2.min, explorer.z2.max, 25)):
        explorer.z2.value = float(value)
        assert explorer.marker.get_offsets()[0, 1] == pytest.approx(explorer.z2.value)
    explorer.show(1e9, -1e9)                       # clamped to the slider range, not an error
    assert explorer.marker.get_offsets()[0].tolist() == pytest.approx([explorer.z1.max, explorer.z2.min])


def test_latent_explorer_rejects_nonsense(ae2, codes):
    explorer = widgets.LatentExplorer(ae2, *codes)
    with pytest.raises(ValueError, match="finite numbers"):
        explorer.show(float("nan"), 0.0)
    for bad in (None, [1.0], "0.5", True, {}):           # wrong types: a ValueError, not a TypeError
        for args in ((bad, 0.0), (0.0, bad)):
            with pytest.raises(ValueError, match="z1 and z2 must be finite numbers"):
                explorer.decode(*args)
            with pytest.raises(ValueError, match="z1 and z2 must be finite numbers"):
                explorer.show(*args)
    with pytest.raises(ValueError, match="2-D codes"):
        widgets.LatentExplorer(ae2, torch.zeros(10, 3), torch.zeros(10))


@pytest.fixture(scope="module")
def comparison(ae2):
    g = torch.Generator().manual_seed(1)
    x_train, x_test = torch.rand(300, 784, generator=g), torch.rand(120, 784, generator=g)
    torch.manual_seed(1)
    ae4 = models.Autoencoder([784, 16, 4]).eval()
    return widgets.EmbeddingComparison(x_train, x_test, torch.arange(120) % 10, {2: ae2, 4: ae4},
                                       max_points=120)


def test_embedding_comparison_direct_codes_match_the_models(comparison, ae2):
    result = comparison.compute("2-D codes", 2, 30, 50)
    assert result["PCA"].shape == (50, 2) and result["autoencoder"].shape == (50, 2)
    assert result["labels"].tolist() == [i % 10 for i in range(50)]
    assert comparison.picture.value[:4] == b"\x89PNG"


def test_embedding_comparison_controls_redraw(comparison):
    before = comparison.picture.value
    comparison.points.value = comparison.points.min
    comparison.method.value = "t-SNE of the codes"
    assert not comparison.latent.disabled and not comparison.perplexity.disabled
    after_tsne = comparison.picture.value
    assert after_tsne != before
    comparison.latent.value = 4
    comparison.perplexity.value = comparison.perplexity.min
    assert comparison.picture.value != after_tsne
    comparison.method.value = "2-D codes"            # back: latent size snaps to 2
    assert comparison.latent.value == 2 and comparison.latent.disabled


def test_embedding_comparison_rejects_nonsense(comparison):
    with pytest.raises(ValueError, match="method"):
        comparison.compute("UMAP", 2, 30, 50)
    with pytest.raises(ValueError, match="latent size"):
        comparison.compute("t-SNE of the codes", 3, 30, 50)
    with pytest.raises(ValueError, match="perplexity"):
        comparison.compute("t-SNE of the codes", 2, 80, 50)
    with pytest.raises(ValueError, match="Only 2-D codes"):
        comparison.compute("2-D codes", 4, 30, 50)
    with pytest.raises(ValueError, match="points"):
        comparison.compute("2-D codes", 2, 30, 10_000)


@pytest.mark.parametrize("args, message", [
    (("2-D codes", [2], 30, 50), r"latent size must be one of \[2, 4\], got \[2\]"),
    (("2-D codes", {}, 30, 50), r"latent size must be one of \[2, 4\]"),
    ((["2-D codes"], 2, 30, 50), r"method must be one of \['2-D codes', 't-SNE of the codes'\]"),
    (("2-D codes", 2, 30, "50"), "points must be a whole number from 2 to 120, got '50'"),
    (("2-D codes", 2, 30, None), "points must be a whole number from 2 to 120, got None"),
    (("t-SNE of the codes", 2, None, 50), r"perplexity \(below the number of points, 50\) must be a whole number from 1 to 49"),
    (("t-SNE of the codes", 2, "30", 50), "perplexity"),
])
def test_embedding_comparison_wrong_types_are_value_errors(comparison, args, message):
    with pytest.raises(ValueError, match=message):
        comparison.compute(*args)


# --- what every widget shares: one base -----------------------------------------------------

def every_widget(ae2, codes):
    """One of each widget of the course, on small untrained models."""
    from helpers import series, stacked
    from helpers.vae import VAE, ConditionalVAE
    torch.manual_seed(0)
    ae800 = models.Autoencoder([784, 32], activation=None, code_activation="sigmoid")
    vae = VAE([784, 16, 2])
    x = torch.rand(20, 784, generator=torch.Generator().manual_seed(3))
    table = {"budgets": [10, 50], "seeds": [0], "pretrained": [[0.8], [0.9]], "random": [[0.6], [0.85]]}
    return {
        "LatentExplorer": lambda: widgets.LatentExplorer(ae2, *codes),
        "EmbeddingComparison": lambda: widgets.EmbeddingComparison(x, x, torch.arange(20) % 10, {2: ae2}, max_points=20),
        "NoiseExplorer": lambda: widgets.NoiseExplorer(ae800, ae800, x, n=4),
        "FilterBrowser": lambda: widgets.FilterBrowser({"a": ae800}),
        "KLExplorer": lambda: widgets.KLExplorer(),
        "SparsityControl": lambda: widgets.SparsityControl({0.05: ae800, 0.1: ae800}, x),
        "ContractionControl": lambda: widgets.ContractionControl({0.0: ae800, 1.0: ae800}, x),
        "StageViewer": lambda: widgets.StageViewer([stacked.StackedAutoencoder([784, 8, 4])] * 2, x),
        "LabelBudgetControl": lambda: widgets.LabelBudgetControl(table),
        "KLDirectionDemo": lambda: widgets.KLDirectionDemo(),
        "VAELatentExplorer": lambda: widgets.VAELatentExplorer(vae, codes[0], codes[0], codes[1], x[:3]),
        "KLWeightControl": lambda: widgets.KLWeightControl({1.0: vae, 4.0: vae}, x, torch.arange(20) % 10),
        "MonteCarloControl": lambda: widgets.MonteCarloControl(vae, x[0], repeats=2, reference_samples=20),
        "DrawnCode": lambda: widgets.DrawnCode(ae2, *codes, x.repeat(5, 1)),
        "DrawnDenoising": lambda: widgets.DrawnDenoising(ae800, ae800),
        "DrawnPosterior": lambda: widgets.DrawnPosterior(vae, models.mlp([784, 10]), *codes),
        "ConditionalExplorer": lambda: widgets.ConditionalExplorer(ConditionalVAE([784, 16, 2]), grid=3),
        "DrawnWalk": lambda: widgets.DrawnWalk(ae2, vae, models.mlp([784, 10]), {"a": x[0], "b": x[1]}),
        "ModelComparison": lambda: widgets.ModelComparison(
            [series.SeriesModel(name, "00", "", 2, lambda v: models.encode_all(ae2, v),
                                lambda z: models.decode_all(ae2, z)) for name in ("a", "b")],
            x[:4], {"a": x, "b": x}, n=4),
    }


def descendants(box) -> list:
    found = []
    for child in getattr(box, "children", ()):
        found += [child, *descendants(child)]
    return found


def test_every_widget_lists_its_controls_and_picture_and_never_moves_a_model(ae2, codes, monkeypatch):
    makers = every_widget(ae2, codes)
    exported = {name for name in dir(widgets) if isinstance(getattr(widgets, name), type)
                and issubclass(getattr(widgets, name), widgets.Widget) and name != "Widget"}
    assert exported == set(makers), "every widget of helpers.widgets is tried here"

    def refuse(*_args, **_kwargs):
        raise AssertionError("a widget moved the model it was given to another device")
    for method in ("to", "cpu", "cuda"):
        monkeypatch.setattr(torch.nn.Module, method, refuse)
    for name, make in makers.items():
        widget = make()
        assert isinstance(widget, widgets.Widget), name
        # something to move: controls, or for a drawing view its pad (and any controls)
        assert widget.controls or isinstance(widget.pad, widgets.DrawingPad), name
        assert widget.picture.value[:4] == b"\x89PNG", name
        assert widget.picture in descendants(widget), f"{name}: the picture is not shown"
        for control_name, control in widget.controls.items():
            assert getattr(widget, control_name) is control, f"{name}.{control_name} is not its control"


def test_a_control_change_goes_through_update_to_show(ae2, codes):
    explorer = widgets.LatentExplorer(ae2, *codes)
    seen = []
    explorer.show = lambda *values: seen.append(values)
    explorer.z2.value = explorer.z2.max
    assert seen == [(explorer.z1.value, explorer.z2.max)]
