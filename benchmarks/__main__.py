"""Run every benchmarks/bench_*.py module's main(), in name order; `python -m benchmarks NAME`
runs only the modules whose name contains NAME."""
import importlib
import pkgutil
import sys

import benchmarks
from helpers.timing import seconds_of


def main(selected: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)
                   if m.name.startswith("bench_"))
    names = [n for n in names if not selected or any(s in n for s in selected)]
    if not names:
        print("No benchmarks to run yet (add benchmarks/bench_<name>.py with a main()).")
        return 0
    for name in names:
        print(f"== {name}")
        seconds = seconds_of(importlib.import_module(f"benchmarks.{name}").main)
        print(f"== {name} took {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
