"""Exercise checkers: each prints ✓ or ✗ with what matched and by how much, and returns a
Result that is true or false (so `assert checks.check_value(...)` works). They never raise on a
wrong answer, so a notebook with unanswered exercises still runs."""
from __future__ import annotations

import numpy as np

from .tensors import to_numpy


def check_value(name: str, answer, expected, rtol: float = 1e-4, atol: float = 1e-6) -> Result:
    """Compare a number or array with the expected one, elementwise within rtol/atol."""
    if answer is None or answer is Ellipsis:
        return _say(False, name, "not answered yet: replace the ... in the exercise cell")
    try:
        got, want = _as_array(answer), _as_array(expected)
    except (TypeError, ValueError) as err:
        return _say(False, name, f"could not read the answer as numbers ({err})")
    if got.shape != want.shape:
        return _say(False, name, f"shape {got.shape}, expected {want.shape}")
    if not np.all(np.isfinite(got)):
        return _say(False, name, "the answer contains NaN or infinity")
    diff = np.abs(got - want)
    allowed = atol + rtol * np.abs(want)
    if np.all(diff <= allowed):
        detail = "exact" if diff.max(initial=0) == 0 else f"max difference {diff.max():.2g}"
        return _say(True, name, f"matches ({detail})")
    worst = np.unravel_index(np.argmax(diff - allowed), diff.shape) if diff.ndim else ()
    where = f" at index {tuple(int(i) for i in worst)}" if diff.ndim else ""
    return _say(False, name, f"off by up to {diff.max():.3g}{where}: got "
                             f"{got[worst]:.6g}, expected {want[worst]:.6g} (allowed {allowed.max():.2g})")


def check_function(name: str, fn, reference, inputs: list, rtol: float = 1e-4,
                   atol: float = 1e-6) -> Result:
    """Call the learner's `fn` and the `reference` on each tuple of arguments in `inputs` and
    compare the results; an exception inside `fn` is reported, not raised."""
    if fn is None or fn is Ellipsis:
        return _say(False, name, "not answered yet: write the function in the exercise cell")
    for i, args in enumerate(inputs):
        try:
            got = fn(*args)
        except Exception as err:
            return _say(False, name, f"raised {type(err).__name__}: {err} (on test input {i + 1})")
        if got is None or got is Ellipsis:
            return _say(False, name, "the function returned nothing yet: finish its body")
        if not check_value(f"{name}, test input {i + 1}", got, reference(*args), rtol, atol):
            return Result(False)
    return _say(True, name, f"all {len(inputs)} test inputs match")


def check_true(name: str, condition: bool, why_if_not: str, detail: str = "") -> Result:
    """A yes/no check, with the reason printed when it fails."""
    return _say(bool(condition), name, detail if condition else why_if_not)


def _as_array(x) -> np.ndarray:
    return np.asarray(to_numpy(x), dtype=np.float64)


class Result:
    """True or false like a bool, but shows nothing as a cell's last value: the printed
    line already said it."""

    def __init__(self, ok: bool):
        self.ok = ok

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"Result(ok={self.ok})"

    def _ipython_display_(self) -> None:
        pass


def _say(ok: bool, name: str, detail: str) -> Result:
    print(f"{'✓' if ok else '✗'} {name}: {detail}")
    return Result(ok)
