"""Models, losses and the training loop."""
import math
import subprocess
import sys

import pytest
import torch

from helpers import losses, models, train


def test_autoencoder_shapes_and_mirrored_decoder():
    ae = models.Autoencoder([784, 64, 8])
    x = torch.rand(5, 784)
    assert ae.encode(x).shape == (5, 8)
    assert ae(x).shape == (5, 784)
    enc = [m.weight.shape for m in ae.encoder if isinstance(m, torch.nn.Linear)]
    dec = [m.weight.shape for m in ae.decoder if isinstance(m, torch.nn.Linear)]
    assert enc == [(64, 784), (8, 64)] and dec == [(64, 8), (784, 64)]
    assert ae.code_size == 8


def test_activations_are_where_they_are_asked_for():
    ae = models.Autoencoder([784, 32, 2], activation="tanh", code_activation=None, out_activation="sigmoid")
    kinds = [type(m).__name__ for m in ae.encoder] + ["|"] + [type(m).__name__ for m in ae.decoder]
    assert kinds == ["Linear", "Tanh", "Linear", "Identity", "|", "Linear", "Tanh", "Linear", "Sigmoid"]
    assert 0 < ae(torch.randn(3, 784)).min() and ae(torch.randn(3, 784)).max() < 1


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown activation 'gelu'"):
        models.Autoencoder([784, 2], activation="gelu")


def test_first_layer_filters_are_the_weight_rows_as_images():
    ae = models.Autoencoder([784, 10, 2])
    filters = models.first_layer_filters(ae)
    assert filters.shape == (10, 28, 28)
    assert torch.equal(filters[3].flatten(), ae.encoder[0].weight[3].detach())


def test_encode_all_and_reconstruct_all_batch_and_restore_mode():
    ae = models.Autoencoder([784, 16, 4]).train()
    x = torch.rand(300, 784)
    assert torch.allclose(models.encode_all(ae, x, batch_size=64), ae.encode(x), atol=1e-6)
    assert torch.allclose(models.reconstruct_all(ae, x, batch_size=64), ae(x), atol=1e-6)
    assert ae.training


def test_losses_against_a_hand_computation():
    x = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    x_hat = torch.tensor([[0.0, 0.0], [1.0, 0.5]])
    # squared differences: [[0, 1], [0, 0.25]]
    assert losses.mse_per_pixel(x_hat, x).item() == pytest.approx((0 + 1 + 0 + 0.25) / 4)
    assert losses.squared_error_per_image(x_hat, x).tolist() == pytest.approx([1.0, 0.25])
    assert losses.bernoulli_nll_per_image(torch.full((1, 2), 0.5), x[:1]).item() == pytest.approx(2 * math.log(2))
    identity = torch.nn.Identity()
    assert losses.reconstruction_loss(identity, x).item() == 0


def test_fit_lowers_the_loss_and_returns_a_history():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(256, 784, generator=g)
    train.set_seed(0)
    ae = models.Autoencoder([784, 32, 8])
    before = train.evaluate_loss(ae, x)
    history = train.fit(ae, x, x_val=x[:64], epochs=5, batch_size=64, progress=False)
    assert len(history["train_loss"]) == 5 and len(history["val_loss"]) == 5
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert train.evaluate_loss(ae, x) < before
    assert not ae.training


def test_fit_is_reproducible_with_a_seed():
    x = torch.rand(128, 784, generator=torch.Generator().manual_seed(1))
    runs = []
    for _ in range(2):
        train.set_seed(3)
        ae = models.Autoencoder([784, 16, 4])
        runs.append((train.fit(ae, x, epochs=2, batch_size=32, seed=3, progress=False), ae))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1].state_dict().values(), runs[1][1].state_dict().values()))


def test_cosine_schedule_ends_at_zero_learning_rate_and_bad_schedule_fails():
    ae = models.Autoencoder([784, 4])
    x = torch.rand(64, 784)
    seen = []
    original_step = torch.optim.Adam.step

    def spy(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original_step(self, *args, **kwargs)

    torch.optim.Adam.step = spy
    try:
        train.fit(ae, x, epochs=4, batch_size=64, lr=0.1, schedule="cosine", progress=False)
    finally:
        torch.optim.Adam.step = original_step
    assert seen[0] == pytest.approx(0.1) and seen == sorted(seen, reverse=True) and seen[-1] < 0.02
    with pytest.raises(ValueError, match="schedule"):
        train.fit(ae, x, epochs=1, schedule="step", progress=False)


def test_epochs_for_keeps_the_number_of_images_seen():
    assert train.epochs_for(4000, 25) == 25
    assert train.epochs_for(60000, 25) == 2       # 1.67 rounded up
    assert train.epochs_for(60000, 20) == 2       # 1.33 rounded up: never fewer images
    assert train.epochs_for(60000, 5) == 1


def test_pick_device_returns_a_usable_device():
    device = train.pick_device()
    assert torch.zeros(1, device=device).device.type == device.type


def test_encode_all_gives_both_parts_of_a_tuple_and_decode_all_matches_decode():
    from helpers.vae import VAE
    torch.manual_seed(0)
    vae = VAE([784, 16, 3])
    x = torch.rand(70, 784)
    mu, logvar = models.encode_all(vae, x, batch_size=32)
    assert torch.allclose(mu, vae.encode(x)[0], atol=1e-6) and torch.allclose(logvar, vae.encode(x)[1], atol=1e-6)
    z = torch.randn(70, 3)
    assert torch.allclose(models.decode_all(vae, z, batch_size=32), vae.decode(z), atol=1e-6)
    assert models.device_of(vae) == next(vae.parameters()).device


def labelled_data(n=96):
    g = torch.Generator().manual_seed(2)
    return torch.rand(n, 784, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_fit_with_labels_trains_exactly_as_labels_in_a_785th_column():
    """The judge classifier used to smuggle its labels into fit as a 785th pixel column; fit
    with labels must give the very same weights."""
    x, y = labelled_data()
    runs = []
    for labelled in (True, False):
        train.set_seed(0)
        model = models.mlp([784, 32, 10])
        if labelled:
            train.fit(model, x, y, epochs=3, batch_size=32, progress=False)
        else:
            xy = torch.cat([x, y[:, None].float()], dim=1)
            train.fit(model, xy, epochs=3, batch_size=32, progress=False,
                      loss_fn=lambda m, b: torch.nn.functional.cross_entropy(m(b[:, :-1]), b[:, -1].long()))
        runs.append(model.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(runs[0].values(), runs[1].values()))


def test_fit_for_a_number_of_steps_stops_part_way_through_an_epoch():
    x, y = labelled_data(100)                       # 4 batches of 32, 32, 32, 4 per epoch
    model = models.mlp([784, 10])
    steps = []
    original_step = torch.optim.Adam.step

    def count(self, *args, **kwargs):
        steps.append(1)
        return original_step(self, *args, **kwargs)

    torch.optim.Adam.step = count
    try:
        history = train.fit(model, x, y, steps=10, batch_size=32, progress=False)
    finally:
        torch.optim.Adam.step = original_step
    assert len(steps) == 10 and len(history["train_loss"]) == 3     # 4 + 4 + 2 steps
    with pytest.raises(ValueError, match="one label per image"):
        train.fit(model, x, y[:50], epochs=1, progress=False)


def test_fit_takes_the_batch_order_from_a_given_generator():
    x = torch.rand(64, 784, generator=torch.Generator().manual_seed(4))
    runs = []
    for shuffle in (None, torch.Generator().manual_seed(7)):
        train.set_seed(0)
        ae = models.Autoencoder([784, 8])
        train.fit(ae, x, epochs=2, batch_size=16, seed=7, shuffle=shuffle, progress=False)
        runs.append(ae.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(runs[0].values(), runs[1].values()))


def test_importing_the_training_loop_does_not_import_the_widgets():
    code = "import sys, helpers.train, helpers.cache, helpers.recipes; assert 'ipywidgets' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_compare_timings_returns_the_best_time_of_each_function():
    import time
    from helpers import timing
    calls = []
    slow_calls = []
    result = timing.compare_timings({"fast": lambda: calls.append("f"),
                                     "slow": lambda: (slow_calls.append("s"), time.sleep(0.06))},
                                    rounds=2, budget=0.05, cheap_rounds=3)
    assert set(result) == {"fast", "slow"}
    assert result["slow"] >= 0.06 > result["fast"] >= 0
    assert len(calls) == 1 + (2 + 3) * (1 + 50)   # a warm-up; then each round one untimed and 50 timed calls
    assert len(slow_calls) == 1 + 2                # a warm-up, then once in each of the two rounds
    order = []
    rounds = timing.interleaved_rounds({"a": lambda: order.append("a") or 1,
                                        "b": lambda: order.append("b") or 2}, 2)
    assert order == ["a", "b", "a", "b"] and rounds == {"a": [1, 1], "b": [2, 2]}


def test_training_progress_leaves_no_trace_in_a_saved_notebook():
    """In a notebook the bar is a live widget; when training ends its output is emptied, so a
    saved or exported notebook holds no frozen "0%|          | 0/5" placeholder."""
    import json

    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import torch\nfrom helpers import train\n"
        "train.fit(torch.nn.Linear(4, 4), torch.rand(32, 4), loss_fn=lambda m, x: ((m(x) - x) ** 2).mean(),\n"
        "          epochs=5, desc='tiny')\nprint('trained')")])
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert any(o.output_type == "display_data" for o in outputs), "the bar was not shown as a display"
    assert outputs[-1].text == "trained\n"
    saved = json.dumps(outputs)
    assert "tiny" not in saved and "0/5" not in saved and "%|" not in saved, saved


def test_progress_bar_outside_a_notebook_counts_the_epochs():
    assert list(train.progress_bar(3, "x")) == [0, 1, 2]
    assert list(train.progress_bar(2, "x", enabled=False)) == [0, 1]


# --- nonsense arguments: a ValueError naming the argument and what is allowed --------------------

X = torch.rand(32, 784, generator=torch.Generator().manual_seed(2))
BAD_FIT_ARGUMENTS = [
    (dict(batch_size=-5), "batch_size must be a whole number >= 1, got -5"),
    (dict(batch_size=0), "batch_size must be a whole number >= 1, got 0"),
    (dict(batch_size=2.5), "batch_size must be a whole number >= 1"),
    (dict(batch_size="128"), "batch_size must be a whole number >= 1"),
    (dict(epochs=0), "epochs must be a whole number >= 1, got 0"),
    (dict(epochs=-1), "epochs must be a whole number >= 1"),
    (dict(epochs=True), "epochs must be a whole number >= 1"),
    (dict(lr=0), "lr must be a finite number > 0"),
    (dict(lr=-1e-3), "lr must be a finite number > 0"),
    (dict(lr=float("nan")), "lr must be a finite number > 0"),
    (dict(lr=float("inf")), "lr must be a finite number > 0"),
    (dict(weight_decay=-0.1), "weight_decay must be a finite number >= 0"),
    (dict(seed=-1), "seed must be a whole number >= 0"),
    (dict(schedule="step"), "schedule must be one of [None, 'cosine']"),
    (dict(x_train=torch.zeros(0, 784)), "x_train must be a 2-D tensor (images, pixels) with at least one image, got (0, 784)"),
    (dict(x_train=torch.zeros(784)), "x_train must be a 2-D tensor"),
    (dict(x_train=[[0.0] * 784]), "x_train must be a 2-D tensor (images, pixels) with at least one image, got list"),
    (dict(x_val=torch.zeros(0, 784)), "x_val must be a 2-D tensor"),
    (dict(x_val=torch.zeros(4, 10)), "x_val must have as many columns as x_train (784), got 10"),
]


@pytest.mark.parametrize("bad, message", BAD_FIT_ARGUMENTS, ids=lambda v: str(v)[:40])
def test_fit_refuses_nonsense_before_training(bad, message):
    train.set_seed(0)
    ae = models.Autoencoder([784, 8, 2])
    before = {k: v.clone() for k, v in ae.state_dict().items()}
    arguments = dict(x_train=X, epochs=1, batch_size=16, progress=False) | bad
    with pytest.raises(ValueError) as err:
        train.fit(ae, arguments.pop("x_train"), **arguments)
    assert message in str(err.value)
    assert all(torch.equal(before[k], v) for k, v in ae.state_dict().items()), "nothing trained"


def test_a_bad_batch_size_caches_nothing(cache_dir, tiny_data):
    from helpers import cache, recipes
    with pytest.raises(ValueError, match="batch_size"):
        recipes.AutoencoderRecipe(name="tiny", title="t", notebook="01", sizes=(784, 8, 2),
                                  subset_epochs=1, batch_size=-5)
    tiny = recipes.AutoencoderRecipe(name="tiny", title="t", notebook="01", sizes=(784, 8, 2),
                                     subset_epochs=1)
    object.__setattr__(tiny, "batch_size", -5)       # past the recipe's own check: fit's
    with pytest.raises(ValueError, match="batch_size"):
        cache.train_or_load(tiny, tiny_data, verbose=False)
    assert not list(cache_dir.glob("*.pt")), "no untrained model may be cached"


@pytest.mark.parametrize("sizes", [[784, 0, 2], [784, -3], [784], "784-2", [784, 2.5], [784, True]])
def test_nonsense_layer_sizes_are_a_clear_error(sizes):
    with pytest.raises(ValueError, match="sizes must be a list of at least 2 whole numbers >= 1"):
        models.Autoencoder(sizes)


def test_recipes_check_their_settings(cache_dir, tiny_data):
    from helpers import cache, recipes
    named = dict(name="t", title="t", notebook="01", subset_epochs=1)
    with pytest.raises(ValueError, match="t takes images of 100 pixels, the data has 784"):
        cache.train_or_load(recipes.AutoencoderRecipe(sizes=(100, 8, 2), **named), tiny_data)
    with pytest.raises(ValueError, match="hidden must be a whole number >= 1, got 0"):
        recipes.DenoisingRecipe(hidden=0, noise="masking", level=0.3, **named)
    with pytest.raises(ValueError, match="Unknown noise 'pink'"):
        recipes.DenoisingRecipe(hidden=8, noise="pink", level=0.3, **named)
    with pytest.raises(ValueError, match="hidden must be a whole number >= 1"):
        recipes.SparseRecipe(hidden=-4, method="kl", weight=1.0, rho=0.05, **named)
    with pytest.raises(ValueError, match="weight must be a finite number >= 0"):
        recipes.SparseRecipe(hidden=8, method="l1", weight=float("nan"), **named)
    with pytest.raises(ValueError, match="hidden must be a whole number >= 1"):
        recipes.ContractiveRecipe(hidden=0, **named)
    with pytest.raises(ValueError, match="sizes must be a list of at least 3 whole numbers"):
        recipes.VAERecipe(sizes=(784, 2), **named)
    with pytest.raises(ValueError, match="beta must be a finite number >= 0"):
        recipes.VAERecipe(sizes=(784, 8, 2), beta=-1.0, **named)
    with pytest.raises(ValueError, match="stage must be a whole number from 1 to 2"):
        recipes.StackedStageRecipe(sizes=(784, 8, 4), stage="1", **named)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        recipes.AutoencoderRecipe(sizes=(784, 8, 2), **dict(named, lr=0))
    with pytest.raises(ValueError, match="schedule must be one of"):
        recipes.AutoencoderRecipe(sizes=(784, 8, 2), **dict(named, schedule="linear"))
    with pytest.raises(ValueError, match="Unknown activation"):
        recipes.AutoencoderRecipe(sizes=(784, 8, 2), activation="relu6", **named)
    assert not list(cache_dir.glob("*.pt"))
