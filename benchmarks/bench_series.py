"""Series time: every notebook executed headless twice, first with an empty model cache (cold:
everything trains) and then with the cache it just filled (warm: everything loads). Prints wall
seconds and the kernel's peak memory (RSS, sampled every 0.1 s) per notebook, and the totals.

Targets (2 cores, bundled data): whole series <= 10 min cold and <= 2 min warm, no notebook over
2.5 min cold, peak memory under 2 GiB per notebook. `BENCH_NOTEBOOKS=01,02` limits the run.

The summary (the last lines printed, with the date and the machine's load) is the one source of
the run times README.md, TEACHING.md and the notebooks' title cells quote: `BENCH_SAVE=1` writes
it into benchmarks/series_times.txt (a run of all eight notebooks only), then
`python tools/run_times.py` rewrites those texts from it.
"""
from __future__ import annotations

import datetime
import os
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SAVED = REPO / "benchmarks" / "series_times.txt"
HEADER = """# The run times README.md, TEACHING.md and the notebooks' title cells quote (tools/run_times.py
# writes them from this file). Replace it whole with a new run:
#   BENCH_SAVE=1 python -m benchmarks series     (on a quiet machine), then python tools/run_times.py
"""


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


class PeakMemory:
    """Samples the resident memory of a process and its children until stopped."""

    def __init__(self, pid: int, every: float = 0.1):
        self.process, self.every, self.peak = psutil.Process(pid), every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                rss = self.process.memory_info().rss + sum(
                    c.memory_info().rss for c in self.process.children(recursive=True))
                self.peak = max(self.peak, rss)
            except psutil.Error:
                pass
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def execute(path: Path) -> tuple[float, float]:
    """Run one notebook in a fresh kernel; returns (wall seconds, peak RSS in MiB)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid
        with PeakMemory(pid) as memory:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
    return time.perf_counter() - started, memory.peak / 2**20


def main() -> None:
    chosen = os.environ.get("BENCH_NOTEBOOKS")
    notebooks = [p for p in NOTEBOOKS if not chosen or p.name[:2] in chosen.split(",")]
    results = {}
    load_before = load()
    with tempfile.TemporaryDirectory(prefix="ae-bench-cache-") as cache:
        os.environ["AE_CACHE_DIR"] = cache          # the kernels inherit it: an empty cache
        for run in ("cold", "warm"):
            for path in notebooks:
                seconds, peak = execute(path)
                results[(path.name, run)] = (seconds, peak)
                print(f"{run:4s} {path.name:40s} {seconds:6.1f} s   peak {peak:6.0f} MiB", flush=True)
    total = {run: sum(results[(p.name, run)][0] for p in notebooks) for run in ("cold", "warm")}
    worst = max(max(results[(p.name, r)][1] for r in ("cold", "warm")) for p in notebooks)
    summary = [f"series benchmark {datetime.date.today().isoformat()}: {os.cpu_count()} cores, "
               f"{os.environ.get('AE_DATA') or 'bundled'} data; load {load_before} at start, {load()} at end",
               f"{'notebook':40s} {'cold s':>7s} {'warm s':>7s} {'peak MiB':>9s}"]
    for path in notebooks:
        cold, warm = results[(path.name, "cold")], results[(path.name, "warm")]
        summary.append(f"{path.name:40s} {cold[0]:7.1f} {warm[0]:7.1f} {max(cold[1], warm[1]):9.0f}")
    summary.append(f"{'total':40s} {total['cold']:7.1f} {total['warm']:7.1f} {worst:9.0f}")
    print("\n" + "\n".join(summary))
    if os.environ.get("BENCH_SAVE") and len(notebooks) == len(NOTEBOOKS) \
            and os.environ.get("AE_DATA", "subset") in ("", "subset"):   # the texts quote the bundled data
        SAVED.write_text(HEADER + "\n".join(summary) + "\n", encoding="utf-8")
        print(f"saved to {SAVED}: now run `python tools/run_times.py`")
    print(f"series_cold_s={total['cold']:.0f} series_warm_s={total['warm']:.0f} peak_mib={worst:.0f}")


if __name__ == "__main__":
    main()
