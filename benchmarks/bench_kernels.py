"""A class on one machine: N kernels at once, each executing notebook 01 with every model in a
shared cache that it reads and never writes (as on `make hub`), with the thread cap of
helpers/threads.py and without it. Then every notebook alone, with its kernel's peak memory and
the cells that raise it.

    python -m benchmarks kernels      BENCH_KERNELS=1,2,4,8 sets N (default 1, 2, 4, and 2x the
                                      CPUs where a machine has more than 2; 0: none);
                                      BENCH_NOTEBOOKS=01,07 limits the second part (none: skip it)

The shared folder is the model cache (AE_CACHE_DIR, or data/cache), filled first: by a run of
notebook 01 for the first part, by `make models` for the second. With the cap each kernel gets
the share a hub would give it, CPU_LIMIT = CPUs / N (at least 1 thread); without it, OMP_NUM_THREADS = the CPUs, which is what torch takes on its own. Each
kernel has an empty cache of its own (AE_CACHE_DIR) behind the shared one (AE_SHARED_CACHE_DIR):
a file in it afterwards means something was trained, and is reported.

Targets: with the cap, 4 kernels on 2 cores each finish within 2.5x the time of one alone; no
notebook's kernel above 1.5 GB (1,430 MiB) at its peak.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

from benchmarks.bench_series import NOTEBOOKS, PeakMemory

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks/01_vanilla_autoencoder.ipynb"
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
LIMIT_MIB = 1.5e9 / 2**20
CAP_VARIABLES = ("CPU_LIMIT", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def execute_by_cell(path: Path) -> dict:
    """Run one notebook in a fresh kernel (this process's environment); returns its wall
    seconds, its kernel's peak memory in MiB, and each cell's peak with the memory it started at."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    cells = []
    with client.setup_kernel():
        kernel = psutil.Process(client.km.provisioner.process.pid)
        for index, cell in enumerate(nb.cells):
            before = kernel.memory_info().rss
            with PeakMemory(kernel.pid, every=0.05) as memory:
                client.execute_cell(cell, index)
            cells.append({"cell": index, "before": before / 2**20, "peak": max(memory.peak, before) / 2**20,
                          "first line": cell.source.splitlines()[0][:70] if cell.source else ""})
        seconds = time.perf_counter() - started
        probe = nbformat.v4.new_code_cell("import torch; print(torch.get_num_threads())")
        nb.cells.append(probe)
        client.execute_cell(probe, len(nb.cells) - 1)
    return {"seconds": seconds, "peak": max(c["peak"] for c in cells), "cells": cells,
            "torch threads": int(probe.outputs[0]["text"])}


def run_at_once(n: int, capped: bool, shared: Path) -> list[dict]:
    """n kernels executing notebook 01 at the same time, each from a process of its own."""
    base = {k: v for k, v in os.environ.items() if k not in CAP_VARIABLES}
    share = {"CPU_LIMIT": f"{CPUS / n:g}"} if capped else {"OMP_NUM_THREADS": str(CPUS)}
    runs = []
    with tempfile.TemporaryDirectory(prefix="ae-bench-kernels-") as folder:
        for i in range(n):
            env = {**base, **share, "AE_SHARED_CACHE_DIR": str(shared),
                   "AE_CACHE_DIR": str(Path(folder, f"own-{i}"))}
            runs.append(subprocess.Popen([sys.executable, "-m", "benchmarks.bench_kernels", "--one",
                                          str(NOTEBOOK)], env=env, cwd=REPO,
                                         stdout=subprocess.PIPE, text=True))
        results = []
        for i, run in enumerate(runs):
            out, _ = run.communicate()
            if run.returncode != 0:
                raise RuntimeError(f"kernel {i + 1} of {n} failed (exit {run.returncode})")
            result = json.loads(out.strip().splitlines()[-1])
            own = Path(folder, f"own-{i}")
            result["trained"] = sorted(p.name for p in own.glob("*")) if own.exists() else []
            results.append(result)
    return results


def main() -> None:
    chosen = os.environ.get("BENCH_KERNELS")
    counts = [int(n) for n in chosen.split(",") if int(n) > 0] if chosen else \
        [1, 2, 4] + ([2 * CPUS] if CPUS > 2 else [])
    which = os.environ.get("BENCH_NOTEBOOKS")
    alone = [p for p in NOTEBOOKS if not which or p.name[:2] in which.split(",")]
    from helpers.cache import cache_dir
    shared = cache_dir()          # the model cache is the shared folder: AE_CACHE_DIR or data/cache
    print(f"{CPUS} CPUs; shared models in {shared}; load {os.getloadavg()[0]:.1f} at the start")
    if counts:
        kernels_at_once(counts, shared)
    if alone:
        notebooks_alone(alone, shared)


def kernels_at_once(counts: list[int], shared: Path) -> None:
    # Notebook 01 once with the shared folder as its own cache: trains what the folder lacks.
    os.environ["AE_CACHE_DIR"] = str(shared)
    print(f"warm-up: notebook 01 filling {shared}: {execute_by_cell(NOTEBOOK)['seconds']:.0f} s", flush=True)
    table = {}
    for n in counts:
        for capped in (True, False):
            started = time.perf_counter()
            results = run_at_once(n, capped, shared)
            table[(n, capped)] = results
            trained = sorted({name for r in results for name in r["trained"]})
            walls = " ".join(f"{r['seconds']:5.1f}" for r in results)
            peaks = " ".join(f"{r['peak']:5.0f}" for r in results)
            print(f"{n} kernel(s) {'capped  ' if capped else 'uncapped'}: wall {walls} s (all done "
                  f"in {time.perf_counter() - started:.0f} s); peak {peaks} MiB; torch threads "
                  f"{sorted({r['torch threads'] for r in results})}; load {os.getloadavg()[0]:.1f}"
                  + (f"; TRAINED: {trained}" if trained else ""), flush=True)

    one_alone = max(r["seconds"] for r in table[(counts[0], True)])
    print(f"\n{'kernels at once':16s} {'capped: slowest s':>18s} {'x alone':>8s} "
          f"{'uncapped: slowest s':>20s} {'x alone':>8s} {'peak MiB':>9s}")
    for n in counts:
        slow = {c: max(r["seconds"] for r in table[(n, c)]) for c in (True, False)}
        peak = max(r["peak"] for c in (True, False) for r in table[(n, c)])
        print(f"{n:<16d} {slow[True]:18.1f} {slow[True] / one_alone:8.2f} {slow[False]:20.1f} "
              f"{slow[False] / one_alone:8.2f} {peak:9.0f}")
    if 4 in counts and counts[0] == 1:
        ratio = max(r["seconds"] for r in table[(4, True)]) / one_alone
        print(f"four_capped_vs_alone={ratio:.2f} (target <= 2.5)")


def notebooks_alone(notebooks: list[Path], shared: Path) -> None:
    # Every model of the series in the shared folder first (`make models`: seconds when full).
    subprocess.run([sys.executable, "-m", "helpers.recipes"], cwd=REPO, check=True,
                   env={**os.environ, "AE_CACHE_DIR": str(shared)}, stdout=subprocess.DEVNULL)
    print("\nEvery notebook alone, models from the shared cache (peak memory of its kernel; the "
          "cells that raised it most):")
    peaks = {}
    for path in notebooks:
        env_before = dict(os.environ)
        with tempfile.TemporaryDirectory(prefix="ae-bench-own-") as own:
            os.environ.update(AE_SHARED_CACHE_DIR=str(shared), AE_CACHE_DIR=own)
            try:
                result = execute_by_cell(path)
            finally:
                os.environ.clear()
                os.environ.update(env_before)
            trained = sorted(p.name for p in Path(own).glob("*.pt"))
        peaks[path.name] = result["peak"]
        rises = sorted(result["cells"], key=lambda c: c["peak"] - c["before"], reverse=True)[:3]
        print(f"{path.name:40s} {result['seconds']:6.1f} s  peak {result['peak']:6.0f} MiB   " + "; ".join(
            f"cell {c['cell']} +{c['peak'] - c['before']:.0f} ({c['first line']!r})" for c in rises)
            + (f"; TRAINED: {trained}" if trained else ""), flush=True)
    worst = max(peaks, key=peaks.get)
    print(f"peak_mib={peaks[worst]:.0f} ({worst}; target under {LIMIT_MIB:.0f} MiB = 1.5 GB)")


def one(path: str) -> None:
    """Run by run_at_once in a process of its own: one notebook, printed as JSON."""
    result = execute_by_cell(Path(path))
    print(json.dumps({k: v for k, v in result.items() if k != "cells"}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        one(sys.argv[2])
    else:
        main()
