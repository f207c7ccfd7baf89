"""Threads within the kernel's share of the CPU.

PyTorch (and the BLAS libraries under NumPy) start one thread per core of the machine. On a
shared server that is too many: JupyterHub gives each student a share, say 1 CPU of 32, and
32 threads taking turns on 1 CPU's worth of time make every cell many times slower. So when
`helpers` is imported, `limit_threads()` sets the thread count to the smallest of
    CPU_LIMIT        the share JupyterHub hands to each user's server (rounded down, at least 1)
    the cgroup quota what systemd, Docker or Kubernetes enforce (cgroup v2 cpu.max, or v1
                     cpu.cfs_quota_us / cpu.cfs_period_us; rounded down, at least 1)
    the affinity     the CPUs this process may run on at all
Your own choice wins: with OMP_NUM_THREADS set nothing is changed, and torch.set_num_threads(n)
called after `import helpers` sets what you ask for.
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path

# The variables that size the thread pools of OpenMP, MKL and OpenBLAS when they are loaded.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

chosen: tuple[int, str] | None = None   # what limit_threads() set: (threads, where from)


def cpu_share(environ=os.environ, cgroup_root: Path | str = "/sys/fs/cgroup",
              proc_cgroup: Path | str = "/proc/self/cgroup", affinity: int | None = None):
    """The number of threads that fit this process's share of the CPU, and where it comes
    from, e.g. (1, "CPU_LIMIT=1.0"). The arguments are there so that tests can fake each source."""
    if affinity is None:
        affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    candidates = []                             # on a tie the first wins: the named limit
    limit = environ.get("CPU_LIMIT")
    if limit:
        try:
            candidates.append((max(1, math.floor(float(limit))), f"CPU_LIMIT={limit}"))
        except ValueError:
            print(f"Threads: CPU_LIMIT={limit!r} is not a number of CPUs; it is ignored.")
    quota = cgroup_quota(Path(cgroup_root), Path(proc_cgroup))
    if quota is not None:
        candidates.append((max(1, math.floor(quota)), f"cgroup CPU quota {quota:g} CPUs"))
    candidates.append((affinity, f"{affinity} CPU{'s' if affinity != 1 else ''} available"))
    return min(candidates, key=lambda c: c[0])


def cgroup_quota(root: Path, proc_cgroup: Path) -> float | None:
    """CPUs' worth of time per period the cgroup quota allows, or None without a quota. Every
    folder from this process's own cgroup up to the root counts: a parent's quota limits its
    children too."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    quotas = []
    for line in lines:                          # "0::/path" (v2) or "4:cpu,cpuacct:/path" (v1)
        _, controllers, path = line.split(":", 2)
        if controllers == "":                   # cgroup v2: "max 100000" or "150000 100000"
            folders, read = _up_from(root, path), _v2_quota
        elif "cpu" in controllers.split(","):   # cgroup v1: the cpu controller's own folder
            base = next((root / name for name in (controllers, "cpu", "cpu,cpuacct")
                         if (root / name).is_dir()), None)
            if base is None:
                continue
            folders, read = _up_from(base, path), _v1_quota
        else:
            continue
        quotas += [q for q in map(read, folders) if q is not None]
    return min(quotas, default=None)


def _up_from(base: Path, path: str) -> list[Path]:
    """`base`/path and each of its parents up to `base`. Inside a container the process's path
    may not exist under its own view of the cgroups: then only `base` is read."""
    folder = base / path.strip("/")
    folders = [base]
    while folder != base and base in folder.parents:
        folders.append(folder)
        folder = folder.parent
    return folders


def _v2_quota(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text().split()
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def _v1_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 or period <= 0 else quota / period


def limit_threads(environ=os.environ, **sources) -> tuple[int, str]:
    """Size the thread pools to the share (see the module's docstring); returns (threads, where
    from). With OMP_NUM_THREADS set, nothing is changed. Libraries not loaded yet read the
    variables set here; torch and the BLAS libraries already loaded are told directly."""
    global chosen
    if environ.get("OMP_NUM_THREADS"):
        chosen = (None, f"OMP_NUM_THREADS={environ['OMP_NUM_THREADS']}")
        return chosen
    threads, source = cpu_share(environ, **sources)
    for name in THREAD_VARIABLES:
        environ[name] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    if "numpy" in sys.modules:                  # its BLAS is loaded and has sized its pool
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
    chosen = (threads, source)
    return chosen


def describe(threads: int) -> str:
    """Where a thread count comes from, for the device line: '1 CPU thread: CPU_LIMIT=1.0'."""
    count = f"{threads} CPU thread{'s' if threads != 1 else ''}"
    if chosen is None:
        return count
    if chosen[0] is None:                       # OMP_NUM_THREADS was set by the user
        return f"{count}: {chosen[1]}"
    if chosen[0] != threads:
        return f"{count}: set by torch.set_num_threads (the share is {chosen[0]}, {chosen[1]})"
    return f"{count}: {chosen[1]}"
