import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers.data import ImageData


def pytest_collection_modifyitems(config, items):
    """Run the tests marked `after_notebooks` after the notebooks (nbval fills the model cache
    they need), and the browser tests last of all; each group keeps its order."""
    def group(item):
        return 2 if item.get_closest_marker("browser") else \
            1 if item.get_closest_marker("after_notebooks") else 0
    items.sort(key=group)                      # sort is stable


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty model cache of the test's own, so tests never touch data/cache/."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("AE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def tiny_data():
    """200 training and 50 test 'images' of 784 pixels in [0, 1], with labels 0-9."""
    g = torch.Generator().manual_seed(0)
    return ImageData(x_train=torch.rand(200, 784, generator=g),
                     y_train=torch.arange(200) % 10,
                     x_test=torch.rand(50, 784, generator=g),
                     y_test=torch.arange(50) % 10,
                     source="subset", description="random test images")


@pytest.fixture(scope="session")
def student_edition(tmp_path_factory):
    """The student edition, made once for every test by nbgrader's generate step
    (tools/assignments.py, what `make assignments` runs) into a course folder of the tests' own:
    (the course folder, the folder of student notebooks)."""
    from tools import assignments
    root = tmp_path_factory.mktemp("course")
    assignments.generate(course=root / "course", student=root / "student")
    return root / "course", root / "student"


# --- as an unprivileged user ----------------------------------------------------------------------
# Root ignores file permissions, so a permission fault is made as an unprivileged user: in a user
# namespace (`unshare --user`), or, where those are not allowed, as uid 65534 through `setpriv`
# (root only). A read-only or a full file system is a tmpfs mount in a mount namespace of the
# test's own: it vanishes with the process, nothing to clean up.

REPO = Path(__file__).resolve().parents[1]
AS_A_USER = [["unshare", "--user"], ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]]
WITH_MOUNTS = [["unshare", "--user", "--map-root-user", "--mount"], ["unshare", "--mount"]]
CANNOT_MOUNT = 97


def run_python_as(ways: list, script: str, args: list, home: Path, setup: str = "",
                  timeout: int = 600, env: dict | None = None) -> dict:
    """Run `python -c script *args` the first way of `ways` this machine allows (after `setup`,
    shell commands run in the same namespace, e.g. mounts), in the course folder with HOME set
    to `home` (and the variables `env`; None removes one); return the JSON the script printed
    last. Skip, saying why, when no way works."""
    tried = []
    for prefix in ways:
        if shutil.which(prefix[0]) is None:
            tried.append(f"{prefix[0]} is not installed")
            continue
        probe = subprocess.run(prefix + ["true"], capture_output=True, text=True)
        if probe.returncode != 0:
            tried.append(f"{' '.join(prefix)}: {probe.stderr.strip()}")
            continue
        variables = dict(os.environ, PYTHONPATH=str(REPO), HOME=str(home),
                         MPLCONFIGDIR=str(home / "mpl"), **(env or {}))
        variables = {k: v for k, v in variables.items() if v is not None}
        command = [sys.executable, "-c", script, *map(str, args)]
        if setup:
            command = ["sh", "-c", f"{setup} || exit {CANNOT_MOUNT}; exec \"$@\"", "sh", *command]
        done = subprocess.run(prefix + command, capture_output=True, text=True, env=variables,
                              timeout=timeout, cwd=REPO)
        if done.returncode == CANNOT_MOUNT:
            tried.append(f"{' '.join(prefix)}: cannot mount a tmpfs: {done.stderr.strip()}")
            continue
        assert done.returncode == 0, f"it stopped with an error: {done.stderr[-2000:]}"
        return json.loads(done.stdout.strip().splitlines()[-1])
    pytest.skip("cannot run as an unprivileged user or mount here: " + "; ".join(tried))
