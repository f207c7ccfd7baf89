"""The exercise checkers (helpers.checks), and every exercise of the series as its check cell
calls them: a wrong answer of each kind (off by a factor, wrong shape, wrong sign) is diagnosed
without the expected value appearing in the message, the hint grows stronger on the second wrong
try, and the right answer gets ✓.

The check cells are read from the notebooks (the exercise's name and the literal keyword
arguments: hints, mistakes, tolerances). Their expected values need trained models and data,
so the table EXPECTED below gives, per exercise, values of the same kind and shape (computed
with the course's own helpers where that is cheap)."""
import ast
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import checks, contractive, corruption, divergences, gaussians, sparsity, stacked
from helpers.losses import squared_error_per_image

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("0*.ipynb"))
CHECKERS = ("check_value", "check_function", "check_true")


@pytest.fixture(autouse=True)
def fresh_counts():
    checks._wrong_tries.clear()
    yield
    checks._wrong_tries.clear()


# --- the checkers themselves --------------------------------------------------------------

def test_check_value_diagnoses_without_the_expected_value(capsys):
    assert checks.check_value("a", 2.0, 2.0)
    assert not checks.check_value("b", [1.0, 2.0], [1.0, 2.5])
    assert not checks.check_value("c", ..., 1.0)
    assert not checks.check_value("d", np.zeros(3), np.zeros(4))
    assert not checks.check_value("e", float("nan"), 1.0)
    assert not checks.check_value("f", [1.0, ...], [1.0, 2.0])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✓ a: matches"
    assert out[1] == "✗ b: 1 of 2 values is wrong; the first, at index (1,), is too small by about 20%"
    assert "not answered yet" in out[2] and "shape (3,), where (4,) is asked" in out[3]
    assert "NaN" in out[4] and "not answered yet" in out[5]


@pytest.mark.parametrize("answer, expected, says", [
    (-3.0, 3.0, "the right size but the wrong sign"),
    (3.75, 3.0, "too large by about 25%"),
    (2.4, 3.0, "too small by about 20%"),
    (3.001, 3.0, "slightly too large (less than 1% off"),
    (9.0, 3.0, "about 3 times too large"),
    (3.0 * 784, 3.0, "about 800 times too large"),
    (-6.0, 3.0, "the wrong sign, and about 2 times too large in size"),
    ([[1.0, 3.0], [2.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]], "the transpose of the answer"),
    ([2.0, 4.0, 6.0], [1.0, 2.0, 3.0], "about 2 times too large"),
    (np.zeros((3, 5)), np.zeros(3), "shape (3, 5), where (3,) is asked: one axis too many (not summed"),
    (1.0, np.zeros(3), "a single number, where shape (3,) is asked"),
    (np.zeros((2, 3)), np.zeros((3, 2)), "transposed?"),
    (np.zeros(6), np.zeros((3, 2)), "the right number of values, arranged differently"),
    (np.zeros(2), 0.5, "shape (2,), where a single number is asked"),
])
def test_diagnoses(answer, expected, says):
    assert says in checks.diagnose(answer, expected)


def test_a_named_mistake_is_named_with_its_factor():
    mistakes = {1 / 784: "did you average over the pixels where a sum was asked?"}
    said = checks.diagnose(np.full(3, 0.5), np.full(3, 0.5 * 784), mistakes=mistakes)
    assert said == "about 784 times too small: did you average over the pixels where a sum was asked?"


def test_hints_grow_stronger_and_reset_when_right(capsys):
    hints = ("read section 1", "do this and that")
    checks.check_value("x", 1.0, 2.0, hints=hints)
    checks.check_value("x", 1.0, 2.0, hints=hints)
    checks.check_value("x", 1.0, 2.0, hints=hints)
    checks.check_value("x", 2.0, 2.0, hints=hints)
    checks.check_value("x", 1.0, 2.0, hints=hints)
    checks.check_value("x", ..., 2.0, hints=hints)              # not answered: not a wrong try
    out = capsys.readouterr().out.split("✗ ")
    assert "Hint: read section 1" in out[1]
    assert "Stronger hint (wrong try 2): do this and that" in out[2]
    assert "Stronger hint (wrong try 3): do this and that" in out[3] and "✓ x: matches" in out[3]
    assert "Hint: read section 1" in out[4]                     # counting starts again after ✓
    assert "Hint" not in out[5]


def test_check_function_reports_errors_and_unfinished_bodies(capsys):
    inputs = [(torch.ones(2),), (torch.arange(3.0),)]
    assert checks.check_function("double", lambda x: 2 * x, lambda x: x * 2, inputs)
    assert not checks.check_function("wrong", lambda x: 3 * x, lambda x: x * 2, inputs)
    assert not checks.check_function("raises", lambda x: 1 / 0, lambda x: x, inputs)
    assert not checks.check_function("unfinished", lambda x: None, lambda x: x, inputs)
    out = capsys.readouterr().out
    assert "✓ double: all 2 test inputs match" in out
    assert "✗ wrong: on test input 1 of 2, too large by about 50%" in out
    assert "raised ZeroDivisionError on test input 1 of 2" in out and "returned nothing yet" in out


def test_check_result_shows_nothing_as_a_cell_value():
    result = checks.check_true("x", True, "never")
    assert bool(result) and result._ipython_display_() is None


# --- every exercise of the series ---------------------------------------------------------

def exercise_checks() -> dict:
    """{exercise name: (notebook, checker, literal keyword arguments)} for every check call in
    the exercise cells of the notebooks (hidden solution cells left out)."""
    found = {}
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        start = next(i for i, c in enumerate(cells)
                     if c["cell_type"] == "markdown" and "## Exercises" in "".join(c["source"]))
        for c in cells[start:]:
            if c["cell_type"] != "code" or c["metadata"].get("jupyter", {}).get("source_hidden"):
                continue
            for node in ast.walk(ast.parse("".join(c["source"]))):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in CHECKERS:
                    name = node.args[0].value
                    kwargs = {k.arg: eval(compile(ast.Expression(k.value), "<kw>", "eval"), {"np": np})
                              for k in node.keywords if k.arg in ("hints", "mistakes", "rtol", "atol")}
                    assert name not in found, f"two exercises are called {name!r}"
                    found[name] = (path.name[:2], node.func.attr, kwargs)
    return found


def _g(seed):
    return torch.Generator().manual_seed(seed)


def _stack_features():
    torch.manual_seed(0)
    s = stacked.StackedAutoencoder([784, 256, 128, 64, 32])
    with torch.no_grad():
        return [s.encode(torch.rand(5, 784, generator=_g(1)), k) for k in (1, 3)]


def _log_px():
    model = gaussians.LinearGaussianModel.random(d=5, k=2, s2=0.5, seed=0)
    return model.log_px(model.sample(1, seed=1))[0].item()


P_DIE, Q_DIE = np.full(6, 1 / 6), np.array([0.5, 0.1, 0.1, 0.1, 0.1, 0.1])
H_EX, W_EX = torch.sigmoid(torch.randn(5, 16, generator=_g(1))), torch.randn(16, 30, generator=_g(2))
A_03 = torch.tensor([[0.9, 0.1], [0.0, 0.1], [0.0, 0.1]])

# Per exercise: its expected results, one per test input (a check_value exercise has one).
# "freeze" is a yes/no check: its results are booleans.
EXPECTED = {
    "compression ratio": lambda: [784 / 2],
    "mse_summed_per_image": lambda: [squared_error_per_image(torch.rand(3, 784, generator=_g(0)),
                                                   torch.rand(3, 784, generator=_g(1)))],
    "pca_encode": lambda: [torch.randn(10, 2, generator=_g(0)) * 3],
    "my_masking": lambda: [corruption.masking_noise(torch.rand(5, 784, generator=_g(0)), 0.3, _g(0))],
    "value of a kept pixel": lambda: [0.6 / 0.8],
    "probability that a blank pixel changes": lambda: [0.2],
    "my_bernoulli_kl": lambda: [divergences.bernoulli_kl(0.05, torch.tensor([0.01, 0.05, 0.3, 0.9])),
                                divergences.bernoulli_kl(0.2, torch.linspace(0.05, 0.95, 7))],
    "active ratios": lambda: [sparsity.active_ratio(A_03)],
    "penalty": lambda: [sparsity.kl_sparsity_penalty(A_03, 0.1)],
    "KL(p||q), KL(q||p), D_B": lambda: [[divergences.kl_discrete(P_DIE, Q_DIE), divergences.kl_discrete(Q_DIE, P_DIE),
                                         divergences.bhattacharyya_discrete(P_DIE, Q_DIE)]],
    "Jacobian of q at (2, 1)": lambda: [[[1.0, 2.0], [1.0, 3.0]]],
    "jacobian_norm_sq": lambda: [contractive.sigmoid_jacobian_norm_sq(H_EX, W_EX)],
    "tanh_jacobian_norm_sq": lambda: [(1 - torch.tanh(H_EX) ** 2) ** 2 @ (W_EX ** 2).sum(dim=1)],
    "trainable numbers at stage 3": lambda: [128 * 64 + 64 + 64 * 128 + 128],
    "level_features": _stack_features,
    "freeze": lambda: [True],
    "kl_per_image": lambda: [divergences.kl_to_standard_normal(torch.randn(4, 2, generator=_g(3)),
                                                       torch.randn(4, 2, generator=_g(4)))],
    "reparameterize": lambda: [torch.tensor([1.0, 1.0 - math.e]),
                               torch.randn(5, 3, generator=_g(5))],
    "moment_matched": lambda: [gaussians.moment_match(np.array([-1.0, 2.0, 5.0]), np.array([0.5, 1.0, 2.0]),
                                                      np.array([0.2, 0.3, 0.5]))],
    "log_mean_exp": lambda: [torch.logsumexp(torch.tensor([-500.0, -501.0, -499.0, -700.0]), 0) - math.log(4)],
    "kl_normal_1d": lambda: [math.log(1 / 0.5) + (0.25 + 1.5 ** 2) / 2 - 0.5,
                             math.log(0.3 / 2.0) + (4.0 + 1.0) / (2 * 0.09) - 0.5],
    "log-weights at the exact posterior": lambda: [torch.full((5,), _log_px(), dtype=torch.float64)],
    "one_nn_accuracy": lambda: [0.437, 0.918],
    "share of digits the DAE repairs better": lambda: [0.873],
    "5-NN accuracy of PCA-20 codes": lambda: [0.934],
}


def test_every_exercise_is_in_the_table_and_declares_two_hints():
    found = exercise_checks()
    assert len(found) >= 24, f"only {len(found)} exercise checks found"
    assert set(found) == set(EXPECTED), "each exercise of the notebooks needs a row in EXPECTED"
    for name, (notebook, _, kwargs) in found.items():
        hints = kwargs.get("hints", ())
        assert len(hints) == 2 and all(h.strip() for h in hints) and hints[0] != hints[1], \
            f"{notebook} {name!r}: give two different hints, a first one and a stronger one"


def leaked(message: str, expected: list) -> list:
    """The expected numbers that appear in `message`, in any rounding: a number in the message
    is a leak if an expected value rounds to it (or, followed by %, to a hundredth of it) and it
    has two significant digits or more, or equals the value. Single-digit integers ("section 2",
    "test input 1") are too common to judge one by one: for those only the whole array, written
    as a list, counts."""
    values = [float(v) for e in expected for v in np.ravel(checks._as_array(e))]
    found = []
    for match in re.finditer(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?(%?)", message):
        text = match.group(0).rstrip("%").replace(",", "")
        token = float(text)
        scale = 100 if match.group(1) else 1
        decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 0
        digits = len(text.replace("-", "").replace(".", "").lstrip("0"))
        for v in values:
            if v == 0 or (digits < 2 and "." not in text):
                continue
            rounds_to_it = abs(token - scale * v) <= 0.5 * 10 ** -decimals * (1 + 1e-9)
            if rounds_to_it and (digits >= 2 or math.isclose(token, scale * v, rel_tol=1e-6)):
                found.append((text + match.group(1), v))
    for e in expected:
        listed = np.round(checks._as_array(e), 6).tolist()
        if isinstance(listed, list) and len(listed) > 1:
            for text in (str(listed), str(np.round(checks._as_array(e), 0).astype(int).tolist())):
                if text in message:
                    found.append((text, listed))
    return found


def wrong_answers(expected: list) -> dict:
    """Wrong answers of each kind, one per test input."""
    arrays = [checks._as_array(e) for e in expected]
    return {
        "off by a factor": [1.25 * a for a in arrays],
        "far off by a factor": [7.0 * a for a in arrays],
        "wrong shape": [np.stack([a, a]) for a in arrays],
        "wrong sign": [-a for a in arrays],
    }


def run_check(name, checker, kwargs, answers, expected):
    """Call the exercise's checker the way its check cell does, with `answers` as the learner's."""
    if checker == "check_value":
        return checks.check_value(name, answers[0], expected[0], **kwargs)
    if checker == "check_function":
        inputs = [(i,) for i in range(len(expected))]
        return checks.check_function(name, lambda i: answers[i], lambda i: expected[i], inputs, **kwargs)
    return checks.check_true(name, bool(answers[0]), "it did not hold", **kwargs)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_exercise_diagnoses_wrong_answers_without_giving_the_answer(name, capsys):
    found = exercise_checks()
    notebook, checker, kwargs = found[name]
    expected = EXPECTED[name]()
    cases = {"wrong": [False]} if checker == "check_true" else wrong_answers(expected)
    for kind, answers in cases.items():
        checks._wrong_tries.clear()
        first = run_check(name, checker, kwargs, answers, expected)
        said_first = capsys.readouterr().out
        second = run_check(name, checker, kwargs, answers, expected)
        said_second = capsys.readouterr().out
        assert not first and not second, f"{notebook} {name}: a {kind} answer passed"
        assert said_first.startswith("✗") and said_first != said_second, \
            f"{notebook} {name}: the second wrong try ({kind}) should get a stronger hint"
        for said in (said_first, said_second):
            assert not leaked(said, expected), \
                f"{notebook} {name}, {kind}: the message gives the expected value away: {leaked(said, expected)}\n{said}"
        if kind == "wrong sign" and np.any(np.abs(np.concatenate([np.ravel(checks._as_array(e)) for e in expected])) > 1e-6):
            assert "sign" in said_first, f"{notebook} {name}: a wrong sign should be named\n{said_first}"
        if kind == "wrong shape":
            assert "shape" in said_first, f"{notebook} {name}: a wrong shape should be named\n{said_first}"
    assert run_check(name, checker, kwargs, expected, expected), f"{notebook} {name}: the right answer failed"
    assert capsys.readouterr().out.startswith("✓")


def test_hidden_solutions_print_nothing_but_their_check():
    for path in NOTEBOOKS:
        for c in json.loads(path.read_text())["cells"]:
            if c["cell_type"] == "code" and c["metadata"].get("jupyter", {}).get("source_hidden"):
                assert "print(" not in "".join(c["source"]), \
                    f"{path.name}: a worked solution should not print its results (they are the answers)"


def test_the_leak_finder_finds_what_the_old_checker_printed():
    assert leaked("off by up to 0.5 at index (1,): got 2, expected 2.5", [[1.0, 2.5]])
    assert leaked("got 0.48, expected 0.75", [0.75]) and leaked("expected 392", [392.0])
    assert leaked("the share is 87%", [0.873]) and leaked("[[1, 2], [1, 3]]", [[[1.0, 2.0], [1.0, 3.0]]])
    assert leaked("log-weight -7.93", [-7.9312]) and leaked("simulated share 0.2", [0.2])
    assert not leaked("too large by about 25% (section 2, test input 1)", [0.116, 392.0])
