"""helpers.latent (paths between codes, the decoder's output as an average of digits) and the
widgets of notebook 09, driven from Python as the browser drives them."""
import math

import numpy as np
import pytest
import torch

from helpers import latent, models, widgets
from helpers.drawing import prepare_digit, render_strokes
from helpers.vae import VAE, ConditionalVAE
from helpers.widgets.drawing import EMPTY

from test_drawing import ONE, ZERO, drag


# --- paths ---------------------------------------------------------------------------------

def test_paths_start_and_end_at_the_two_codes():
    z0, z1 = torch.tensor([1.0, 0.0, 2.0]), torch.tensor([-1.0, 3.0, 0.5])
    for kind in latent.PATHS:
        codes = latent.path(z0, z1, 7, kind)
        assert codes.shape == (7, 3)
        assert torch.allclose(codes[0], z0, atol=1e-6) and torch.allclose(codes[-1], z1, atol=1e-6)
    line = latent.path(z0, z1, 3, "linear")
    assert torch.allclose(line[1], (z0 + z1) / 2)


def test_the_arc_keeps_the_length_and_the_line_does_not():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(20, generator=g), torch.randn(20, generator=g)
    z1 = z1 * z0.norm() / z1.norm()                           # two codes of the same length
    arc = latent.path(z0, z1, 11, "spherical")
    assert torch.allclose(arc.norm(dim=1), z0.norm().expand(11), rtol=1e-5)
    line = latent.path(z0, z1, 11, "linear")
    assert line[5].norm() < 0.9 * z0.norm()                   # nearly orthogonal: the middle is shorter
    # the angle grows evenly along the arc
    angles = torch.arccos((arc @ z0) / (arc.norm(dim=1) * z0.norm())).clamp(0, math.pi)
    assert torch.allclose(angles.diff(), angles.diff().mean().expand(10), atol=1e-3)   # arccos near 1: float32


def test_interpolate_at_single_points_and_in_one_direction():
    z0, z1 = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 2.0])
    assert torch.allclose(latent.interpolate(z0, z1, 0.5, "spherical")[0],
                          torch.tensor([math.sqrt(2), math.sqrt(2)]), atol=1e-5)
    same_way = latent.interpolate(z0, 3 * z0, torch.tensor([0.0, 0.5, 1.0]), "spherical")
    assert torch.allclose(same_way, torch.stack([z0, 2 * z0, 3 * z0]), atol=1e-5)   # the line


def test_paths_refuse_nonsense():
    z = torch.zeros(2)
    with pytest.raises(ValueError, match="kind"):
        latent.path(z, z, 5, "curly")
    with pytest.raises(ValueError, match="steps"):
        latent.path(z, z, 1)
    with pytest.raises(ValueError, match="finite"):
        latent.interpolate(z, z, float("nan"))


# --- the decoder's output as an average ----------------------------------------------------

def test_posterior_weights_are_the_normalised_densities():
    g = torch.Generator().manual_seed(1)
    mu, logvar, z = torch.randn(30, 2, generator=g), torch.randn(30, 2, generator=g), torch.randn(2, generator=g)
    weights = latent.posterior_weights(z, mu, logvar)
    densities = torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(1).exp()
    assert weights.shape == (30,) and weights.sum().item() == pytest.approx(1.0)
    assert torch.allclose(weights, densities / densities.sum(), atol=1e-6)


def test_the_posterior_average_minimises_the_expected_bernoulli_loss():
    g = torch.Generator().manual_seed(2)
    images = torch.rand(40, 784, generator=g)
    mu, logvar, z = torch.randn(40, 2, generator=g), torch.zeros(40, 2), torch.zeros(2)
    w = latent.posterior_weights(z, mu, logvar)
    best = latent.posterior_average(z, mu, logvar, images).clone().requires_grad_(True)
    expected_loss = (w * torch.nn.functional.binary_cross_entropy(
        best.expand_as(images), images, reduction="none").sum(1)).sum()
    expected_loss.backward()
    assert best.grad.abs().max() < 1e-4                      # a minimum: no direction lowers it


def test_sharpness_of_known_images():
    flat = torch.full((2, 784), 0.3)
    assert latent.sharpness(flat) == 0
    stripes = torch.zeros(28, 28)
    stripes[:, ::2] = 1.0                                      # every horizontal step jumps by 1
    assert latent.sharpness(stripes) == pytest.approx(0.5)


# --- the widgets of notebook 09 --------------------------------------------------------------

@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    return dict(cvae=ConditionalVAE([784, 16, 2]).eval(), ae=models.Autoencoder([784, 16, 2]).eval(),
                vae=VAE([784, 16, 2]).eval(), judge=models.mlp([784, 10]).eval(),
                x=torch.rand(4, 784, generator=torch.Generator().manual_seed(1)))


def test_conditional_explorer_asks_for_the_class(small):
    cvae = small["cvae"]
    explorer = widgets.ConditionalExplorer(cvae, grid=3)
    first = explorer.picture.value
    explorer.z1.value = 1.5
    moved = explorer.picture.value
    assert moved != first
    expected = cvae.decode(torch.tensor([[1.5, 0.0]]), torch.tensor([0])).reshape(28, 28).detach().numpy()
    assert np.allclose(explorer.last["image"], expected, atol=1e-6)
    explorer.label.value = 7
    assert explorer.picture.value != moved and explorer.last["label"] == 7
    row = cvae.decode(torch.tensor([[1.5, 0.0]]).repeat(10, 1), torch.arange(10)).detach().numpy()
    assert np.allclose(explorer.last["row"], row.reshape(10, 28, 28), atol=1e-6)
    corner = cvae.decode(torch.tensor([[-explorer.limit, explorer.limit]]), torch.tensor([7]))
    assert np.allclose(explorer.last["grid"][:28, :28], corner.reshape(28, 28).detach().numpy(), atol=1e-6)
    for bad in ((10, 0.0, 0.0), (-1, 0.0, 0.0), ("3", 0.0, 0.0), (1, float("nan"), 0.0), (1, 0.0, None)):
        with pytest.raises(ValueError):
            explorer.compute(*bad)


def test_drawn_walk_follows_the_pad_and_the_controls(small):
    m = small
    view = widgets.DrawnWalk(m["ae"], m["vae"], m["judge"], {"a": m["x"][0], "b": m["x"][1]})
    assert view.last is None and view.result.value == EMPTY
    empty = view.picture.value
    drag(view.pad, ONE[0].points)
    one = view.last
    digit = torch.as_tensor(prepare_digit(render_strokes(ONE))).reshape(1, 784)
    end = m["x"][:1]
    with torch.no_grad():                     # the strip starts at your digit and ends at the other
        for name, model, code in (("plain AE", m["ae"], m["ae"].encode),
                                  ("VAE", m["vae"], lambda v: m["vae"].encode(v)[0])):
            assert np.allclose(one["strip"][name][0], model.decode(code(digit)).reshape(28, 28), atol=1e-5)
            assert np.allclose(one["strip"][name][-1], model.decode(code(end)).reshape(28, 28), atol=1e-5)
    probabilities = torch.softmax(m["judge"](digit), dim=1)[0].detach()
    assert view.result.value.startswith(f"judge: {int(probabilities.argmax())} ({probabilities.max():.0%} confident)")
    assert view.picture.value != empty
    for control, value in ((view.t, 0.9), (view.kind, "spherical"), (view.to, "b")):
        before = view.picture.value
        control.value = value
        assert view.picture.value != before, f"moving {control.description} must change the picture"
    assert view.last["kind"] == "spherical" and view.last["to"] == "b" and view.last["t"] == pytest.approx(0.9)
    view.t.value = 0.0
    assert np.allclose(view.last["at_t"]["VAE"], view.last["strip"]["VAE"][0], atol=1e-6)
    # keep the pad's digit as an end, then draw another and walk to the kept one
    kept = view.keep()
    assert kept == "your drawing 1" and view.to.value == kept and kept in view.to.options
    view.pad.clear()
    drag(view.pad, ZERO[0].points)
    assert np.allclose(view.last["strip"]["VAE"][-1], one["strip"]["VAE"][0], atol=1e-5)
    with pytest.raises(ValueError, match="to must be one of"):
        view.compute(view.pad.digit, "nowhere")
    with pytest.raises(ValueError, match="kind"):
        view.compute(view.pad.digit, "a", "zigzag")
    view.pad.clear()
    assert view.last is None and view.picture.value == empty and view.keep() is None
    with pytest.raises(ValueError):
        widgets.DrawnWalk(m["ae"], m["vae"], m["judge"], {})
