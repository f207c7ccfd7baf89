"""KL and Bhattacharyya, the sparsity penalties, and the widgets of notebook 03."""
import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from helpers import cache, divergences, recipes, sparsity, widgets
from helpers.models import Autoencoder


def test_discrete_kl_by_hand():
    p, q = [0.5, 0.5], [0.9, 0.1]
    assert divergences.kl_discrete(p, q) == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1))
    assert divergences.kl_discrete(q, p) == pytest.approx(0.9 * math.log(1.8) + 0.1 * math.log(0.2))
    assert divergences.kl_discrete(p, p) == 0
    assert divergences.kl_discrete([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert divergences.kl_discrete([0.5, 0.5], [1.0, 0.0]) == math.inf


def test_discrete_bhattacharyya_by_hand():
    assert divergences.bhattacharyya_discrete([0.5, 0.5], [0.9, 0.1]) == pytest.approx(
        -math.log(math.sqrt(0.45) + math.sqrt(0.05)))
    assert divergences.bhattacharyya_discrete([0.2, 0.8], [0.2, 0.8]) == pytest.approx(0, abs=1e-12)
    assert divergences.bhattacharyya_discrete([1.0, 0.0], [0.0, 1.0]) == math.inf
    with pytest.raises(ValueError):
        divergences.kl_discrete([0.5, 0.6], [0.5, 0.5])


@pytest.mark.parametrize("mp, sp, mq, sq", [(0, 1, 1, 2), (-1, 0.5, 2, 0.7), (0.3, 1.5, 0.3, 1.5)])
def test_gaussian_closed_forms_match_integrals(mp, sp, mq, sq):
    p = lambda x: divergences.gaussian_pdf(x, mp, sp)
    q = lambda x: divergences.gaussian_pdf(x, mq, sq)
    log_p = lambda x: -0.5 * ((x - mp) / sp) ** 2 - np.log(sp * np.sqrt(2 * np.pi))
    log_q = lambda x: -0.5 * ((x - mq) / sq) ** 2 - np.log(sq * np.sqrt(2 * np.pi))
    kl = quad(lambda x: p(x) * (log_p(x) - log_q(x)), -20, 20, points=[mp, mq])[0]
    db = -np.log(quad(lambda x: np.sqrt(p(x) * q(x)), -20, 20, points=[mp, mq])[0])
    assert divergences.kl_gaussian(mp, sp, mq, sq) == pytest.approx(kl, abs=1e-7)
    assert divergences.bhattacharyya_gaussian(mp, sp, mq, sq) == pytest.approx(db, abs=1e-7)
    with pytest.raises(ValueError):
        divergences.kl_gaussian(0, 0, 0, 1)


def test_bernoulli_kl_and_penalty_by_hand():
    assert divergences.bernoulli_kl(0.1, 0.1).item() == pytest.approx(0, abs=1e-7)
    expected = 0.1 * math.log(0.1 / 0.4) + 0.9 * math.log(0.9 / 0.6)
    assert divergences.bernoulli_kl(0.1, 0.4).item() == pytest.approx(expected, rel=1e-5)
    hidden = torch.tensor([[0.2, 0.0], [0.6, 0.2]])        # active ratios 0.4 and 0.1
    assert sparsity.active_ratio(hidden).tolist() == pytest.approx([0.4, 0.1])
    assert sparsity.kl_sparsity_penalty(hidden, 0.1).item() == pytest.approx(expected, rel=1e-5)
    assert sparsity.l1_penalty(torch.tensor([[1.0, -2.0], [0.0, 3.0]])).item() == pytest.approx(3.0)
    assert torch.isfinite(divergences.bernoulli_kl(0.1, torch.tensor([0.0, 1.0]))).all()


def test_sparse_losses_add_the_penalty():
    torch.manual_seed(0)
    model = Autoencoder([784, 10], code_activation="sigmoid")
    x = torch.rand(8, 784, generator=torch.Generator().manual_seed(0))
    h = model.encode(x)
    mse = ((model.decode(h) - x) ** 2).mean()
    assert sparsity.kl_sparse_loss(0.05, 2.0)(model, x).item() == pytest.approx(
        (mse + 2.0 * sparsity.kl_sparsity_penalty(h, 0.05)).item(), rel=1e-6)
    assert sparsity.l1_sparse_loss(0.5)(model, x).item() == pytest.approx(
        (mse + 0.5 * h.abs().sum(dim=1).mean()).item(), rel=1e-6)
    with pytest.raises(ValueError, match="rho"):
        sparsity.kl_sparse_loss(0.0, 1.0)


def test_near_zero_share_is_scale_free():
    h = torch.cat([torch.zeros(900), torch.ones(100)]).reshape(100, 10)
    assert sparsity.near_zero_share(h) == pytest.approx(0.9)
    assert sparsity.near_zero_share(7 * h) == pytest.approx(0.9)


def test_kl_explorer_follows_its_sliders():
    explorer = widgets.KLExplorer()
    first = explorer.picture.value
    assert first[:4] == b"\x89PNG"
    assert explorer.last["kl_pq"] == pytest.approx(divergences.kl_gaussian(0, 1, 1, 2))
    assert explorer.last["kl_qp"] == pytest.approx(divergences.kl_gaussian(1, 2, 0, 1))
    explorer.mu_q.value, explorer.sigma_q.value = explorer.mu_p.value, explorer.sigma_p.value
    assert explorer.last["kl_pq"] == pytest.approx(0, abs=1e-12) and explorer.last["d_b"] == pytest.approx(0, abs=1e-12)
    assert explorer.picture.value != first
    for slider in (explorer.mu_p, explorer.sigma_p, explorer.mu_q, explorer.sigma_q):
        for value in (slider.min, slider.max):
            slider.value = value
            assert all(np.isfinite(explorer.last[k]) and explorer.last[k] >= 0 for k in ("kl_pq", "kl_qp", "d_b"))
    with pytest.raises(ValueError):
        explorer.show(0, float("nan"), 0, 1)
    with pytest.raises(ValueError):
        explorer.show(0, 1, 0, -1)


def test_sparsity_control_switches_models():
    torch.manual_seed(0)
    models = {rho: Autoencoder([784, 12], code_activation="sigmoid").eval() for rho in (0.05, 0.1, 0.2)}
    with torch.no_grad():                       # make the rho=0.05 model quieter than the others
        models[0.05].encoder[0].bias.fill_(-4.0)
    x = torch.rand(30, 784, generator=torch.Generator().manual_seed(0))
    control = widgets.SparsityControl(models, x, n_filters=8)
    assert control.rho.value == 0.1
    first = control.picture.value
    control.rho.value = 0.05
    assert control.picture.value != first
    low = control.last["mean_activation"]
    assert low == pytest.approx(models[0.05].encode(x).mean().item(), rel=1e-5)
    assert control.last["histogram"].sum() == pytest.approx(1.0)
    control.rho.value = 0.2
    assert control.last["mean_activation"] > low
    assert np.all(np.diff(control.last["rho_hat"]) >= 0)
    with pytest.raises(ValueError, match="no model"):
        control.show(0.3)
    for bad in ([0.1], {}, None, "0.1"):                 # wrong types: still a ValueError
        with pytest.raises(ValueError, match=r"choose one of \[0.05, 0.1, 0.2\]"):
            control.compute(bad)
    with pytest.raises(ValueError):
        widgets.SparsityControl({}, x)


def sparse(name, method, weight, rho=None, **more):
    return recipes.SparseRecipe(name=name, title=name, notebook="03", hidden=6, method=method,
                                weight=weight, rho=rho, subset_epochs=1, **more)


def test_trained_sparse_models_have_the_right_units(cache_dir, tiny_data):
    kl_model, _ = cache.train_or_load(sparse("s-kl", "kl", 0.01, 0.1), tiny_data, verbose=False)
    l1_model, _ = cache.train_or_load(sparse("s-l1", "l1", 1e-3), tiny_data, verbose=False)
    assert isinstance(kl_model.encoder[1], torch.nn.Sigmoid) and isinstance(kl_model.decoder[1], torch.nn.Sigmoid)
    assert isinstance(l1_model.encoder[1], torch.nn.ReLU) and isinstance(l1_model.decoder[1], torch.nn.Softplus)
    with pytest.raises(ValueError, match="method"):
        sparse("s-x", "l2", 1.0)
    linear, _ = cache.train_or_load(sparse("s-l1-lin", "l1", 1e-3, linear_output=True), tiny_data,
                                    verbose=False)
    assert isinstance(linear.encoder[1], torch.nn.ReLU) and isinstance(linear.decoder[1], torch.nn.Identity)
    with pytest.raises(ValueError, match="linear_output"):
        sparse("s-kl", "kl", 0.01, 0.1, linear_output=True)
