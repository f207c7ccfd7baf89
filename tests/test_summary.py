"""helpers.series (the measures of notebook 08) and the links of notebook 08."""
import ast
import json
import re
from pathlib import Path

import pytest
import torch

from helpers import series
from helpers.models import mlp

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SUMMARY = NOTEBOOKS / "08_summary.ipynb"


def identity_model(prior=None):
    """A 'model' whose code is the image itself: every measure has a known value."""
    return series.SeriesModel("identity", "00", "copies", 784, lambda x: x.clone(), lambda z: z.clone(), prior)


def test_identity_reconstructs_exactly_and_masking_costs_the_masked_pixels(tiny_data):
    x = tiny_data.x_test
    model = identity_model()
    assert series.reconstruction_error(model, x) == 0
    # the identity gives back the damaged image: its error is the mean of x² over the masked pixels
    keep = torch.rand(x.shape, generator=torch.Generator().manual_seed(1)) >= 0.3
    expected = ((x * ~keep) ** 2).mean().item()
    assert series.masked_error(model, x) == pytest.approx(expected, rel=1e-6)
    assert 0.2 < (~keep).float().mean() < 0.4


def test_relative_sensitivity_is_one_for_the_identity_and_free_of_the_code_scale(tiny_data):
    x = tiny_data.x_test
    assert series.relative_sensitivity(identity_model(), x) == pytest.approx(1.0, rel=1e-5)
    torch.manual_seed(0)
    layer = mlp([784, 16], activation=None, out_activation="sigmoid").eval()
    small = series.SeriesModel("m", "00", "", 16, layer, None)
    scaled = series.SeriesModel("m x100", "00", "", 16, lambda v: 100 * layer(v), None)
    with torch.no_grad():
        assert series.relative_sensitivity(scaled, x) == pytest.approx(series.relative_sensitivity(small, x), rel=1e-4)
    # a code that ignores the input entirely does not move at all, for noise or for data
    constant = series.SeriesModel("c", "00", "", 3, lambda v: v[:, :3] * 0 + 1 + v.sum(1, keepdim=True) * 0, None)
    with pytest.raises(ValueError, match="same for every digit"):
        series.relative_sensitivity(constant, x)


def test_knn_accuracy_on_codes_that_are_the_labels(tiny_data):
    as_label = series.SeriesModel("oracle", "00", "", 1, None, None)
    labels = {id(tiny_data.x_train): tiny_data.y_train, id(tiny_data.x_test): tiny_data.y_test}
    as_label.encode = lambda x: labels[id(x)][:, None].float()
    assert series.knn_code_accuracy(as_label, tiny_data) == 1.0
    shuffled = series.SeriesModel("noise", "00", "", 2, lambda x: torch.rand(len(x), 2), None)
    assert series.knn_code_accuracy(shuffled, tiny_data) < 0.5


def test_near_zero_share():
    model = series.SeriesModel("fixed", "00", "", 4, lambda x: x, None)
    codes = torch.tensor([[0.0, 0.0, 0.0, 1.0]] * 10)        # three of four values are zero
    assert series.near_zero_share(model, codes) == pytest.approx(0.75)


def test_random_codes_follow_the_prior_or_the_fitted_gaussian():
    g = torch.Generator().manual_seed(0)
    codes = torch.randn(5000, 2, generator=g) * torch.tensor([3.0, 0.5]) + torch.tensor([10.0, -2.0])
    fitted = series.random_codes(series.SeriesModel("ae", "00", "", 2, None, None), codes, 20000)
    assert torch.allclose(fitted.mean(0), torch.tensor([10.0, -2.0]), atol=0.1)
    assert torch.allclose(fitted.std(0), torch.tensor([3.0, 0.5]), rtol=0.05)
    prior = series.random_codes(series.SeriesModel("vae", "00", "", 2, None, None, "N(0, I)"), codes, 20000)
    assert torch.allclose(prior.mean(0), torch.zeros(2), atol=0.05)
    assert torch.allclose(prior.std(0), torch.ones(2), rtol=0.05)
    # a code unit that never moves (zero variance) must not break the Cholesky factor
    stuck = torch.cat([codes, torch.full((5000, 1), 0.5)], dim=1)
    samples = series.random_codes(series.SeriesModel("ae", "00", "", 3, None, None), stuck, 100)
    assert torch.isfinite(samples).all()


def test_sample_quality_counts_classes_and_confidence():
    class Judge(torch.nn.Module):                 # says "class 3" for every image, very sure
        def __init__(self):
            super().__init__()
            self.bias = torch.nn.Parameter(torch.zeros(10))

        def forward(self, x):
            out = torch.zeros(len(x), 10) + self.bias
            out[:, 3] = 20.0
            return out
    model = series.SeriesModel("m", "00", "", 2, None, lambda z: torch.zeros(len(z), 784), "N(0, I)")
    quality = series.sample_quality(model, Judge(), torch.zeros(10, 2), n=100)
    assert quality["classes"] == 1
    assert quality["confidence"] == pytest.approx(1.0, abs=1e-6)
    assert quality["samples"].shape == (100, 784)


# --- notebook 08's links lead somewhere ----------------------------------------------------
# (That 08 loads the very models 01-07 trained, and trains none, is checked by the re-run test
# in test_reliability.py, which runs all eight notebooks in order.)

def notebook_text(path: Path, kind: str) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == kind)


def heading_ids(path: Path) -> set:
    """The ids JupyterLab gives a notebook's markdown headings: the text, spaces made '-'."""
    ids = set()
    for line in notebook_text(path, "markdown").splitlines():
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            ids.add(match.group(1).strip().replace(" ", "-"))
    return ids


LINK = re.compile(r'\]\(((\d\d_[a-z_]+\.ipynb)#([^)\s]+))(?: "([^"]*)")?\)')   # [text](nb#anchor "title")


def test_every_link_of_the_summary_opens_an_existing_section():
    links = [m.groups()[:3] for m in LINK.finditer(notebook_text(SUMMARY, "markdown"))]
    assert len(links) >= 9, "each take-home message should link to a section of the series"
    for whole, notebook, anchor in links:
        # JupyterLab 4.6 looks the fragment up still percent-encoded, so "·" or "ρ" in it never matches
        assert anchor.isascii(), f"{whole}: JupyterLab cannot scroll to a heading whose id is not ASCII"
        target = NOTEBOOKS / notebook
        assert target.exists(), f"{whole}: no notebook {notebook}"
        assert anchor in heading_ids(target), f"{whole}: {notebook} has no heading with id {anchor!r}"
    assert {notebook for _, notebook, _ in links} >= {p.name for p in NOTEBOOKS.glob("0[1-7]_*.ipynb")}, \
        "the take-home messages should lead into every notebook of the series"


def test_every_section_link_in_the_series_leads_to_a_heading():
    """Forward and backward links between the notebooks ("see [07 § 6](07_...#6.-The-ELBO...)")
    and within one ("[section 8](#8.-...)") name a heading that exists, with an ASCII id."""
    for path in sorted(NOTEBOOKS.glob("0*.ipynb")):
        text = notebook_text(path, "markdown")
        links = [(m.group(1), m.group(2) or path.name, m.group(3))
                 for m in re.finditer(r"\]\(((\d\d_[a-z_]+\.ipynb)?#([^)\s]+))", text)]
        for whole, notebook, anchor in links:
            assert anchor.isascii(), f"{path.name}: {whole}: JupyterLab cannot scroll to a non-ASCII id"
            assert anchor in heading_ids(NOTEBOOKS / notebook), f"{path.name}: {whole}: no such heading"


def section_asserts(path: Path, anchor: str) -> list[str]:
    """The source of every `assert` statement in the code cells under the heading whose id is
    `anchor`, down to the next heading of the same or a higher level."""
    cells = json.loads(path.read_text())["cells"]
    headings, found = {}, []                     # level -> id of the heading we are under
    for c in cells:
        source = "".join(c["source"])
        if c["cell_type"] == "markdown":
            for line in source.splitlines():
                match = re.match(r"(#{1,6}) (.+)", line)
                if match:
                    level = len(match.group(1))
                    headings = {k: v for k, v in headings.items() if k < level}
                    headings[level] = match.group(2).strip().replace(" ", "-")
        elif anchor in headings.values():
            found += [ast.get_source_segment(source, node) for node in ast.walk(ast.parse(source))
                      if isinstance(node, ast.Assert)]
    return found


def test_every_take_home_link_leads_to_an_assert_of_its_claim():
    """Each take-home link names, in its title, what the linked section asserts
    ("checked by an assert on spread_big"); that section must hold such an assert."""
    links = list(LINK.finditer(notebook_text(SUMMARY, "markdown")))
    assert len(links) >= 9
    for link in links:
        whole, notebook, anchor, title = link.groups()
        named = re.fullmatch(r"checked by an assert on (\S+)", title or "")
        assert named, f"{whole}: give the link a title naming what the section asserts, got {title!r}"
        asserts = section_asserts(NOTEBOOKS / notebook, anchor)
        assert any(named.group(1) in a for a in asserts), \
            f"{whole}: no assert on {named.group(1)} in that section (its asserts: {asserts})"


# --- the model comparison widget ----------------------------------------------------------

@pytest.fixture
def two_series_models():
    torch.manual_seed(0)
    a = mlp([784, 784], activation=None, out_activation="sigmoid").eval()
    with torch.no_grad():
        return [identity_model(),
                series.SeriesModel("squash", "00", "", 784, lambda x: a(x).detach(), lambda z: z)]


def test_model_comparison_follows_its_controls(two_series_models, tiny_data):
    from helpers import widgets
    x = tiny_data.x_test[:5]
    samples = {"identity": torch.zeros(5, 784), "squash": torch.ones(5, 784)}
    comparison = widgets.ModelComparison(two_series_models, x, samples, n=5, level=0.0)
    assert comparison.last["errors"] == {"masked": 0.0, "A": 0.0, "B": comparison.last["errors"]["B"]}
    first_png = comparison.picture.value
    assert first_png[:4] == b"\x89PNG"
    comparison.level.value = 0.5                       # the identity copies the damage it is given
    masked = series.corruption.masking_noise(x, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(comparison.last["A"], masked) and comparison.picture.value != first_png
    assert comparison.last["errors"]["A"] == pytest.approx(((masked - x) ** 2).mean().item())
    before = comparison.picture.value
    comparison.first.value = "squash"                  # model A changes: row A and A's samples change
    assert comparison.picture.value != before
    assert torch.equal(comparison.last["A"], comparison.last["B"])


def test_model_comparison_rejects_nonsense(two_series_models, tiny_data):
    from helpers import widgets
    x = tiny_data.x_test[:4]
    samples = {"identity": torch.zeros(4, 784), "squash": torch.ones(4, 784)}
    comparison = widgets.ModelComparison(two_series_models, x, samples, n=4)
    with pytest.raises(ValueError, match="between 0 and 1"):
        comparison.show("identity", "squash", float("nan"))
    for bad in ("VAE, 3-D", ["squash"], {}, None):
        with pytest.raises(ValueError, match=r"unknown model .*; choose one of \['identity', 'squash'\]"):
            comparison.show("identity", bad, 0.2)
    with pytest.raises(ValueError, match="samples"):
        widgets.ModelComparison(two_series_models, x, {"identity": samples["identity"]}, n=4)
    with pytest.raises(ValueError, match="shape"):
        widgets.ModelComparison(two_series_models, torch.zeros(4, 10), samples)
    with pytest.raises(ValueError, match="two models"):
        widgets.ModelComparison(two_series_models[:1], x, samples)
