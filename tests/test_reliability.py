"""Faults a learner meets, each created here and its outcome checked (the data and cache faults
are in test_data.py and test_cache.py; widget extremes in the widget tests)."""
import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import psutil
import pytest
from nbclient import NotebookClient

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


LINK = re.compile(r"(http://127\.0\.0\.1:(\d+)/)lab\?token=([0-9a-f]+)")


def unless_gone(method, **kwargs):
    """A psutil.Process method's answer, None if the process has exited meanwhile (make's
    short-lived children, a shell say, may end between listing and asking)."""
    try:
        return method(**kwargs)
    except psutil.NoSuchProcess:
        return None


def test_make_lab_prints_a_link_that_logs_in_and_keeps_the_token_off_command_lines(tmp_path):
    """`make lab` as a learner without a browser window runs it (WSL, a remote machine,
    --no-browser): the printed link logs in, nothing else does, the token is in no process's
    command line, the server listens on 127.0.0.1 only, and Ctrl-C stops everything cleanly.
    The folder it serves has a space in its name (NOTEBOOK_DIR="my notebooks")."""
    port, runtime = free_port(), tmp_path / "rt"
    served = tmp_path / "my notebooks"
    served.mkdir()
    (served / "mine.ipynb").write_text((REPO / "notebooks" / "01_vanilla_autoencoder.ipynb").read_text())
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"), JUPYTER_RUNTIME_DIR=str(runtime),
               JUPYTER_DATA_DIR=str(tmp_path / "jd"))
    env.pop("JUPYTER_TOKEN", None)
    log = open(tmp_path / "lab.log", "w")
    # -o: the venv is installed already (make test needs it too): a test never re-runs pip.
    lab = subprocess.Popen(["make", "-s", "-o", ".venv/.installed", "lab", f"PORT={port}",
                            "LAB_ARGS=--no-browser", f"NOTEBOOK_DIR={served}"], cwd=REPO, env=env,
                           stdout=subprocess.PIPE,
                           stderr=log, text=True, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in lab.stdout], daemon=True).start()
    started = []
    try:
        printed, deadline, found = [], time.time() + 120, None
        while found is None:
            assert lab.poll() is None, f"make lab exited early: {printed}"
            assert time.time() < deadline, f"no link printed within 120 s: {printed}"
            try:
                printed.append(lines.get(timeout=1))
            except queue.Empty:
                continue
            found = LINK.search(printed[-1])
        base, link_port, token = found.group(1), int(found.group(2)), found.group(3)
        assert link_port == port and len(token) >= 32
        assert any("Open this link in your browser" in line for line in printed), printed

        started = [psutil.Process(lab.pid), *psutil.Process(lab.pid).children(recursive=True)]
        with urllib.request.urlopen(found.group(0), timeout=10) as page:      # the link itself
            assert page.status == 200 and "JupyterLab" in page.read().decode()
        status = urllib.request.Request(f"{base}api/status", headers={"Authorization": f"token {token}"})
        assert json.load(urllib.request.urlopen(status, timeout=10))["started"]
        contents = urllib.request.Request(f"{base}api/contents", headers={"Authorization": f"token {token}"})
        assert [f["name"] for f in json.load(urllib.request.urlopen(contents, timeout=10))["content"]] \
            == ["mine.ipynb"], "it serves the folder named, spaces and all"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}api/contents", timeout=5)
        assert refused.value.code == 403, "without the token the server must refuse"

        with_token = []
        for process in psutil.process_iter(["pid", "cmdline"]):
            if token in " ".join(process.info["cmdline"] or []):
                with_token.append((process.info["pid"], process.info["cmdline"]))
        assert not with_token, f"the token is readable in these command lines: {with_token}"
        commands = {p: unless_gone(p.cmdline) for p in started}
        servers = [p for p, command in commands.items() if "jupyterlab" in " ".join(command or [])]
        assert servers, f"the server must be among make's processes: {list(commands.values())}"
        listening = {c.laddr.ip for p in started for c in unless_gone(p.net_connections, kind="inet") or []
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
        assert listening == {"127.0.0.1"}, f"JupyterLab must listen on 127.0.0.1 only, not {listening}"

        os.killpg(lab.pid, signal.SIGINT)                  # Ctrl-C in the terminal
        gone, alive = psutil.wait_procs(started, timeout=60)
        assert not alive, f"still running after Ctrl-C: {[p.cmdline() for p in alive]}"
        assert not list(runtime.glob("jpserver-*.json")), "the server did not shut down cleanly"
    finally:
        for process in started:
            if process.is_running():
                process.kill()
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGKILL)
        lab.wait(30)
        log.close()


# --- notebooks run twice in one kernel --------------------------------------------------------
VOLATILE = re.compile(r"ran in|drawn in|took|\bms\b|\dx\b|Cache:|Device:|^\s*$")   # timings and their ratios (1.7x) vary


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
    """Run All in a fresh kernel, then Run All again in the same kernel: the same printed
    numbers both times (everything is seeded), one widget per widget cell, no error.
    (Restart and Run All is a fresh kernel again, which the first run already is; CI time is
    better spent elsewhere than on a third run of every notebook.)"""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    runs = []
    with client.setup_kernel():
        for attempt in range(2):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    cell.outputs = []                   # as a front end clears a cell, it
                    client.clear_display_id_mapping(index)   # forgets the cell's display ids
                    client.execute_cell(cell, index)
            assert not errors(nb), f"run {attempt + 1} of {path.name} raised: {errors(nb)}"
            runs.append((printed_lines(nb), widget_views(nb)))
            if attempt == 0 and path.name.startswith("08") and not CHOSEN:
                # 01-07 ran just before (same parametrised test, same cache): the summary must
                # find every model they trained, so its notebook-exact calls stay in step.
                cache_lines = [l for l in printed_lines(nb, keep_volatile=True) if "of the series" in l]
                assert cache_lines and cache_lines[0].endswith("trained 0"), \
                    f"after notebooks 01-07, notebook 08 still trained models: {cache_lines}"
    (first, views), (same_kernel, views2) = runs
    assert first, f"{path.name} printed nothing to compare"
    assert same_kernel == first, f"{path.name}: a second Run All in the same kernel printed other numbers"
    assert views == views2, "widgets must not be duplicated by a re-run"
