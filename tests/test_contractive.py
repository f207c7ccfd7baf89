"""helpers.contractive and the contraction control, against hand computations and autograd."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from helpers import cache, contractive, recipes, widgets
from helpers.models import Autoencoder


def sigmoid_layer(n_in=10, n_out=4, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, n_out), nn.Sigmoid())


def test_closed_form_matches_a_hand_computation():
    h = torch.tensor([[0.5, 0.25]])
    w = torch.tensor([[1.0, 2.0], [3.0, 0.0]])
    # (0.25^2)(1 + 4) + (0.1875^2)(9)
    expected = 0.0625 * 5 + 0.1875 ** 2 * 9
    assert contractive.sigmoid_jacobian_norm_sq(h, w).item() == pytest.approx(expected)


def test_closed_form_equals_autograd_and_full_jacobian():
    enc = sigmoid_layer(30, 7)
    x = torch.rand(5, 30, generator=torch.Generator().manual_seed(1))
    h = enc(x)
    closed = contractive.sigmoid_jacobian_norm_sq(h, enc[0].weight)
    auto = contractive.jacobian_norm_sq_autograd(enc, x)
    assert torch.allclose(closed, auto, rtol=1e-5)
    J = contractive.encoder_jacobian(enc, x)
    assert J.shape == (5, 7, 30)
    assert torch.allclose(J, contractive.sigmoid_layer_jacobian(h, enc[0].weight), atol=1e-6)


def test_singular_values_square_sum_to_the_norm():
    model = Autoencoder([20, 6], activation=None, code_activation="sigmoid")
    x = torch.rand(4, 20)
    s = contractive.jacobian_singular_values(model, x)
    assert s.shape == (4, 6)
    norm_sq = contractive.sigmoid_jacobian_norm_sq(model.encoder(x), model.encoder[0].weight)
    assert torch.allclose((s ** 2).sum(1), norm_sq, rtol=1e-4)
    assert (s[:, :-1] >= s[:, 1:]).all()
    full_svd = torch.linalg.svdvals(contractive.sigmoid_layer_jacobian(model.encoder(x), model.encoder[0].weight))
    assert torch.allclose(s, full_svd, atol=1e-4)


def test_contractive_loss_is_reconstruction_plus_penalty():
    torch.manual_seed(0)
    model = Autoencoder([20, 6], activation=None, code_activation="sigmoid")
    x = torch.rand(8, 20)
    rec = contractive.contractive_loss(0.0)(model, x)
    assert rec.item() == pytest.approx(((model(x) - x) ** 2).sum(1).mean().item())
    penalty = contractive.sigmoid_jacobian_norm_sq(model.encoder(x), model.encoder[0].weight).mean()
    assert contractive.contractive_loss(0.5)(model, x).item() == pytest.approx((rec + 0.5 * penalty).item())
    for bad in (-1.0, math.nan):
        with pytest.raises(ValueError):
            contractive.contractive_loss(bad)
    with pytest.raises(ValueError):
        contractive.contractive_loss(0.1, mask=1.0)


def test_code_sensitivity_of_a_linear_map_is_its_gain():
    enc = nn.Linear(10, 10, bias=False)
    with torch.no_grad():
        enc.weight.copy_(3 * torch.eye(10))
    s = contractive.code_sensitivity(enc, torch.rand(4, 10), sigma=0.1)
    assert torch.allclose(s, torch.full((4,), 3.0), atol=1e-5)
    with pytest.raises(ValueError):
        contractive.code_sensitivity(enc, torch.rand(4, 10), sigma=0.0)


def test_trained_cae_penalty_lowers_the_jacobian(tiny_data, cache_dir):
    def cae_recipe(name, lam):
        return recipes.ContractiveRecipe(name=name, title=name, notebook="04", hidden=16, lam=lam,
                                         subset_epochs=1)
    ae, _ = cache.train_or_load(cae_recipe("t-ae", 0.0), tiny_data, verbose=False)
    cae, hist = cache.train_or_load(cae_recipe("t-cae", 5.0), tiny_data, verbose=False)
    assert len(hist["train_loss"]) == 20
    x = tiny_data.x_test
    assert contractive.mean_jacobian_norm(cae, x) < contractive.mean_jacobian_norm(ae, x)
    again, _ = cache.train_or_load(cae_recipe("t-cae", 5.0), tiny_data, verbose=False)
    assert torch.equal(again.encoder[0].weight, cae.encoder[0].weight)      # loaded from the cache


@pytest.fixture(scope="module")
def control():
    models = {}
    for lam in (0.0, 1.0):
        torch.manual_seed(int(lam))
        models[lam] = Autoencoder([784, 8], activation=None, code_activation="sigmoid").eval()
    x = torch.rand(20, 784, generator=torch.Generator().manual_seed(0))
    return widgets.ContractionControl(models, x, n_summary=20)


def test_contraction_control_reacts_to_every_control(control):
    png = control.picture.value
    assert png[:4] == b"\x89PNG"
    first = dict(control.last)
    control.lam.value = 1.0
    assert control.last["lam"] == 1.0 and control.picture.value != png
    assert control.last["jacobian"] == pytest.approx(control.summary[1.0]["jacobian"])
    for value in (control.index.min, control.index.max):
        control.index.value = value
        assert torch.equal(control.last["x"], control.x[value])
    for value in (control.sigma.min, control.sigma.max):
        control.sigma.value = value
        assert control.last["sensitivity"] > 0
    assert first["sensitivity"] != control.last["sensitivity"]


def test_contraction_control_rejects_nonsense(control):
    for args in [(0.5, 0, 0.05), (0.0, -1, 0.05), (0.0, 10 ** 6, 0.05), (0.0, 0, math.nan), (0.0, 0, 0.0),
                 ([0.0], 0, 0.05), ({}, 0, 0.05), (0.0, True, 0.05), (0.0, "3", 0.05), (0.0, 0, "0.1")]:
        with pytest.raises(ValueError):           # wrong types too: not a TypeError or KeyError
            control.compute(*args)
    with pytest.raises(ValueError, match=r"λ must be one of the trained values \[0.0, 1.0\], got \[0.0\]"):
        control.show([0.0], 0, 0.05)
    with pytest.raises(ValueError):
        widgets.ContractionControl({}, torch.rand(3, 784))
