"""helpers.threads: the CPU thread pools sized to the kernel's share of the CPU. Each source
(CPU_LIMIT, a cgroup v2 or v1 quota, the affinity) is faked: files under a temporary folder,
variables in a dict. Then, in fresh Python processes, what `import helpers` really does to torch
and to NumPy's BLAS, and that the user's own choice wins."""
import json
import os
import subprocess
import sys
import types

import pytest

from helpers import threads


def fake_cgroup(tmp_path, proc_lines, files):
    """A /proc/self/cgroup with `proc_lines` and a cgroup tree holding `files` {path: text}."""
    root = tmp_path / "cgroup"
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    root.mkdir(exist_ok=True)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("\n".join(proc_lines) + "\n")
    return {"cgroup_root": root, "proc_cgroup": proc}


def test_no_limit_gives_the_cpus_available(tmp_path):
    assert threads.cpu_share({}, **fake_cgroup(tmp_path, ["0::/"], {}), affinity=8) == \
        (8, "8 CPUs available")


@pytest.mark.parametrize("limit, expected", [("1", 1), ("1.0", 1), ("2.9", 2), ("0.5", 1), ("3", 3)])
def test_cpu_limit_rounds_down_to_at_least_one(tmp_path, limit, expected):
    share = threads.cpu_share({"CPU_LIMIT": limit}, **fake_cgroup(tmp_path, ["0::/"], {}), affinity=8)
    assert share == (expected, f"CPU_LIMIT={limit}")


def test_cpu_limit_above_the_cpus_available_gives_the_cpus(tmp_path):
    assert threads.cpu_share({"CPU_LIMIT": "16"}, **fake_cgroup(tmp_path, ["0::/"], {}),
                             affinity=4) == (4, "4 CPUs available")


def test_a_cpu_limit_that_is_no_number_is_ignored_and_said(tmp_path, capsys):
    share = threads.cpu_share({"CPU_LIMIT": "lots"}, **fake_cgroup(tmp_path, ["0::/"], {}), affinity=2)
    assert share == (2, "2 CPUs available")
    assert "CPU_LIMIT='lots' is not a number of CPUs; it is ignored" in capsys.readouterr().out


def test_cgroup_v2_quota_of_the_process_and_its_parents(tmp_path):
    """systemd puts a user's server in a slice of its own: its cpu.max, and its parents', count."""
    files = {"cpu.max": "max 100000\n",
             "user.slice/cpu.max": "300000 100000\n",
             "user.slice/jupyter-ada.service/cpu.max": "150000 100000\n"}
    sources = fake_cgroup(tmp_path, ["0::/user.slice/jupyter-ada.service"], files)
    assert threads.cgroup_quota(sources["cgroup_root"], sources["proc_cgroup"]) == 1.5
    assert threads.cpu_share({}, **sources, affinity=32) == (1, "cgroup CPU quota 1.5 CPUs")


def test_cgroup_v2_without_a_quota(tmp_path):
    sources = fake_cgroup(tmp_path, ["0::/"], {"cpu.max": "max 100000\n"})
    assert threads.cgroup_quota(sources["cgroup_root"], sources["proc_cgroup"]) is None


def test_cgroup_v2_inside_a_container_reads_the_root(tmp_path):
    """In a container without its own cgroup namespace the process's path is the host's, which
    is not under the container's /sys/fs/cgroup: the root's cpu.max is the container's quota."""
    sources = fake_cgroup(tmp_path, ["0::/kubepods/pod1234/abcd"], {"cpu.max": "200000 100000\n"})
    assert threads.cpu_share({}, **sources, affinity=64) == (2, "cgroup CPU quota 2 CPUs")


@pytest.mark.parametrize("folder", ["cpu", "cpu,cpuacct"])
def test_cgroup_v1_quota(tmp_path, folder):
    files = {f"{folder}/cpu.cfs_quota_us": "-1\n", f"{folder}/cpu.cfs_period_us": "100000\n",
             f"{folder}/docker/c0ffee/cpu.cfs_quota_us": "250000\n",
             f"{folder}/docker/c0ffee/cpu.cfs_period_us": "100000\n"}
    sources = fake_cgroup(tmp_path, ["12:memory:/docker/c0ffee", "4:cpu,cpuacct:/docker/c0ffee",
                                     "1:name=systemd:/docker/c0ffee", "0::/"], files)
    assert threads.cpu_share({}, **sources, affinity=16) == (2, "cgroup CPU quota 2.5 CPUs")


def test_cgroup_v1_without_a_quota(tmp_path):
    files = {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}
    sources = fake_cgroup(tmp_path, ["3:cpu:/", "0::/"], files)
    assert threads.cgroup_quota(sources["cgroup_root"], sources["proc_cgroup"]) is None


def test_no_cgroups_at_all(tmp_path):
    assert threads.cgroup_quota(tmp_path / "none", tmp_path / "no-proc-file") is None


def test_the_smallest_source_wins_and_is_named(tmp_path):
    files = {"cpu.max": "300000 100000\n"}
    sources = fake_cgroup(tmp_path, ["0::/"], files)
    assert threads.cpu_share({"CPU_LIMIT": "2"}, **sources, affinity=4) == (2, "CPU_LIMIT=2")
    assert threads.cpu_share({"CPU_LIMIT": "8"}, **sources, affinity=4) == (3, "cgroup CPU quota 3 CPUs")
    assert threads.cpu_share({"CPU_LIMIT": "8"}, **sources, affinity=1) == (1, "1 CPU available")


def test_limit_threads_sets_the_variables_of_libraries_loaded_later(tmp_path, monkeypatch):
    monkeypatch.setattr(threads, "chosen", None)
    environ = {"CPU_LIMIT": "3"}
    sources = fake_cgroup(tmp_path, ["0::/"], {})
    monkeypatch.setattr(threads, "sys", types.SimpleNamespace(modules={}))   # no torch, no numpy yet
    assert threads.limit_threads(environ, **sources, affinity=8) == (3, "CPU_LIMIT=3")
    assert {k: environ[k] for k in threads.THREAD_VARIABLES} == \
        {"OMP_NUM_THREADS": "3", "MKL_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "3"}
    assert threads.describe(3) == "3 CPU threads: CPU_LIMIT=3"
    assert threads.describe(5) == "5 CPU threads: set by torch.set_num_threads (the share is 3, CPU_LIMIT=3)"


def test_an_explicit_omp_num_threads_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(threads, "chosen", None)
    environ = {"CPU_LIMIT": "1", "OMP_NUM_THREADS": "4"}
    threads.limit_threads(environ, **fake_cgroup(tmp_path, ["0::/"], {}), affinity=8)
    assert environ == {"CPU_LIMIT": "1", "OMP_NUM_THREADS": "4"}
    assert threads.describe(4) == "4 CPU threads: OMP_NUM_THREADS=4"


# --- in a fresh Python: what `import helpers` does to the real libraries ------------------------

PROBE = """
import json, sys
{before}
import helpers
import numpy, torch
from helpers import train
from threadpoolctl import threadpool_info
{after}
train.pick_device(verbose=True)
print(json.dumps({{"torch": torch.get_num_threads(),
                  "pools": sorted({{p["internal_api"]: p["num_threads"] for p in threadpool_info()}}.items())}}))
"""


def run_probe(env=None, before="", after="", cpus=None):
    """Run PROBE in a new interpreter; returns (its device line, what it measured)."""
    environ = {k: v for k, v in os.environ.items()
               if k not in ("CPU_LIMIT", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    preexec = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    result = subprocess.run([sys.executable, "-c", PROBE.format(before=before, after=after)],
                            env={**environ, **(env or {})}, capture_output=True, text=True,
                            timeout=120, preexec_fn=preexec)
    assert result.returncode == 0, result.stderr
    device_line, measured = result.stdout.strip().splitlines()[-2:]
    return device_line, json.loads(measured)


def test_import_helpers_caps_torch_and_blas_at_cpu_limit():
    line, measured = run_probe({"CPU_LIMIT": "1.0"})
    assert line == "Device: cpu (1 CPU thread: CPU_LIMIT=1.0)"
    assert measured["torch"] == 1
    assert all(n == 1 for _, n in measured["pools"]), measured    # OpenMP and OpenBLAS


def test_torch_and_numpy_imported_before_helpers_are_capped_too():
    line, measured = run_probe({"CPU_LIMIT": "1"}, before="import numpy, torch")
    assert line == "Device: cpu (1 CPU thread: CPU_LIMIT=1)"
    assert measured["torch"] == 1
    assert all(n == 1 for _, n in measured["pools"]), measured


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs 2 CPUs and sched_setaffinity")
def test_the_affinity_caps_the_threads():
    line, measured = run_probe(cpus={0})
    assert line == "Device: cpu (1 CPU thread: 1 CPU available)"
    assert measured["torch"] == 1


@pytest.mark.skipif(os.cpu_count() < 2, reason="needs 2 CPUs to tell a cap from the default")
def test_the_users_own_choice_wins():
    line, measured = run_probe({"CPU_LIMIT": "1", "OMP_NUM_THREADS": "2"})
    assert (line, measured["torch"]) == ("Device: cpu (2 CPU threads: OMP_NUM_THREADS=2)", 2)
    line, measured = run_probe({"CPU_LIMIT": "1"}, after="torch.set_num_threads(2)")
    assert measured["torch"] == 2
    assert line == "Device: cpu (2 CPU threads: set by torch.set_num_threads (the share is 1, CPU_LIMIT=1))"
