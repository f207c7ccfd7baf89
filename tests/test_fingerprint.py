"""Which code trained a model (helpers.fingerprint): the source's syntax tree, not comments,
docstrings or layout; the same under every Python on the machine; a kernel whose code is older
than its files is stopped, not given the new code's key."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import fingerprint, recipes

REPO = Path(__file__).resolve().parents[1]
FINGERPRINT = REPO / "helpers" / "fingerprint.py"

VARIANT = '''
import torch


def loss(x_hat, x, scale=1.0):
    """Squared error, mean over pixels."""
    if scale in {"a", "b", "c"}:
        raise ValueError(scale)
    return scale * ((x - x_hat) ** 2).mean()


class Model(torch.nn.Module):
    """Doubles its input."""

    def forward(self, x):
        return x * 2
'''

EDITS_THAT_KEEP_THE_MODELS = {
    "docstring": ('"""Squared error, mean over pixels."""', '"""The squared error, averaged."""'),
    "class docstring": ('"""Doubles its input."""', '"""Twice x."""'),
    "comment": ("    return scale *", "    # why: a comment\n    return scale *"),
    "line breaks": ("return scale * ((x - x_hat) ** 2).mean()",
                    "return scale * (\n        (x - x_hat) ** 2\n    ).mean()"),
    "annotation": ("def loss(x_hat, x, scale=1.0):", "def loss(x_hat: torch.Tensor, x, scale=1.0):"),
    "other code in the file": ("class Model", "def unrelated():\n    return 3\n\n\nclass Model"),
}
EDITS_THAT_RETRAIN = {
    "loss body": ("((x - x_hat) ** 2).mean()", "(x - x_hat).abs().mean()"),
    "default value": ("scale=1.0", "scale=2.0"),
    "constant": ("{\"a\", \"b\", \"c\"}", "{\"a\", \"b\"}"),
    "method body": ("return x * 2", "return x * 3"),
    "new method": ("    def forward", "    def extra(self):\n        return 1\n\n    def forward"),
}


def load_module(folder, source, name="variant"):
    path = folder / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path


def edited(edit=None) -> str:
    source = VARIANT
    if edit is not None:
        old, new = edit
        assert source.count(old) == 1
        source = source.replace(old, new)
    return source


def variant_fingerprint(tmp_path, edit=None):
    module, _ = load_module(tmp_path, edited(edit))
    return fingerprint.code_fingerprint(module.loss, module.Model)


@pytest.mark.parametrize("edit", list(EDITS_THAT_KEEP_THE_MODELS))
def test_fingerprint_ignores_comments_docstrings_and_layout(edit, tmp_path):
    assert variant_fingerprint(tmp_path, EDITS_THAT_KEEP_THE_MODELS[edit]) == variant_fingerprint(tmp_path)


@pytest.mark.parametrize("edit", list(EDITS_THAT_RETRAIN))
def test_fingerprint_changes_with_the_code(edit, tmp_path):
    assert variant_fingerprint(tmp_path, EDITS_THAT_RETRAIN[edit]) != variant_fingerprint(tmp_path)


def test_a_file_edited_after_import_asks_for_a_restart(tmp_path):
    module, path = load_module(tmp_path, VARIANT)
    fingerprint.code_fingerprint(module.loss, module.Model)
    path.write_text(edited(EDITS_THAT_KEEP_THE_MODELS["comment"]))     # the same code: fine
    fingerprint.code_fingerprint(module.loss, module.Model)
    path.write_text(edited(EDITS_THAT_RETRAIN["method body"]))
    with pytest.raises(RuntimeError, match="restart the kernel"):
        fingerprint.code_fingerprint(module.Model)
    path.write_text(edited(EDITS_THAT_RETRAIN["loss body"]))
    with pytest.raises(RuntimeError, match="variant.py was changed after this kernel imported it"):
        fingerprint.code_fingerprint(module.loss)


def test_a_missing_definition_is_named():
    with pytest.raises(LookupError, match="no_such_thing is not defined"):
        fingerprint.code_fingerprint((str(FINGERPRINT), "no_such_thing"))


def test_fingerprint_is_the_same_in_every_process(tmp_path):
    """String hashes (and so set order) differ between processes; the key must not."""
    (tmp_path / "variant.py").write_text(VARIANT)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import variant; "
            "from helpers import fingerprint, train, models, recipes, vae; "
            "print(fingerprint.code_fingerprint(variant.loss, variant.Model, train.fit, "
            "models.Autoencoder, vae.VAE, recipes.VAERecipe.build, 'helpers.divergences.EPS'))")
    runs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                             text=True, env=dict(os.environ, PYTHONPATH=str(REPO), PYTHONHASHSEED=seed))
            for seed in ("1", "2")]
    outputs = [run.communicate(timeout=300)[0].strip() for run in runs]
    assert outputs[0] and outputs[0] == outputs[1]


# --- the same keys under every Python on the machine ---------------------------------------------

OTHER_PYTHONS = sorted(p for p in Path.home().glob(".pyenv/versions/3.1[0-9]*/bin/python3")
                       if f"{sys.version_info.major}.{sys.version_info.minor}" not in p.parts[-3])

KEYS_ELSEWHERE = r'''
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("fingerprint", sys.argv[1])
fingerprint = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fingerprint)
keys = {}
for name, (config, refs) in json.load(sys.stdin).items():
    config["code"] = fingerprint.code_fingerprint(*(tuple(r) for r in refs))
    keys[name] = fingerprint.config_key(config)
print(json.dumps(keys))
'''


@pytest.mark.skipif(not OTHER_PYTHONS, reason="no other Python 3.10+ under ~/.pyenv/versions")
@pytest.mark.parametrize("python", OTHER_PYTHONS, ids=lambda p: p.parts[-3])
def test_every_recipe_has_the_same_key_under_another_python(python, tiny_data):
    """The whole cache key of every model of the series, computed by another Python from the
    same settings and the same source files (that Python has no torch: the fingerprint needs
    none)."""
    wanted, ours = {}, {}
    for recipe in recipes.ALL:
        config = recipe.key(tiny_data)
        ours[recipe.cache_name + str(recipe.key(tiny_data)["code"])] = fingerprint.config_key(config)
        refs = [(str(path), name) for path, name in map(fingerprint.where, recipe.code_refs())]
        wanted[recipe.cache_name + str(config["code"])] = (dict(config, code=None), refs)
    done = subprocess.run([str(python), "-I", "-c", KEYS_ELSEWHERE, str(FINGERPRINT)],
                          input=json.dumps(wanted), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ours


# --- an edited helper, as after a kernel restart ---------------------------------------------------

KEY_OF_DEEP_AE = ("import json, sys; from helpers import recipes; from helpers.data import ImageData; "
                  "import torch; g = torch.Generator().manual_seed(0); "
                  "d = ImageData(torch.rand(20, 784, generator=g), torch.arange(20) % 10, "
                  "torch.rand(5, 784, generator=g), torch.arange(5) % 10, 'subset', 'random'); "
                  "print(json.dumps(recipes.DEEP_AE_2D.key(d)))")


def test_editing_the_loss_changes_the_key_and_editing_its_docstring_does_not(tmp_path):
    """helpers/losses.py as a learner might edit it, imported afresh (as after a restart)."""
    source = (REPO / "helpers" / "losses.py").read_text()
    body = "    return ((x - x_hat) ** 2).mean()"
    doc = "    \"\"\"Mean squared error, averaged over pixels and over the batch:"
    assert source.count(body) == 1 and source.count(doc) == 1
    versions = {
        "as it is": source,
        "its words": source.replace(doc, "    \"\"\"The MSE (a learner's own words), per pixel and image:")
                           .replace(body, "    # a learner's note\n" + body),
        "another loss": source.replace(body, "    return (x - x_hat).abs().mean()"),
    }
    runs = {}
    for name, text in versions.items():
        copy = tmp_path / name.replace(" ", "-")
        shutil.copytree(REPO / "helpers", copy / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
        (copy / "helpers" / "losses.py").write_text(text)
        runs[name] = subprocess.Popen([sys.executable, "-c", KEY_OF_DEEP_AE], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, cwd=copy,
                                      env=dict(os.environ, PYTHONPATH=str(copy)))
    keys = {}
    for name, run in runs.items():
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        keys[name] = json.loads(out)
    assert keys["its words"] == keys["as it is"], "a docstring or a comment must not retrain the model"
    assert keys["another loss"]["code"] != keys["as it is"]["code"], "another loss trains another model"
    assert {k: v for k, v in keys["another loss"].items() if k != "code"} == \
        {k: v for k, v in keys["as it is"].items() if k != "code"}
