"""Exercise checks: each prints ✓ or ✗ and why, and returns a Result that is true or false (so
`assert checks.check_value(...)` works). They never raise because of the learner's answer, so a
notebook with unanswered or half-written exercises still runs from top to bottom.

A check cell in a notebook is one call, `checks.exercise("06.2", reparameterize)`: the exercise's
reference answer, the inputs it is tried on, its two hints and the mistakes it names are kept in
helpers/exercises.py, not in the notebook.

A wrong answer is diagnosed without giving the expected value away: a wrong type (text where a
number is asked), a wrong shape, the right size with the wrong sign, a constant factor off (with
the mistake that factor usually means, if the exercise names one), or simply too large or too
small by about some share. Then a hint: each exercise has two, the first shown after a wrong
try, the second (stronger) from the second wrong try on. Wrong tries are counted per exercise
while the kernel runs, and forgotten once the answer is right.

A function is tried on fresh copies of the test inputs, and the reference on copies of its own,
so an answer that changes its arguments in place (`mu.add_(...)`) is judged by what it returns.
"""
from __future__ import annotations

import copy
import numbers

import numpy as np
import torch

from .tensors import to_numpy

_wrong_tries: dict[str, int] = {}        # exercise name -> wrong tries since its last right answer


def exercise(key: str, answer) -> Result:
    """Check the answer to exercise `key` ("06.2": notebook 06, exercise 2) against its
    reference in helpers/exercises.py: a value, or a function tried on the exercise's inputs."""
    from . import exercises                # the registry imports this module: import on use
    ex = exercises.get(key)
    options = dict(hints=ex.hints, rtol=ex.rtol, atol=ex.atol, mistakes=ex.mistakes)
    if ex.kind == "value":
        return check_value(ex.name, answer, ex.expected(), **options)
    if _unanswered(answer):
        return _say(False, ex.name, "not answered yet: write the function in the exercise cell")
    if not callable(answer):
        return _verdict(ex.name, f"a function is asked, but this is a {type(answer).__name__}", ex.hints)
    if ex.kind == "judge":                 # a yes/no test of what the function does
        try:
            problem = ex.judge(answer)
        except Exception as err:
            problem = f"raised {type(err).__name__}: {err}"
        return _verdict(ex.name, problem, ex.hints, ex.detail)
    fn = ex.adapt(answer) if ex.adapt else answer
    return check_function(ex.name, fn, ex.reference, ex.inputs(), **options)


def check_value(name: str, answer, expected, hints: tuple[str, ...] = (), rtol: float = 1e-4,
                atol: float = 1e-6, mistakes: dict[float, str] | None = None) -> Result:
    """Compare a number or array with the expected one, elementwise within rtol/atol.
    `mistakes` maps a factor (answer / expected) to the mistake that usually causes it,
    e.g. {784: "did you sum over the pixels where a mean was asked?"}."""
    if _unanswered(answer):
        return _say(False, name, "not answered yet: replace the ... in the exercise cell")
    return _verdict(name, diagnose(answer, expected, rtol, atol, mistakes), hints, "matches")


def check_function(name: str, fn, reference, inputs: list, hints: tuple[str, ...] = (),
                   rtol: float = 1e-4, atol: float = 1e-6,
                   mistakes: dict[float, str] | None = None) -> Result:
    """Call the learner's `fn` and the `reference` on each tuple of arguments in `inputs`, each
    on copies of its own, and compare the results; an exception inside `fn` is reported, not
    raised."""
    if _unanswered(fn):
        return _say(False, name, "not answered yet: write the function in the exercise cell")
    if not callable(fn):
        return _verdict(name, f"a function is asked, but this is a {type(fn).__name__}", hints)
    for i, args in enumerate(inputs):
        where = f"on test input {i + 1} of {len(inputs)}"
        want = reference(*_copied(args))
        try:
            got = fn(*_copied(args))
        except Exception as err:
            return _verdict(name, f"raised {type(err).__name__} {where}: {err}", hints)
        if _unanswered(got):
            return _say(False, name, "the function returned nothing yet: finish its body")
        problem = diagnose(got, want, rtol, atol, mistakes)
        if problem:
            return _verdict(name, f"{where}, {problem}", hints)
    return _verdict(name, None, hints, f"all {len(inputs)} test inputs match")


def check_true(name: str, condition: bool, why_if_not: str, detail: str = "",
               hints: tuple[str, ...] = ()) -> Result:
    """A yes/no check, with the reason (and a hint) printed when it fails."""
    return _verdict(name, None if condition else why_if_not, hints, detail)


def diagnose(answer, expected, rtol: float = 1e-4, atol: float = 1e-6,
             mistakes: dict[float, str] | None = None) -> str | None:
    """None if `answer` matches `expected`, else what is wrong, in words that never state the
    expected value."""
    wrong_type = _type_problem(answer)
    if wrong_type:
        return wrong_type
    try:
        got = _as_array(answer)
    except Exception as err:               # e.g. a list of rows of different lengths
        return f"could not read the answer as numbers ({type(err).__name__}: {err})"
    want = _as_array(expected)
    if got.shape != want.shape:
        return _shape_problem(got.shape, want.shape)
    if not np.all(np.isfinite(got)):
        return "the answer contains NaN or infinity (a log of 0, or a division by 0?)"

    def matches(values):
        return np.allclose(values, want, rtol=rtol, atol=atol)
    if matches(got):
        return None
    if got.ndim == 2 and got.shape == got.T.shape and matches(got.T):
        return "this is the transpose of the answer: one row per output, one column per input"
    if matches(-got):
        return "the right size but the wrong sign"
    ratio = _common_ratio(got, want, atol)
    if ratio is not None:
        for factor, mistake in (mistakes or {}).items():
            if np.isclose(ratio, factor, rtol=0.05):
                return f"{_how_far(factor, exact=True)}: {mistake}"
        return _how_far(ratio)
    if got.size == 1:                    # no common ratio for one number: the answer is 0
        return "it should be zero here, but is not"
    wrong = ~np.isclose(got, want, rtol=rtol, atol=atol)
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    g, w = got[first], want[first]
    first_off = _how_far(g / w) if w != 0 else "not zero, where it should be"
    count = f"{int(wrong.sum())} of {got.size} values {'is' if wrong.sum() == 1 else 'are'} wrong"
    return f"{count}; the first, at index {first}, is {first_off}"


def _type_problem(answer) -> str | None:
    """Why `answer` is not a number, an array of numbers or a list of them; None if it is.
    (NumPy would read the text "392" as the number 392: a learner must not be told ✓ for it.)"""
    if isinstance(answer, (list, tuple)):
        return next(filter(None, (_type_problem(part) for part in answer)), None)
    if isinstance(answer, (str, bytes)):
        return f"the answer is text ({answer!r}), where a number is asked: write it without quotes"
    if isinstance(answer, (bool, np.bool_)):
        return f"the answer is {answer} (a yes/no value), where a number is asked"
    if isinstance(answer, torch.Tensor):  # a tensor always holds numbers (or yes/no values)
        return None
    if isinstance(answer, np.ndarray):
        return None if answer.dtype.kind in "biufc" else \
            f"the answer is an array of {answer.dtype}, where numbers are asked"
    if isinstance(answer, numbers.Number):
        return None
    if callable(answer):
        return "the answer is a function, where a number is asked: did you forget to call it?"
    return f"the answer is a {type(answer).__name__}, where a number or an array of numbers is asked"


def _shape_problem(got: tuple, want: tuple) -> str:
    """What a wrong shape usually means. The shape is not the answer, so both are named."""
    if want == ():
        return f"shape {got}, where a single number is asked"
    if got == ():
        return (f"a single number, where shape {want} is asked: did you reduce (sum or average) "
                f"over everything instead of keeping one value per row?")
    if len(got) == len(want) + 1 and any(got[:i] + got[i + 1:] == want for i in range(len(got))):
        return f"shape {got}, where {want} is asked: one axis too many (not summed or averaged over?)"
    if got == want[::-1]:
        return f"shape {got}, where {want} is asked: transposed?"
    if int(np.prod(got)) == int(np.prod(want)):
        return f"shape {got}, where {want} is asked: the right number of values, arranged differently"
    return f"shape {got}, where {want} is asked"


def _common_ratio(got: np.ndarray, want: np.ndarray, atol: float) -> float | None:
    """answer / expected, if it is (nearly) the same for every value, else None."""
    nonzero = np.abs(want) > atol
    if not nonzero.any() or not np.allclose(got[~nonzero], 0, atol=10 * atol):
        return None
    ratios = got[nonzero] / want[nonzero]
    middle = np.median(ratios)
    return float(middle) if np.allclose(ratios, middle, rtol=0.01, atol=1e-9) else None


def _how_far(ratio: float, exact: bool = False) -> str:
    """'too large by about 25%', 'about 3 times too small': rounded (unless `exact`, for a
    factor the exercise names), so it never spells out the expected value."""
    if ratio < 0:
        return f"the wrong sign, and {_how_far(-ratio, exact)} in size"
    if ratio == 0:
        return "zero, where it should not be"
    word = "large" if ratio > 1 else "small"
    times = max(ratio, 1 / ratio)
    if times >= 2:
        if exact:
            size = f"{times:g}"
        else:
            size = f"{round(times * 2) / 2:g}" if times < 10 else f"{float(f'{times:.1g}'):,.0f}"
        return f"about {size} times too {word}"
    share = abs(ratio - 1)
    if share < 0.01:
        return f"slightly too {word} (less than 1% off: rounding, or a small term?)"
    percent = round(100 * share) if share < 0.1 else 5 * round(20 * share)
    return f"too {word} by about {percent}%"


def _verdict(name: str, problem: str | None, hints: tuple[str, ...], detail: str = "") -> Result:
    if problem is None:
        _wrong_tries.pop(name, None)
        return _say(True, name, detail or "right")
    tries = _wrong_tries[name] = _wrong_tries.get(name, 0) + 1
    text = problem
    if hints:
        hint = hints[min(tries, len(hints)) - 1]
        text += f"\n  {'Hint' if tries == 1 else f'Stronger hint (wrong try {tries})'}: {hint}"
    return _say(False, name, text)


def _unanswered(answer) -> bool:
    if answer is None or answer is Ellipsis:
        return True
    return isinstance(answer, (list, tuple)) and any(_unanswered(a) for a in answer)


def _copied(value):
    """A fresh copy of a test input (tensors, arrays, modules, lists of them), so that what one
    call does to its arguments cannot change what the next call gets."""
    if isinstance(value, torch.Tensor):
        fresh = value.detach().clone()
        return fresh.requires_grad_(value.requires_grad) if value.is_leaf else fresh
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(v) for v in value)
    try:
        return copy.deepcopy(value)
    except Exception:                     # something that cannot be copied is passed as it is
        return value


def _as_array(x) -> np.ndarray:
    if isinstance(x, (list, tuple)):
        x = [to_numpy(v) for v in x]
    return np.asarray(to_numpy(x), dtype=np.float64)


class Result:
    """True or false like a bool, but shows nothing as a cell's last value: the printed
    line already said it. `detail` is that line's reason (what a grader's message repeats)."""

    def __init__(self, ok: bool, name: str = "", detail: str = ""):
        self.ok, self.name, self.detail = ok, name, detail

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"Result(ok={self.ok})"

    def __str__(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name}: {self.detail}"

    def _ipython_display_(self) -> None:
        pass


def _say(ok: bool, name: str, detail: str) -> Result:
    result = Result(ok, name, detail)
    print(result)
    return result
