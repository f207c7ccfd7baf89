"""Speed and memory benchmarks of the course: `python -m benchmarks` runs them all.

Each benchmark is a module `benchmarks/bench_*.py` with a `main()` that prints its figures.
Targets live here, not in timed tests: a test's pass or fail should not depend on how busy the
machine is.
"""
