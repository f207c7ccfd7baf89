"""helpers.vae, helpers.gaussians, helpers.classifier and the widgets of notebooks 06-07; the
conditional VAE of notebook 09."""
import dataclasses
import math

import numpy as np
import pytest
import torch

from helpers import cache, classifier, divergences, gaussians, losses, models, recipes, vae, widgets


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


# --- the ingredients for few digits (issue 28) -----------------------------------------------

def test_input_dropout_acts_on_the_encoders_pixels_in_training_only():
    torch.manual_seed(0)
    plain = vae.VAE([784, 16, 2])
    torch.manual_seed(0)
    dropped = vae.VAE([784, 16, 2], input_dropout=0.5)
    assert dropped.state_dict().keys() == plain.state_dict().keys(), "dropout adds no weights"
    assert all(torch.equal(a, b) for a, b in zip(dropped.state_dict().values(), plain.state_dict().values()))
    x = torch.rand(8, 784, generator=torch.Generator().manual_seed(1))
    dropped.train()
    torch.manual_seed(2)
    mu, logvar = dropped.encode(x)
    torch.manual_seed(2)
    kept = torch.nn.functional.dropout(x, 0.5, training=True)     # the same draws: the mask used
    assert ((kept == 0) | torch.isclose(kept, 2 * x)).all() and 0.3 < (kept == 0).float().mean() < 0.7
    h = plain.encoder(kept)
    assert torch.allclose(mu, plain.fc_mu(h)) and torch.allclose(logvar, plain.fc_logvar(h))
    dropped.eval()
    assert all(torch.equal(a, b) for a, b in zip(dropped.encode(x), plain.encode(x)))
    for bad in (-0.1, 1.0, float("nan")):
        with pytest.raises(ValueError, match="input_dropout"):
            vae.VAE([784, 16, 2], input_dropout=bad)


def test_output_bias_starts_the_decoder_at_the_mean_training_image():
    x = torch.rand(50, 784, generator=torch.Generator().manual_seed(0)) ** 3
    x[:, :10] = 0                                          # a black border: clipped, so finite
    mean = x.mean(0).clamp(1e-3, 1 - 1e-3)
    torch.manual_seed(0)
    for model in (vae.VAE([784, 16, 2]), models.Autoencoder([784, 16, 2])):
        models.set_output_bias_to_mean_pixel(model, x)
        last = model.decoder[-2]
        assert torch.allclose(torch.sigmoid(last.bias), mean, atol=1e-6)
        with torch.no_grad():
            last.weight.zero_()                            # the code no longer matters:
            x_hat = model.decode(torch.randn(3, 2))        # every image is the mean image
        assert torch.allclose(x_hat, mean.expand(3, -1), atol=1e-6)
    with pytest.raises(ValueError, match="sigmoid"):       # a logit means nothing to a linear output
        models.set_output_bias_to_mean_pixel(models.Autoencoder([784, 8], out_activation=None), x)
    with pytest.raises(ValueError, match="mean_pixel_bias"):
        recipes.AutoencoderRecipe(name="t", title="t", notebook="01", sizes=(784, 8),
                                  out_activation=None, mean_pixel_bias=True)


def test_random_shift_moves_each_image_by_at_most_max_shift_pixels():
    g = torch.Generator().manual_seed(0)
    images = torch.zeros(200, 28, 28)
    images[:, 10:18, 12:15] = torch.rand(200, 8, 3, generator=g)       # ink away from the border
    x = images.reshape(200, 784)
    moved = vae.random_shift(x, 1, torch.Generator().manual_seed(1)).reshape(200, 28, 28)
    offsets = set()
    for before, after in zip(images, moved):
        match = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                 if torch.equal(torch.roll(before, (dy, dx), (0, 1)), after)]
        assert len(match) == 1, "each image is its original moved by one offset"
        offsets.add(match[0])
    assert len(offsets) == 9, "all nine offsets occur"
    again = vae.random_shift(x, 1, torch.Generator().manual_seed(1))
    assert torch.equal(again, moved.reshape(200, 784))
    edge = torch.zeros(1, 784)
    edge[0, 0] = 1.0                                       # ink in the corner is not wrapped around
    assert vae.random_shift(edge.repeat(50, 1), 1, g).sum() < 50
    assert torch.equal(vae.random_shift(x, 0, g), x)
    with pytest.raises(ValueError, match="square"):
        vae.random_shift(torch.rand(2, 780), 1)


def test_kl_weight_rises_to_beta_over_the_warm_up():
    assert [vae.kl_weight(step, 3) for step in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert vae.kl_weight(0, 0, beta=4.0) == 4.0 and vae.kl_weight(1, 3, beta=4.0) == 2.0


def test_training_loss_warms_up_shifts_in_training_and_is_the_negative_elbo_otherwise():
    x = torch.rand(6, 784, generator=torch.Generator().manual_seed(0))
    model = vae.VAE([784, 16, 2])

    def by_hand(weight, images, seed):
        torch.manual_seed(seed)
        x_hat, mu, logvar = model(images)
        return (losses.bernoulli_nll_per_image(x_hat, images)
                + weight * divergences.kl_to_standard_normal(mu, logvar)).mean()

    loss_fn = vae.training_loss(beta=2.0, warmup_steps=1, max_shift=1, seed=5)
    model.train()
    shifts = torch.Generator().manual_seed(5)
    for weight in (1.0, 2.0, 2.0):                          # beta * 1/2, then beta
        torch.manual_seed(7)
        loss = loss_fn(model, x)
        assert loss.item() == pytest.approx(by_hand(weight, vae.random_shift(x, 1, shifts), 7).item(), rel=1e-6)
    model.eval()
    torch.manual_seed(8)
    assert loss_fn(model, x).item() == pytest.approx(by_hand(2.0, x, 8).item(), rel=1e-6)
    plain = vae.training_loss()                             # the defaults: vae_loss itself
    model.train()
    torch.manual_seed(9)
    first = plain(model, x)
    torch.manual_seed(9)
    assert torch.equal(first, vae.vae_loss(model, x))


def test_a_vae_recipe_with_the_ingredients_off_trains_as_vae_loss_in_fit(cache_dir, tiny_data):
    """The new fields at their defaults: the same weights as before they existed."""
    from helpers.train import fit, set_seed
    recipe = recipes.VAERecipe(name="tiny-vae", title="tiny VAE", notebook="06", sizes=(784, 8, 2),
                               subset_epochs=1)
    model, _ = cache.train_or_load(recipe, tiny_data, verbose=False)
    set_seed(0)
    by_hand = vae.VAE([784, 8, 2])
    fit(by_hand, tiny_data.x_train, loss_fn=vae.vae_loss, x_val=tiny_data.x_test, epochs=20,
        batch_size=128, lr=1e-3, seed=0, progress=False)
    for a, b in zip(model.state_dict().values(), by_hand.state_dict().values()):
        assert torch.equal(a.cpu(), b.cpu())


def test_a_vae_recipe_with_every_ingredient(cache_dir, tiny_data):
    plain = recipes.VAERecipe(name="tiny-vae", title="tiny VAE", notebook="06", sizes=(784, 8, 8, 2),
                              subset_epochs=1, batch_size=64)
    recipe = dataclasses.replace(plain, schedule="cosine", input_dropout=0.2, mean_pixel_bias=True,
                                 kl_warmup=1, max_shift=1)
    assert recipe.warmup_steps(tiny_data) == 20 * 4 and plain.warmup_steps(tiny_data) == 0
    assert recipe.warmup_steps() == 63, "one pass over the 4,000-digit subset in batches of 64"
    text = recipe.describe(tiny_data)
    for fact in ("20% of the encoder's input pixels dropped", "logit of the mean training pixel",
                 "KL weight rises from 0 to 1 over the first 20 epochs", "up to 1 pixel", "cosine"):
        assert fact in text
    model, history = cache.train_or_load(recipe, tiny_data, verbose=False)
    assert len(history["val_loss"]) == 20 and all(math.isfinite(v) for v in history["val_loss"])
    assert model.config["input_dropout"] == 0.2 and not model.training
    cache.train_or_load(plain, tiny_data, verbose=False)
    assert len(list(cache_dir.glob("tiny-vae-*.pt"))) == 2, "each setting is its own model"
    again, _ = cache.train_or_load(recipe, tiny_data, verbose=False)
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    for bad in (dict(kl_warmup=-1), dict(max_shift=0.5), dict(input_dropout=1.0)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            dataclasses.replace(plain, **bad)


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
