"""Faults a learner meets, each created here and its outcome checked (the data and cache faults
are in test_data.py and test_cache.py; widget extremes in the widget tests)."""
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import psutil
import pytest
from nbclient import NotebookClient
from nbclient.util import run_sync

from helpers import data as D

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_every_checkpoint_load_refuses_pickled_code():
    """Every torch.load in the helpers passes weights_only=True (test_cache.py shows a file
    holding pickled code being refused)."""
    calls = []
    for path in (REPO / "helpers").rglob("*.py"):
        for line in path.read_text().splitlines():
            if "torch.load(" in line:
                calls.append((path.name, line.strip()))
    assert calls, "the helpers load checkpoints somewhere"
    unsafe = [c for c in calls if "weights_only=True" not in c[1]]
    assert not unsafe, f"torch.load without weights_only=True: {unsafe}"


def test_unwritable_data_folder_still_gives_fashion_mnist(tmp_path, monkeypatch, capsys):
    from test_data import fake_idx_set
    debian = tmp_path / "debian"
    fake_idx_set(debian, gz=True)
    monkeypatch.setattr(D, "DEBIAN_FASHION_DIR", debian)
    blocker = tmp_path / "a-file"
    blocker.write_text("data/ cannot be created below a file")
    data = D.load_data("fashion", data_dir=blocker / "data", download=False)
    out = capsys.readouterr().out
    assert data.source == "fashion" and len(data.x_train) == 12
    assert "cannot write to" in out and "for this session" in out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_listens_on_localhost_only_and_needs_the_token(tmp_path):
    port, token = free_port(), secrets.token_hex(8)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), JUPYTER_DATA_DIR=str(tmp_path / "jd"))
    lab = subprocess.Popen(["make", "-s", "lab", f"PORT={port}", f"TOKEN={token}", "LAB_ARGS=--no-browser"],
                           cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    try:
        base, deadline = f"http://127.0.0.1:{port}", time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert lab.poll() is None, "make lab exited early"
                assert time.time() < deadline, "JupyterLab did not start within 90 s"
                time.sleep(0.5)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/api/contents", timeout=5)
        assert refused.value.code == 403, "without the token the server must refuse"
        listening = {c.laddr.ip for p in [psutil.Process(lab.pid), *psutil.Process(lab.pid).children(recursive=True)]
                     for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
        assert listening == {"127.0.0.1"}, f"JupyterLab must listen on 127.0.0.1 only, not {listening}"
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(30)


# --- notebooks run twice in one kernel, and after a restart -------------------------------
VOLATILE = re.compile(r"ran in|drawn in|took|\bms\b|\dx the\b|Cache:|Device:|^\s*$")   # timings and their ratios vary


def printed_lines(nb, keep_volatile: bool = False) -> list[str]:
    """What the notebook printed (stdout), without timings and cache messages."""
    lines = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                lines += [l for l in out["text"].splitlines() if keep_volatile or not VOLATILE.search(l)]
    return lines


def widget_views(nb) -> int:
    """Widgets shown as a cell's value (progress bars of training, shown only when a model is
    not cached yet, are display_data and are not counted)."""
    return sum(out.get("output_type") == "execute_result"
               and "application/vnd.jupyter.widget-view+json" in out.get("data", {})
               for cell in nb.cells for out in cell.get("outputs", []))


def errors(nb) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for c in nb.cells for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


CHOSEN = os.environ.get("AE_RERUN_NOTEBOOKS")   # e.g. "01,03" to limit this slow test


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not CHOSEN or p.name[:2] in CHOSEN.split(",")],
                         ids=lambda p: p.name)
def test_notebook_reruns_give_identical_numbers(path):
    """Run All, Run All again in the same kernel, then Restart and Run All: the same printed
    numbers every time (everything is seeded), one widget per widget cell, no error."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    runs = []
    with client.setup_kernel():
        for attempt in range(3):
            if attempt == 2:                        # the kernel manager's calls are async
                run_sync(client.km.restart_kernel)(now=True)
                run_sync(client.kc.wait_for_ready)(timeout=120)
                pid_after = client.km.provisioner.process.pid
                assert pid_after != pid_before, "the kernel was not restarted"
            else:
                pid_before = client.km.provisioner.process.pid
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    cell.outputs = []
                    client.execute_cell(cell, index)
            assert not errors(nb), f"run {attempt + 1} of {path.name} raised: {errors(nb)}"
            runs.append((printed_lines(nb), widget_views(nb)))
            if attempt == 0 and path.name.startswith("08") and not CHOSEN:
                # 01-07 ran just before (same parametrised test, same cache): the summary must
                # find every model they trained, so its notebook-exact calls stay in step.
                cache_lines = [l for l in printed_lines(nb, keep_volatile=True) if "of the series" in l]
                assert cache_lines and cache_lines[0].endswith("trained 0"), \
                    f"after notebooks 01-07, notebook 08 still trained models: {cache_lines}"
    (first, views), (same_kernel, views2), (restarted, views3) = runs
    assert first, f"{path.name} printed nothing to compare"
    assert same_kernel == first, f"{path.name}: a second Run All in the same kernel printed other numbers"
    assert restarted == first, f"{path.name}: Restart and Run All printed other numbers"
    assert views == views2 == views3, "widgets must not be duplicated by a re-run"
