"""Timing code fairly on a shared machine: calls interleaved in rounds, after a warm-up.

Other programs come and go while we measure. Calling a, b, c, a, b, c, ... instead of
a, a, a, b, b, b, ... spreads a burst of their load over every function measured, and the
first call of a function (allocation, thread start-up) is left out as a warm-up.
"""
from __future__ import annotations

import time


def seconds_of(fn) -> float:
    """Wall-clock seconds of one call fn()."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def interleaved_rounds(functions: dict, rounds: int) -> dict:
    """{name: [what fn() returned in each round]}, calling the functions in turns,
    a, b, c, a, b, c, ..., `rounds` times."""
    results = {name: [] for name in functions}
    for _ in range(rounds):
        for name, fn in functions.items():
            results[name].append(fn())
    return results


def compare_timings(functions: dict, rounds: int = 3, budget: float = 0.05,
                    cheap_rounds: int = 10) -> dict:
    """{name: best wall-clock seconds of one call} for each function, measured in interleaved
    rounds after one warm-up call each. A cheap function (one that takes less than `budget`)
    gets, in each round, one untimed call and then several timed ones (about `budget` seconds'
    worth, at most 50), and `cheap_rounds` more rounds among the cheap ones only: a call of a
    few milliseconds is easily disturbed, by other programs or by the memory an expensive
    function before it has just freed; the fastest of many calls is not."""
    repeats = {}
    for name, fn in functions.items():
        repeats[name] = int(min(50, max(1, budget / max(seconds_of(fn), 1e-6))))
    cheap = [name for name in functions if repeats[name] > 1]
    best = {name: float("inf") for name in functions}
    schedule = [list(functions)] * rounds + [cheap] * cheap_rounds
    for names in schedule:
        for name in names:
            fn = functions[name]
            if repeats[name] > 1:
                fn()                                   # untimed: let it settle first
            for _ in range(repeats[name]):
                best[name] = min(best[name], seconds_of(fn))
    return best
