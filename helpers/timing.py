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


def compare_timings(functions: dict, rounds: int = 3) -> dict:
    """{name: best wall-clock seconds of one call} for each function, measured in interleaved
    rounds after one warm-up call each."""
    for fn in functions.values():
        fn()
    seconds = interleaved_rounds({name: (lambda fn=fn: seconds_of(fn)) for name, fn in functions.items()},
                                 rounds)
    return {name: min(values) for name, values in seconds.items()}
