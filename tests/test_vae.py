"""helpers.vae, helpers.gaussians, helpers.classifier and the widgets of notebooks 06-07; the
conditional VAE of notebook 09."""
import math

import numpy as np
import pytest
import torch

from helpers import cache, classifier, divergences, gaussians, losses, recipes, vae, widgets


@pytest.fixture(scope="module")
def vae2():
    torch.manual_seed(0)
    return vae.VAE([784, 16, 2]).eval()


# --- the model and the loss ----------------------------------------------------------------

def test_vae_shapes_and_names(vae2):
    x = torch.rand(5, 784)
    mu, logvar = vae2.encode(x)
    assert mu.shape == logvar.shape == (5, 2)
    x_hat, mu2, logvar2 = vae2(x)
    assert x_hat.shape == (5, 784) and ((x_hat > 0) & (x_hat < 1)).all()
    assert torch.equal(mu, mu2) and vae2.code_size == 2
    with pytest.raises(ValueError):
        vae.VAE([784, 2])


def test_reparameterize_uses_the_generator_and_gives_gradients():
    mu = torch.tensor([1.0, -2.0], requires_grad=True)
    logvar = torch.tensor([0.0, math.log(4.0)], requires_grad=True)
    z1 = vae.VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    z2 = vae.VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert torch.equal(z1, z2)
    eps = torch.randn(2, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(z1, mu + torch.tensor([1.0, 2.0]) * eps)
    z1.sum().backward()
    assert torch.allclose(mu.grad, torch.ones(2))
    assert torch.allclose(logvar.grad, 0.5 * torch.tensor([1.0, 2.0]) * eps)


def test_kl_to_standard_normal_by_hand():
    # mu = 1, sigma^2 = e: 1/2 (-1 + 1 + e - 1) = (e - 1) / 2 per dimension
    mu, logvar = torch.ones(1, 3), torch.ones(1, 3)
    assert divergences.kl_to_standard_normal(mu, logvar).item() == pytest.approx(3 * (math.e - 1) / 2)
    assert divergences.kl_to_standard_normal(torch.zeros(4, 2), torch.zeros(4, 2)).tolist() == [0.0] * 4


def test_bernoulli_nll_is_summed_over_pixels():
    x = torch.tensor([[1.0, 0.0]])
    x_hat = torch.tensor([[0.5, 0.25]])
    assert losses.bernoulli_nll_per_image(x_hat, x).item() == pytest.approx(-math.log(0.5) - math.log(0.75))
    assert losses.squared_error_per_image(x_hat, x).item() == pytest.approx(0.25 + 0.0625)


def test_vae_loss_is_the_mean_over_images_of_the_negative_elbo(vae2):
    x = torch.rand(6, 784)
    torch.manual_seed(1)
    per_image = vae.negative_elbo(vae2, x)
    torch.manual_seed(1)
    assert vae.vae_loss(vae2, x).item() == pytest.approx(per_image.mean().item(), rel=1e-6)
    assert per_image.shape == (6,)


def test_kl_gaussians_matches_torch_and_the_diagonal_case():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(3, 3, generator=g, dtype=torch.float64)
    cov0 = A @ A.T + 0.1 * torch.eye(3, dtype=torch.float64)
    mu0, mu1 = torch.randn(3, generator=g, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    eye = torch.eye(3, dtype=torch.float64)
    expected = torch.distributions.kl_divergence(torch.distributions.MultivariateNormal(mu0, cov0),
                                                 torch.distributions.MultivariateNormal(mu1, eye))
    assert divergences.kl_gaussians(mu0, cov0, mu1, eye).item() == pytest.approx(expected.item(), rel=1e-10)
    logvar = torch.randn(3, generator=g, dtype=torch.float64)
    assert divergences.kl_gaussians(mu0, torch.diag(logvar.exp()), mu1, eye).item() == pytest.approx(
        divergences.kl_to_standard_normal(mu0, logvar).item(), rel=1e-10)


def test_importance_bound_with_one_sample_is_the_elbo_on_average(vae2):
    x = torch.rand(3, 784)
    g = torch.Generator().manual_seed(0)
    one = torch.stack([vae.log_likelihood_importance(vae2, x, 1, g) for _ in range(400)]).mean(0)
    mu, logvar = vae2.encode(x)
    with torch.no_grad():
        torch.manual_seed(0)
        elbo = -torch.stack([vae.negative_elbo(vae2, x) for _ in range(400)]).mean(0)
    assert torch.allclose(one, elbo, rtol=0.01)
    many = vae.log_likelihood_importance(vae2, x, 300, g)
    assert (many >= one - 1.0).all()     # the K=300 bound is not looser than the ELBO


def test_importance_bound_in_smaller_steps_gives_the_same_numbers(vae2):
    """Notebook 07 asks for K = 100 samples of 1,000 digits: decoded at once they took 620 MiB,
    so at most 10,000 images are decoded per step. The step changes no number (the same random
    draws in the same order)."""
    x = torch.rand(1000, 784)
    ten_per_step = vae.log_likelihood_importance(vae2, x, 100, torch.Generator().manual_seed(0))
    three_per_step = vae.log_likelihood_importance(vae2, x, 100, torch.Generator().manual_seed(0), chunk=3)
    assert torch.equal(ten_per_step, three_per_step)


def test_prior_sampling_estimate_on_a_decoder_that_ignores_z():
    class Constant(vae.VAE):
        def decode(self, z):
            return torch.full((len(z), 784), 0.5)
    model = Constant([784, 8, 2]).eval()
    x = (torch.rand(784) > 0.5).float()
    estimate = vae.log_likelihood_prior_sampling(model, x, 50, torch.Generator().manual_seed(0))
    assert estimate.item() == pytest.approx(784 * math.log(0.5), rel=1e-6)


def test_a_vae_recipe_trains_once_then_loads(cache_dir, tiny_data):
    recipe = recipes.VAERecipe(name="tiny-vae", title="tiny VAE", notebook="06", sizes=(784, 8, 2),
                               subset_epochs=1)
    model, history = cache.train_or_load(recipe, tiny_data, verbose=False)
    assert len(history["train_loss"]) == 20 and len(history["val_loss"]) == 20
    again, _ = cache.train_or_load(recipe, tiny_data, verbose=False)
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)


def test_classifier_trains_and_reports_confidence(cache_dir, tiny_data):
    recipe = recipes.ClassifierRecipe(name="tiny-judge", title="tiny judge", notebook="06",
                                      sizes=(784, 16, 10), subset_epochs=1)
    model, history = cache.train_or_load(recipe, tiny_data, verbose=False)
    assert len(history["train_loss"]) == 20 and len(history["val_loss"]) == 20
    conf = classifier.confidence(model, tiny_data.x_test)
    assert conf.shape == (50,) and ((conf >= 0.1) & (conf <= 1)).all()
    assert 0 <= classifier.accuracy(model, tiny_data.x_test, tiny_data.y_test) <= 1


# --- the conditional VAE (09) --------------------------------------------------------------

@pytest.fixture(scope="module")
def cvae2():
    torch.manual_seed(0)
    return vae.ConditionalVAE([784, 16, 2]).eval()


def test_conditional_vae_takes_the_label_in_both_networks(cvae2):
    x, y = torch.rand(6, 784, generator=torch.Generator().manual_seed(0)), torch.arange(6)
    mu, logvar = cvae2.encode(x, y)
    assert mu.shape == logvar.shape == (6, 2) and cvae2.code_size == 2
    assert cvae2.encoder[0].in_features == 784 + 10 and cvae2.decoder[0].in_features == 2 + 10
    x_hat = cvae2.decode(mu, y)
    assert x_hat.shape == (6, 784) and ((x_hat > 0) & (x_hat < 1)).all()
    # the label changes what is drawn from the same code, and what the encoder says of one image
    assert not torch.allclose(cvae2.decode(mu, y), cvae2.decode(mu, (y + 1) % 10))
    assert not torch.allclose(cvae2.encode(x, y)[0], cvae2.encode(x, (y + 1) % 10)[0])
    # the one-hot vector by hand: glued after the pixels and after the code
    one_hot = torch.nn.functional.one_hot(y, 10).float()
    h = cvae2.encoder(torch.cat([x, one_hot], dim=1))
    assert torch.allclose(cvae2.fc_mu(h), mu) and torch.allclose(cvae2.fc_logvar(h), logvar)
    assert torch.allclose(cvae2.decoder(torch.cat([mu, one_hot], dim=1)), x_hat)
    with pytest.raises(ValueError):
        vae.ConditionalVAE([784, 2])


def test_conditional_vae_loss_is_the_negative_elbo_given_the_label(cvae2):
    x, y = torch.rand(5, 784, generator=torch.Generator().manual_seed(1)), torch.arange(5) % 10
    torch.manual_seed(2)
    loss = vae.conditional_vae_loss(cvae2, x, y, beta=3.0)
    torch.manual_seed(2)
    x_hat, mu, logvar = cvae2(x, y)
    by_hand = (torch.nn.functional.binary_cross_entropy(x_hat, x, reduction="none").sum(1)
               + 3.0 * 0.5 * (-logvar + mu ** 2 + logvar.exp() - 1).sum(1)).mean()
    assert loss.item() == pytest.approx(by_hand.item(), rel=1e-6)


def test_sample_class_decodes_prior_codes_with_the_label(cvae2):
    images = vae.sample_class(cvae2, 7, 4, seed=3)
    z = torch.randn(4, 2, generator=torch.Generator().manual_seed(3))
    assert images.shape == (4, 784)
    assert torch.allclose(images, cvae2.decode(z, torch.full((4,), 7)).detach())
    assert not torch.allclose(images, vae.sample_class(cvae2, 1, 4, seed=3))


def test_a_conditional_vae_recipe_trains_with_labels_once_then_loads(cache_dir, tiny_data):
    recipe = recipes.ConditionalVAERecipe(name="tiny-cvae", title="tiny CVAE", notebook="09",
                                          sizes=(784, 8, 2), subset_epochs=1)
    assert "one-hot label" in recipe.describe() and "KL(q(z|x, y)" in recipe.describe()
    model, history = cache.train_or_load(recipe, tiny_data, verbose=False)
    assert isinstance(model, vae.ConditionalVAE)
    assert len(history["train_loss"]) == 20 and len(history["val_loss"]) == 20
    assert history["train_loss"][-1] < history["train_loss"][0]
    again, _ = cache.train_or_load(recipe, tiny_data, verbose=False)
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="beta"):
        recipes.ConditionalVAERecipe(name="x", title="x", notebook="09", sizes=(784, 8, 2), beta=-1)


# --- exact Gaussian models -----------------------------------------------------------------

def test_kl_direction_fits():
    fits = gaussians.kl_direction_fits(6.0, 0.5)
    (m_r, s_r), (m_f, s_f) = fits["reverse"], fits["forward"]
    assert abs(abs(m_r) - 3) < 0.05 and abs(s_r - 1) < 0.05      # on one mode
    assert m_f == pytest.approx(0) and s_f == pytest.approx(math.sqrt(10))   # 1 + 3^2
    assert gaussians.fit_gaussian(fits["p"], "forward")[1] == pytest.approx(s_f, abs=1e-3)
    assert fits["kl_reverse"] > 0 and fits["kl_forward"] > 0
    one_mode = gaussians.kl_direction_fits(0.0, 0.3)           # a single Gaussian: both fits exact
    assert one_mode["kl_reverse"] < 1e-6 and one_mode["kl_forward"] < 1e-6
    for bad in [(float("nan"), 0.5), (6.0, 0.0), (6.0, 1.0), (-1.0, 0.5)]:
        with pytest.raises(ValueError):
            gaussians.kl_direction_fits(*bad)
    with pytest.raises(ValueError):
        gaussians.fit_gaussian(fits["p"], "sideways")


def test_linear_gaussian_model_elbo_identity():
    model = gaussians.LinearGaussianModel.random(d=4, k=2, seed=3)
    x = model.sample(1, seed=0)[0]
    mean, cov = model.posterior(x)
    log_px = model.log_px(x[None])[0]
    assert model.elbo(x, mean, cov).item() == pytest.approx(log_px.item(), abs=1e-10)
    m, S = torch.tensor([0.3, -0.2], dtype=torch.float64), torch.diag(torch.tensor([0.5, 2.0], dtype=torch.float64))
    gap = divergences.kl_gaussians(m, S, mean, cov)
    assert (model.elbo(x, m, S) + gap).item() == pytest.approx(log_px.item(), abs=1e-10)
    # p(x) by brute-force integration over a grid of z agrees
    grid = torch.linspace(-8, 8, 801, dtype=torch.float64)
    z = torch.cartesian_prod(grid, grid)
    log_joint = (vae.log_normal(z, torch.zeros(2), torch.zeros(2))
                 + vae.log_normal(x, z @ model.W.T + model.b, torch.full((4,), math.log(model.s2))))
    brute = torch.logsumexp(log_joint, 0) + 2 * math.log(grid[1] - grid[0])
    assert brute.item() == pytest.approx(log_px.item(), abs=1e-6)


# --- widgets -------------------------------------------------------------------------------

def test_kl_direction_demo():
    demo = widgets.KLDirectionDemo()
    first = demo.picture.value
    assert first[:4] == b"\x89PNG"
    demo.separation.value = demo.separation.max
    assert demo.picture.value != first and abs(abs(demo.last["reverse"][0]) - 5) < 0.1
    demo.separation.value = demo.separation.min
    assert demo.last["reverse"][0] == pytest.approx(demo.last["forward"][0], abs=0.05)
    before = demo.picture.value
    demo.weight.value = demo.weight.max
    assert demo.picture.value != before, "even at the smallest separation the weight must matter"
    for w in (demo.weight.min, demo.weight.max):
        demo.weight.value = w
        assert np.allclose(demo.line_p.get_ydata(), demo.last["p"])
    with pytest.raises(ValueError):
        demo.show(float("nan"), 0.5)


def test_vae_latent_explorer(vae2):
    g = torch.Generator().manual_seed(0)
    explorer = widgets.VAELatentExplorer(vae2, torch.randn(50, 2, generator=g) * 10,
                                         torch.randn(50, 2, generator=g), torch.arange(50) % 10,
                                         torch.rand(3, 784, generator=g))
    first = explorer.picture.value
    explorer.z1.value = explorer.z1.max
    assert explorer.picture.value != first
    expected = vae2.decode(torch.tensor([[explorer.z1.max, 0.0]])).reshape(28, 28).detach().numpy()
    assert np.allclose(explorer.last_image, expected, atol=1e-6)
    explorer.z2.value = explorer.z2.min
    assert explorer.marker.get_offsets()[0].tolist() == pytest.approx([explorer.z1.max, explorer.z2.min])
    explorer.show(1e9, -1e9)                         # clamped
    with pytest.raises(ValueError):
        explorer.show(float("inf"), 0.0)
    with pytest.raises(ValueError):
        widgets.VAELatentExplorer(vae2, torch.zeros(5, 3), torch.zeros(5, 2), torch.zeros(5),
                                  torch.rand(1, 784))


def test_kl_weight_control(vae2):
    torch.manual_seed(1)
    other = vae.VAE([784, 16, 2]).eval()
    x = torch.rand(40, 784, generator=torch.Generator().manual_seed(0))
    control = widgets.KLWeightControl({1.0: vae2, 4.0: other}, x, torch.arange(40) % 10, n_images=4)
    first = control.picture.value
    control.beta.value = 4.0
    assert control.picture.value != first
    result = control.compute(4.0)
    assert result["recon"].shape == (4, 784) and result["samples"].shape == (4, 784)
    assert np.allclose(control.scatter.get_offsets(), result["mu"].numpy())
    control.beta.value = 1.0
    for bad in (2.0, [1.0], {}, None, "1.0"):
        with pytest.raises(ValueError, match=r"beta must be one of the trained weights \[1.0, 4.0\]"):
            control.compute(bad)
    with pytest.raises(ValueError):
        widgets.KLWeightControl({}, x, torch.arange(40) % 10)


def test_monte_carlo_control(vae2):
    x = torch.rand(784, generator=torch.Generator().manual_seed(0))
    control = widgets.MonteCarloControl(vae2, x, repeats=4, reference_samples=50)
    first = control.picture.value
    for n in (control.N_OPTIONS[0], control.N_OPTIONS[-1]):
        control.n.value = n
        assert control.compute(n).shape == (4,)
    assert control.picture.value != first
    assert control.compute(3000).std() < control.compute(1).std()
    for bad in (0, -5, 2.5, 10 ** 9, True, "10", None, [10]):
        with pytest.raises(ValueError, match="n \\(samples\\) must be a whole number from 1 to"):
            control.compute(bad)
