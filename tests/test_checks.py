"""The exercise checkers (helpers.checks) and the exercise registry (helpers.exercises), as the
notebooks' check cells call them: every check cell names a registered exercise; a wrong answer
of each kind (off by a factor, wrong shape, wrong sign) is diagnosed without the expected value
appearing in the message, the hint grows stronger on the second wrong try, and the reference
answer gets ✓. An answer that changes its arguments in place is judged by what it returns, an
answer that raises or is not a number gets ✗ and why, never a traceback (issue 24, item 8)."""
import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from helpers import checks, exercises
from tools import assignments

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("0*.ipynb"))
NEEDS_MODELS = {"08.2"}          # its reference loads two trained models of the series


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


# --- what issue 24, item 8 found ----------------------------------------------------------

def test_an_in_place_answer_is_judged_by_what_it_returns(capsys):
    """The reference used to run on the arguments the learner's function had already changed,
    so a right answer written with mu.add_(...) got ✗."""
    in_place = lambda mu, logvar, eps: mu.add_(torch.exp(0.5 * logvar) * eps)
    inputs = [(torch.tensor([0.0, 1.0]), torch.tensor([0.0, 2.0]), torch.tensor([1.0, -1.0]))]
    reference = lambda mu, logvar, eps: mu + torch.exp(0.5 * logvar) * eps
    assert checks.check_function("reparameterize", in_place, reference, inputs)
    assert inputs[0][0].tolist() == [0.0, 1.0], "the test inputs themselves must not change"
    assert checks.exercise("06.2", in_place)
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize("answer, says", [
    ("392", "text ('392'), where a number is asked"),
    (["392"], "text ('392')"),
    (True, "a yes/no value"),
    ({"ratio": 392}, "a dict, where a number"),
    (np.array(["392"]), "an array of <U3"),
    (len, "a function, where a number is asked"),
])
def test_an_answer_of_the_wrong_type_is_not_a_number(answer, says, capsys):
    """NumPy reads the text "392" as the number 392: it used to get ✓."""
    assert not checks.exercise("01.1", answer)
    assert says in capsys.readouterr().out


def check_cells() -> list[tuple[str, str, str]]:
    """(notebook, exercise key, source as the student edition has it) of every check cell."""
    found = []
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and (match := assignments.CHECK.search(cell.source)):
                source = assignments.without_regions(cell.source, assignments.HIDDEN_BEGIN,
                                                     assignments.HIDDEN_END)
                found.append((path.name[:2], f"{match.group(1)}.{match.group(2)}", source))
    return found


def test_every_check_cell_is_one_call_to_a_registered_exercise():
    cells = check_cells()
    keys = [key for _, key, _ in cells]
    assert len(keys) == len(set(keys)) == len(exercises.EXERCISES) >= 24
    assert set(keys) == set(exercises.EXERCISES), "each check cell needs an exercise in helpers/exercises.py"
    for notebook, key, source in cells:
        assert key.startswith(notebook), f"{notebook}: a check of another notebook's exercise {key}"
        assert re.fullmatch(r'result = checks\.exercise\("[\w.]+", [^\n]+\)', source.strip()), \
            f"{notebook} {key}: the student's check cell should be one call, not\n{source}"
    for key, ex in exercises.EXERCISES.items():
        assert len(ex.hints) == 2 and all(h.strip() for h in ex.hints) and ex.hints[0] != ex.hints[1], \
            f"{key}: give two different hints, a first one and a stronger one"


@pytest.mark.parametrize("notebook, key, source", [
    pytest.param(*cell, marks=pytest.mark.after_notebooks) if cell[1] in NEEDS_MODELS else cell
    for cell in check_cells()], ids=lambda v: v if len(v) < 6 else "")
def test_a_half_written_answer_gets_a_cross_not_a_traceback(notebook, key, source, capsys):
    """Each check cell, as the student edition has it, run with an answer that raises (a
    half-written function) or with a value that is no number: ✗ and why, nothing raised.
    (Notebook 07's and 05's last check cells used to call the learner's function themselves.)"""
    def half_written(*args):
        return undefined_name                                # noqa: F821
    name = source.split(", ", 1)[1].rstrip().rstrip(")")
    answer = half_written if exercises.get(key).kind != "value" else {"not": "a number"}
    namespace = {"checks": checks}
    if name.startswith("["):                                 # a list of answers: make each one
        namespace.update({n.strip(): answer for n in name.strip("[]").split(",")})
    else:
        namespace[name] = answer
    exec(source, namespace)
    out = capsys.readouterr().out
    assert out.startswith("✗") and not namespace["result"], out
    assert ("raised NameError" in out) if exercises.get(key).kind != "value" else ("a dict" in out)


# --- every exercise of the series ---------------------------------------------------------

def expected_results(ex) -> list:
    """What the exercise's check compares with: one value, or one result per test input."""
    if ex.kind == "value":
        return [ex.expected()]
    if ex.kind == "judge":
        return [True]
    return [ex.reference(*checks._copied(args)) for args in ex.inputs()]


def leaked(message: str, expected: list) -> list:
    """The expected numbers that appear in `message`, in any rounding: a number in the message
    is a leak if an expected value rounds to it (or, followed by %, to a hundredth of it) and it
    has two significant digits or more, or equals the value. Single-digit integers ("section 2",
    "test input 1") are too common to judge one by one: for those only the whole array, written
    as a list, counts."""
    values = [float(v) for e in expected for v in np.ravel(checks._as_array(e))
              if checks._as_array(e).size <= 16]    # in a large array (masked images) any rounded
                                                     # number of the message matches some value
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


def run_check(ex, answers: list):
    """The exercise's check, with `answers` as the learner's (one per test input)."""
    if ex.kind == "value":
        return checks.exercise(ex.key, answers[0])
    if ex.kind == "judge":
        return checks.exercise(ex.key, (lambda module: None) if not answers[0] else
                               (lambda module: [p.requires_grad_(False) for p in module.parameters()]))
    results = iter(answers)                        # the learner's function: one answer per call
    options = dict(hints=ex.hints, rtol=ex.rtol, atol=ex.atol, mistakes=ex.mistakes)
    return checks.check_function(ex.name, lambda *args: next(results), ex.reference, ex.inputs(), **options)


@pytest.mark.parametrize("key", [pytest.param(k, marks=pytest.mark.after_notebooks) if k in NEEDS_MODELS
                                 else k for k in exercises.EXERCISES])
def test_each_exercise_diagnoses_wrong_answers_without_giving_the_answer(key, capsys):
    ex = exercises.get(key)
    expected = expected_results(ex)
    cases = {"wrong": [False]} if ex.kind == "judge" else wrong_answers(expected)
    for kind, answers in cases.items():
        checks._wrong_tries.clear()
        first = run_check(ex, answers)
        said_first = capsys.readouterr().out
        second = run_check(ex, answers)
        said_second = capsys.readouterr().out
        assert not first and not second, f"{key}: a {kind} answer passed"
        assert said_first.startswith("✗") and said_first != said_second, \
            f"{key}: the second wrong try ({kind}) should get a stronger hint"
        for said in (said_first, said_second):
            assert not leaked(said, expected), \
                f"{key}, {kind}: the message gives the expected value away: {leaked(said, expected)}\n{said}"
        if kind == "wrong sign" and np.any(np.abs(np.concatenate([np.ravel(checks._as_array(e)) for e in expected])) > 1e-6):
            assert "sign" in said_first, f"{key}: a wrong sign should be named\n{said_first}"
        if kind == "wrong shape":
            assert "shape" in said_first, f"{key}: a wrong shape should be named\n{said_first}"
    assert run_check(ex, expected), f"{key}: the reference answer failed its own check"
    assert capsys.readouterr().out.startswith("✓")


def test_answer_cells_print_nothing_but_their_check():
    """A worked solution that printed its results would show the answers in the slides' and
    the website's outputs."""
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if assignments.SOLUTION_BEGIN in cell.source:
                assert "print(" not in cell.source, \
                    f"{path.name}: a worked solution should not print its results (they are the answers)"


def test_the_leak_finder_finds_what_the_old_checker_printed():
    assert leaked("off by up to 0.5 at index (1,): got 2, expected 2.5", [[1.0, 2.5]])
    assert leaked("got 0.48, expected 0.75", [0.75]) and leaked("expected 392", [392.0])
    assert leaked("the share is 87%", [0.873]) and leaked("[[1, 2], [1, 3]]", [[[1.0, 2.0], [1.0, 3.0]]])
    assert leaked("log-weight -7.93", [-7.9312]) and leaked("simulated share 0.2", [0.2])
    assert not leaked("too large by about 25% (section 2, test input 1)", [0.116, 392.0])
