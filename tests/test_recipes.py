"""helpers.recipes: every trained model defined once, and `make models`."""
import json
import re
from pathlib import Path

import pytest

from helpers import recipes

REPO = Path(__file__).resolve().parents[1]
HELPERS = REPO / "helpers"
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_every_recipe_of_the_module_is_in_all_once():
    declared = []
    for value in vars(recipes).values():
        if isinstance(value, recipes.Recipe):
            declared.append(value)
        elif isinstance(value, dict):
            declared += [v for v in value.values() if isinstance(v, recipes.Recipe)]
        elif isinstance(value, list) and value is not recipes.ALL:
            declared += [v for v in value if isinstance(v, recipes.Recipe)]
    assert {id(r) for r in declared} == {id(r) for r in recipes.ALL}
    assert len({id(r) for r in recipes.ALL}) == len(recipes.ALL), "a recipe is listed twice in ALL"


def test_a_cache_name_occurs_in_one_helpers_module_only():
    others = {p: p.read_text() for p in HELPERS.rglob("*.py") if p.name != "recipes.py"}
    for recipe in recipes.ALL:
        found = [str(p.relative_to(REPO)) for p, text in others.items() if recipe.name in text]
        assert not found, f"the cache name {recipe.name!r} is also typed in {found}"


def test_the_summary_holds_no_sizes_or_training_settings():
    source = (HELPERS / "series.py").read_text()
    for fact in (r"epochs", r"\blr\b", r"sizes\s*[=\[]", r"\[784", r"trained_", r"\bsubset"):
        assert not re.search(fact, source), f"helpers/series.py should get {fact!r} from helpers.recipes"


def notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def recipes_named(name: str) -> list:
    value = getattr(recipes, name)
    if isinstance(value, recipes.Recipe):
        return [value]
    return list(value.values() if isinstance(value, dict) else value)


def test_the_notebooks_a_recipe_names_are_those_that_use_it():
    """The table of `make models` says where each model is used: it must be true."""
    users = {id(r): set() for r in recipes.ALL}
    sources = {path.name[:2]: notebook_code(path) for path in NOTEBOOKS}
    sources["08"] += (HELPERS / "series.py").read_text()
    for notebook, source in sources.items():
        for name in set(re.findall(r"recipes\.([A-Z][A-Z0-9_]*)", source)):
            for recipe in recipes_named(name):
                users[id(recipe)].add(notebook)
    for recipe in recipes.ALL:
        claimed = set(recipe.used_by())
        assert users[id(recipe)] <= claimed, f"{recipe.name} is used in {sorted(users[id(recipe)] - claimed)} too"
        assert recipe.notebook in users[id(recipe)], f"{recipe.name} is not loaded by notebook {recipe.notebook}"


def test_a_recipe_describes_its_architecture_and_training():
    text = recipes.DEEP_AE_2D.describe()
    for fact in ("784-1000-500-250-2", "MSE per pixel", "learning rate 0.002", "batch 64", "30 epochs over 4,000"):
        assert fact in text
    assert str(recipes.DEEP_AE_2D) == text

    class Full:                                         # full MNIST: fewer epochs, as many images
        x_train = range(60000)
    assert "2 epochs over 60,000 images" in recipes.DEEP_AE_2D.describe(Full())
    assert "cosine" in str(recipes.LINEAR_AE_8) and "ρ = 0.05" in str(recipes.SPARSE_KL[0.05])
    assert "200 steps" in str(recipes.LABEL_BUDGETS) and "masking noise (level 0.3" in str(recipes.DAE_800)


def tiny_recipes():
    stage1 = recipes.StackedStageRecipe(name="t-stack", title="stack 1", notebook="05",
                                        sizes=(784, 8, 4), stage=1, subset_epochs=1)
    stage2 = recipes.StackedStageRecipe(name="t-stack", title="stack 2", notebook="05",
                                        sizes=(784, 8, 4), stage=2, subset_epochs=1)
    return [
        recipes.AutoencoderRecipe(name="t-ae", title="tiny AE", notebook="01", used_in=("08",),
                                  sizes=(784, 8, 2), subset_epochs=1),
        recipes.DenoisingRecipe(name="t-dae", title="tiny DAE", notebook="02", hidden=8,
                                noise="masking", level=0.3, subset_epochs=1),
        recipes.SparseRecipe(name="t-sae", title="tiny sparse AE", notebook="03", hidden=8,
                             method="kl", weight=0.003, rho=0.05, subset_epochs=1),
        recipes.ContractiveRecipe(name="t-cae", title="tiny CAE", notebook="04", hidden=8,
                                  lam=0.1, subset_epochs=1),
        stage1, stage2,
        recipes.ProbeTableRecipe(name="t-probes", title="probes", notebook="05", stack=stage2),
        recipes.LabelBudgetRecipe(name="t-budgets", title="budgets", notebook="05", stack=stage2,
                                  budgets=(1, 2), seeds=(0,), steps=2),
        recipes.ClassifierRecipe(name="t-judge", title="judge", notebook="06", sizes=(784, 8, 10),
                                 subset_epochs=1),
        recipes.VAERecipe(name="t-vae", title="tiny VAE", notebook="06", sizes=(784, 8, 2),
                          subset_epochs=1),
        recipes.ConditionalVAERecipe(name="t-cvae", title="tiny CVAE", notebook="09",
                                     sizes=(784, 8, 2), subset_epochs=1),
    ]


def test_make_models_trains_everything_once_then_loads_it(cache_dir, tiny_data, monkeypatch, capsys):
    import helpers.data
    monkeypatch.setattr(recipes, "ALL", tiny_recipes())
    monkeypatch.setattr(helpers.data, "load_data", lambda: tiny_data)
    assert recipes.main() == 0
    first = capsys.readouterr().out
    assert "11 models and results: 0 loaded, 11 trained or computed" in first
    assert re.search(r"^probes\s+t-probes\s+05\s+computed\s", first, re.M)
    assert re.search(r"^stack 2\s+t-stack-stage2\s+05\s+trained\s", first, re.M)
    assert recipes.main() == 0
    second = capsys.readouterr().out
    assert "11 models and results: 11 loaded, 0 trained or computed" in second
    row = next(line for line in second.splitlines() if line.startswith("tiny AE"))
    assert re.match(r"tiny AE\s+t-ae\s+01, 08\s+loaded\s+\d+\.\d$", row)
    assert len(list(cache_dir.glob("*.pt"))) == 11


def test_prepare_reports_each_recipe_not_what_it_needed(cache_dir, tiny_data):
    stage2, probes = tiny_recipes()[5:7]
    rows = recipes.prepare(tiny_data, [probes], progress=False)      # trains stages 1, 2 first
    assert [(r["recipe"], r["event"].action, r["event"].what) for r in rows] == [(probes, "trained", "result")]
    rows = recipes.prepare(tiny_data, [stage2, probes], progress=False)
    assert [(r["event"].name, r["event"].action) for r in rows] == [("t-stack-stage2", "loaded"), ("t-probes", "loaded")]


@pytest.mark.parametrize("recipe", [r for r in recipes.ALL if r.subset_epochs], ids=lambda r: r.title)
def test_each_model_recipe_has_positive_settings(recipe):
    assert recipe.epochs() >= 1 and recipe.lr > 0 and recipe.batch_size >= 1


def test_every_model_trains_through_one_path():
    """cache.train_or_load(recipe, data) is the one way a model of the course is made: no
    per-kind trained_* function and no per-kind load method that repeats its shape."""
    for path in HELPERS.rglob("*.py"):
        assert "def trained_" not in path.read_text(), f"{path.name} has a trained_* function"
    assert not any(hasattr(type(r), "load") for r in recipes.ALL)
    for recipe in recipes.ALL:
        kind = type(recipe)
        if recipe.makes_result:
            assert kind.compute is not recipes.Recipe.__dict__.get("compute")
        else:
            assert kind.build is not recipes.Recipe.build and kind.loss_fn is not recipes.Recipe.loss_fn
