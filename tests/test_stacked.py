"""helpers.stacked and the stage viewer / label-budget widgets."""
import math

import matplotlib
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from helpers import cache, recipes, stacked, widgets
from helpers.plots import FROZEN, TRAINABLE, draw_stage_diagram

SIZES = [784, 16, 8, 4]


def test_set_trainable_freezes_all_but_one_stage():
    s = stacked.StackedAutoencoder(SIZES)
    s.set_trainable(2)
    names = {n for n, p in s.named_parameters() if p.requires_grad}
    assert names == {"layers.1.weight", "layers.1.bias", "decoders.1.weight", "decoders.1.bias"}


def test_encode_and_reconstruct_shapes():
    s = stacked.StackedAutoencoder(SIZES)
    x = torch.rand(5, 784)
    assert s.encode(x, 0) is x
    assert s.encode(x).shape == (5, 4) and s.encode(x, 2).shape == (5, 8)
    assert s.reconstruct(x, 3).shape == (5, 784)


def stage(k: int, epochs: int = 2) -> recipes.StackedStageRecipe:
    """Stage k of a tiny stack; `epochs` whole passes over the 200 tiny images."""
    return recipes.StackedStageRecipe(name="t", title=f"stage {k}", notebook="05", sizes=tuple(SIZES),
                                      stage=k, subset_epochs=epochs * 200 // 4000 or 1)


def test_greedy_stages_keep_frozen_weights_and_use_the_cache(tiny_data, cache_dir):
    stages = [cache.train_or_load(stage(k), tiny_data, verbose=False)[0] for k in (1, 2, 3)]
    for k in (2, 3):
        before, after = stages[k - 2], stages[k - 1]
        for j in range(k - 1):
            assert torch.equal(before.layers[j].weight, after.layers[j].weight)
            assert torch.equal(before.decoders[j].weight, after.decoders[j].weight)
        assert not torch.equal(before.layers[k - 1].weight, after.layers[k - 1].weight)
    assert len(list(cache_dir.glob("t-stage*.pt"))) == 3
    again, _ = cache.train_or_load(stage(3), tiny_data, verbose=False)
    assert torch.equal(again.layers[2].weight, stages[2].layers[2].weight)
    with pytest.raises(ValueError, match="stage must be a whole number from 1 to 3"):
        stage(4)


def test_cache_lines_come_in_the_order_the_stages_are_made(tiny_data, cache_dir, capsys):
    cache.train_or_load(stage(1), tiny_data)
    capsys.readouterr()
    cache.train_or_load(stage(3), tiny_data)      # stage 1 cached, 2 and 3 not
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Cache:")]
    assert [line.split()[1:4] for line in lines] == [["loaded", "t-stage1", "from"],
                                                     ["no", "saved", "t-stage2"],
                                                     ["no", "saved", "t-stage3"]], lines
    cache.train_or_load(stage(3), tiny_data)      # all cached: one line
    assert capsys.readouterr().out.count("Cache:") == 1


def test_label_budget_table_prints_no_progress_to_stderr(tiny_data, capsys):
    stacked.label_budget_accuracies(stacked.StackedAutoencoder(SIZES), tiny_data, [1], [0], steps=2)
    assert "labels per class" not in capsys.readouterr().err


def test_label_budget_indices():
    y = torch.arange(100) % 10
    idx = stacked.label_budget_indices(y, 3, seed=1)
    assert len(idx) == 30 and torch.bincount(y[idx]).tolist() == [3] * 10
    assert torch.equal(idx, stacked.label_budget_indices(y, 3, seed=1))
    with pytest.raises(ValueError):
        stacked.label_budget_indices(y, 11)


def test_classifier_from_pretrained_copies_layers_and_trains():
    s = stacked.StackedAutoencoder(SIZES)
    clf = stacked.StackedClassifier.from_pretrained(s)
    assert torch.equal(clf.layers[0].weight, s.layers[0].weight)
    assert clf(torch.rand(3, 784)).shape == (3, 10)
    x = torch.rand(40, 784)
    y = torch.arange(40) % 10
    before = clf.layers[0].weight.clone()
    stacked.train_classifier(clf, x, y, steps=5)
    assert not torch.equal(before, clf.layers[0].weight)             # fine-tuning moves every layer
    assert torch.equal(before, s.layers[0].weight)                   # ... but not the stack's copy


def test_label_budget_table_is_cached(tiny_data, cache_dir):
    budgets = recipes.LabelBudgetRecipe(name="label-budgets", title="budgets", notebook="05",
                                        stack=stage(1), budgets=(1, 2), seeds=(0,), steps=3)
    with cache.recording() as events:
        table, _ = cache.train_or_load(budgets, tiny_data, verbose=False)
    assert [(e.name, e.action) for e in events] == [("t-stage1", "trained"), ("label-budgets", "trained")]
    assert set(table) == {"budgets", "seeds", "pretrained", "random"}
    assert np.shape(table["pretrained"]) == (2, 1)
    assert len(list(cache_dir.glob("label-budgets-*.pt"))) == 1
    with cache.recording() as events:
        assert cache.train_or_load(budgets, tiny_data, verbose=False) == (table, None)
    assert [(e.name, e.action) for e in events] == [("label-budgets", "loaded")], "the stack is not needed"


def test_linear_probe_separates_separable_features():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(200) % 2
    f = torch.randn(200, 3, generator=g) + 4 * y[:, None].float()
    assert stacked.linear_probe_accuracy(f[:100], y[:100], f[100:], y[100:]) > 0.95


def colours_of(ax):
    return {matplotlib.colors.to_hex(line.get_color()) for line in ax.lines}


@pytest.mark.parametrize("stage", [1, 2, 3, "fine-tune"])
def test_diagram_colours_trainable_red_frozen_black(stage):
    ax = Figure().subplots()
    layers = draw_stage_diagram(ax, SIZES, stage)
    if stage == "fine-tune":
        assert layers["frozen"] == [] and "head" in layers["trainable"]
    else:
        assert layers["trainable"] == [f"layer {stage}", f"decoder {stage}"]
        assert layers["frozen"] == [f"layer {j}" for j in range(1, stage)]
    expected = {matplotlib.colors.to_hex(TRAINABLE)} | ({matplotlib.colors.to_hex(FROZEN)} if layers["frozen"] else set())
    assert colours_of(ax) == expected
    for bad in (0, 4, "x", 1.5):
        with pytest.raises(ValueError):
            draw_stage_diagram(ax, SIZES, bad)


def test_stage_viewer_moves_through_every_stage():
    stages = [stacked.StackedAutoencoder(SIZES) for _ in range(3)]
    viewer = widgets.StageViewer(stages, torch.rand(6, 784))
    seen = {viewer.picture.value}
    for k in (viewer.stage.max, viewer.stage.min, 2):
        viewer.stage.value = k
        assert viewer.last["stage"] == k and viewer.last["mosaic"].shape == (56, 168)
        seen.add(viewer.picture.value)
    assert len(seen) == 3
    for bad in (0, 4, math.nan, True, "2", None):
        with pytest.raises(ValueError, match="stage must be a whole number from 1 to 3"):
            viewer.compute(bad)


def test_label_budget_control():
    table = {"budgets": [10, 50], "seeds": [0, 1], "pretrained": [[0.8, 0.7], [0.9, 0.9]],
             "random": [[0.6, 0.5], [0.85, 0.85]]}
    control = widgets.LabelBudgetControl(table)
    assert control.last["gain"] == pytest.approx(0.2)
    png = control.picture.value
    control.budget.value = 50
    assert control.last["gain"] == pytest.approx(0.05) and control.picture.value != png
    assert "50 labels per class" in control.readout.value
    for bad in (11, math.nan, None, [10], {}, "10"):
        with pytest.raises(ValueError, match=r"labels per class must be one of \[10, 50\]"):
            control.compute(bad)
