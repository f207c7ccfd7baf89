"""The corruption helpers, the DAE loss, masking-as-dropout, and the widgets of notebook 02."""
import numpy as np
import pytest
import torch

from helpers import cache, corruption, recipes, widgets
from helpers.models import Autoencoder, first_layer_filters
from helpers.plots import filter_mosaic


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def x():
    return torch.rand(64, 784, generator=gen(1)) * 0.5 + 0.25     # no pixel is exactly 0 or 1


def test_masking_zeroes_about_the_requested_share(x):
    out = corruption.masking_noise(x, 0.3, gen())
    zeroed = (out == 0).float().mean().item()
    assert abs(zeroed - 0.3) < 0.01
    kept = out != 0
    assert torch.equal(out[kept], x[kept])                       # the other pixels untouched


def test_noise_is_reproducible_and_level_zero_is_identity(x):
    for kind in corruption.NOISE_KINDS:
        assert torch.equal(corruption.corrupt(x, kind, 0.4, gen(5)), corruption.corrupt(x, kind, 0.4, gen(5)))
        assert torch.equal(corruption.corrupt(x, kind, 0.0, gen()), x)


def test_gaussian_noise_has_the_requested_spread_and_stays_in_range():
    x = torch.full((200, 784), 0.5)
    out = corruption.gaussian_noise(x, 0.1, gen())
    assert out.min() >= 0 and out.max() <= 1
    assert abs((out - x).std().item() - 0.1) < 0.003             # 0.5 +- 0.1 is rarely clipped


def test_salt_and_pepper_sets_pixels_to_0_or_1_half_each(x):
    out = corruption.salt_and_pepper(x, 0.2, gen())
    changed = out != x
    assert abs(changed.float().mean().item() - 0.2) < 0.01
    assert set(out[changed].unique().tolist()) <= {0.0, 1.0}
    assert abs((out[changed] == 1).float().mean().item() - 0.5) < 0.03


@pytest.mark.parametrize("kind, level", [("blur", 0.1), ("masking", -0.1), ("masking", 1.5),
                                         ("gaussian", float("nan"))])
def test_nonsense_noise_is_rejected(x, kind, level):
    with pytest.raises(ValueError):
        corruption.corrupt(x, kind, level)


def test_denoising_loss_compares_with_the_clean_input(x):
    identity = lambda inp: inp
    identity.encode = identity
    loss = corruption.denoising_loss("masking", 0.5, seed=3)(identity, x)
    # the identity returns the masked input: error = mean of x^2 over the masked half
    masked = corruption.masking_noise(x, 0.5, gen(3))
    assert loss.item() == pytest.approx(((masked - x) ** 2).mean().item(), rel=1e-6)
    assert loss.item() == pytest.approx(0.5 * (x ** 2).mean().item(), rel=0.05)


def test_masking_is_dropout_without_the_rescaling(x):
    out = corruption.masking_as_dropout(x, 0.25, seed=7)
    assert torch.allclose(out["dropout"], out["masked"] / 0.75)
    assert abs(1 - out["mask"].mean().item() - 0.25) < 0.01
    state = torch.get_rng_state()
    corruption.masking_as_dropout(x, 0.25, seed=7)
    assert torch.equal(state, torch.get_rng_state())            # global generator untouched


def test_filter_mosaic_layout_and_scale():
    filters = np.stack([np.full((28, 28), v) for v in (2.0, -3.0, 0.5)])
    mosaic = filter_mosaic(filters, ncols=2, places=4, gap=2)
    assert mosaic.shape == (58, 58)
    assert mosaic[0, 0] == 1 and mosaic[0, 30] == -1 and mosaic[30, 0] == 1
    assert mosaic[30, 30] == 0 and mosaic[28, 0] == 0                # empty place and gap: grey


@pytest.fixture(scope="module")
def two_models():
    torch.manual_seed(0)
    a = Autoencoder([784, 20], code_activation="sigmoid").eval()
    b = Autoencoder([784, 20], code_activation="sigmoid").eval()
    return a, b


def test_noise_explorer_follows_its_controls(two_models, x):
    explorer = widgets.NoiseExplorer(*two_models, x[:6], n=6)
    first_png = explorer.picture.value
    assert first_png[:4] == b"\x89PNG"
    explorer.level.value = explorer.level.max
    assert explorer.picture.value != first_png
    high = explorer.last["errors"]["noisy"]
    explorer.level.value = explorer.level.min
    assert explorer.last["errors"]["noisy"] == 0 < high               # level 0: the clean digits
    for kind in corruption.NOISE_KINDS:
        explorer.kind.value = kind
        explorer.level.value = 0.5
        expected = corruption.corrupt(x[:6], kind, 0.5, gen(0))
        assert torch.equal(explorer.last["noisy"], expected)
        with torch.no_grad():
            assert torch.allclose(explorer.last["DAE"], two_models[1](expected), atol=1e-6)


def test_noise_explorer_rejects_nonsense(two_models, x):
    explorer = widgets.NoiseExplorer(*two_models, x[:4], n=4)
    with pytest.raises(ValueError, match="between 0 and 1"):
        explorer.show("masking", float("nan"))
    with pytest.raises(ValueError, match="Unknown noise"):
        explorer.show("blur", 0.2)
    with pytest.raises(ValueError, match="shape"):
        widgets.NoiseExplorer(*two_models, torch.zeros(4, 10))


def test_filter_browser_pages(two_models):
    a, b = two_models
    browser = widgets.FilterBrowser({"A": a, "B": b}, per_page=8, ncols=4)
    assert browser.n_pages == 3 and browser.page.max == 2
    first = browser.picture.value
    browser.page.value = browser.page.max                    # last page: 4 filters, 4 grey places
    assert browser.picture.value != first
    expected = filter_mosaic(first_layer_filters(b)[16:20].numpy(), 4, 8)
    assert np.allclose(browser.last["B"], expected)
    browser.page.value = 0
    assert np.allclose(browser.last["A"], filter_mosaic(first_layer_filters(a)[:8].numpy(), 4, 8))
    for bad in (3, -1, True, "1", None, 1.0):
        with pytest.raises(ValueError, match="page must be a whole number from 0 to 2"):
            browser.show(bad)
    with pytest.raises(ValueError):
        widgets.FilterBrowser({})


def test_noise_explorer_uses_the_dae_of_the_chosen_noise(two_models, x):
    a, b = two_models
    explorer = widgets.NoiseExplorer(a, {"masking": a, "gaussian": b, "salt-and-pepper": a}, x[:3], n=3)
    explorer.kind.value = "gaussian"
    with torch.no_grad():
        assert torch.allclose(explorer.last["DAE"], b(explorer.last["noisy"]), atol=1e-6)
    with pytest.raises(ValueError, match="no DAE for"):
        widgets.NoiseExplorer(a, {"masking": b}, x[:3])


def test_trained_dae_is_cached(cache_dir, tiny_data):
    recipe = recipes.DenoisingRecipe(name="dae-test", title="DAE", notebook="02", hidden=8,
                                     noise="gaussian", level=0.2, subset_epochs=1)
    model, history = cache.train_or_load(recipe, tiny_data, verbose=False)
    assert len(history["train_loss"]) == 20 and model.encode(tiny_data.x_test).shape == (50, 8)
    again, _ = cache.train_or_load(recipe, tiny_data, verbose=False)
    assert torch.equal(model.encoder[0].weight, again.encoder[0].weight)
    assert len(list(cache_dir.glob("dae-test-*.pt"))) == 1
