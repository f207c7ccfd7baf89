"""A class on one server: `make hub`'s JupyterHub (hub/jupyterhub_config.py) with three real
students, each in a headless Chromium page of their own, all at once.

As the teacher would (README, "Teaching on JupyterHub"): the students are real users of the
machine in a group of their own (useradd, as root; removed afterwards), the class model pack is
made from the model cache the notebooks filled (`make pack`) and unpacked into a shared folder
(`make unpack ... CACHE=`), and the hub starts with 1 CPU and 2 GB per student. Then each
student logs in with a password, opens notebook 01 of the student edition copied into their
home, and runs all its cells; the three run at the same time. Checked: every run finished with
no error, nothing was trained (every model came from the shared folder, which is unchanged,
and each student's own cache is empty), each kernel's torch thread count is its share, no
student can read another's home or write into the shared folder, and the hub, its proxy and
everything they started listen on 127.0.0.1 only. Every process the test started is stopped,
and found stopped, by its PID.

Needs root (to create users) and `make install-hub` (JupyterHub and its proxy).
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

import lab_browser

pytestmark = pytest.mark.browser

REPO = lab_browser.REPO
VENV = Path(sys.prefix)
NOTEBOOK = "01_vanilla_autoencoder.ipynb"
CPU, MEMORY = 1, "2G"
N_STUDENTS = 3


def run(*command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def listing(folder: Path) -> dict:
    """Every file under `folder` with its SHA-256 and mode."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def root_and_hub_installed():
    if os.geteuid() != 0:
        pytest.skip("the hub test creates users of the machine: it runs as root (CI does)")
    missing = [str(p) for p in (VENV / "bin/jupyterhub", REPO / "hub/node_modules/.bin/configurable-http-proxy")
               if not p.exists()]
    if missing:
        pytest.fail(f"JupyterHub or its proxy is missing ({', '.join(missing)}): `make install-hub`",
                    pytrace=False)


@pytest.fixture(scope="module")
def students(root_and_hub_installed):
    """Three users in a group of their own, with passwords, as a teacher creates them;
    removed afterwards with their homes."""
    tag = secrets.token_hex(3)
    group = f"aehub{tag}"
    names = [f"aehub{tag}{letter}" for letter in "abc"[:N_STUDENTS]]
    passwords = {name: secrets.token_urlsafe(12) for name in names}
    run("groupadd", group)
    created = []
    try:
        for name in names:
            run("useradd", "--create-home", "--groups", group, "--shell", "/bin/bash", name)
            created.append(name)
        run("chpasswd", input="".join(f"{n}:{p}\n" for n, p in passwords.items()))
        yield group, passwords
    finally:
        for name in created:
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)


@pytest.fixture(scope="module")
def shared_models(root_and_hub_installed, tmp_path_factory):
    """The class model pack, made from the filled model cache, unpacked into a folder the
    students can read (root's, mode 755), as the teacher does into /srv."""
    pack = tmp_path_factory.mktemp("pack") / "models.zip"
    run("make", "-s", "pack", f"PACK={pack}", cwd=REPO)
    folder = Path(tempfile.mkdtemp(prefix="ae-hub-srv-")) / "models"
    folder.parent.chmod(0o755)
    run("make", "-s", "unpack", f"PACK={pack}", f"CACHE={folder}", cwd=REPO)
    folder.chmod(0o755)
    assert any(folder.glob("*.pt")), f"the pack installed no model into {folder}"
    yield folder
    shutil.rmtree(folder.parent)


def closed_to_others(path: Path) -> list[Path]:
    return [p for p in [path, *path.parents] if p.is_dir() and not p.stat().st_mode & stat.S_IXOTH]


def open_view(folder: Path) -> list[str]:
    """A command prefix that runs the hub in a mount namespace of its own where the course's
    Python can be run by the students although it sits in a folder closed to them (CI's Python
    is pyenv's, under /root, mode 700): there `folder` is an empty tmpfs that others may pass
    through (711) and only the folders the course needs are mounted back into it. Nothing
    changes outside: the view ends with the hub."""
    needed = [Path(os.path.realpath(VENV / "bin/python")), Path(sys.base_prefix), REPO]
    children = sorted({folder / p.relative_to(folder).parts[0] for p in needed if folder in p.parents})
    script = ["set -e"]
    for i, child in enumerate(children):
        script += [f"mkdir -p /tmp/.ae-hub-view-{os.getpid()}-{i}",
                   f"mount --bind '{child}' /tmp/.ae-hub-view-{os.getpid()}-{i}"]
    script.append(f"mount -t tmpfs -o mode=711,size=1m tmpfs '{folder}'")
    for i, child in enumerate(children):
        script += [f"mkdir -p '{child}'", f"mount --bind /tmp/.ae-hub-view-{os.getpid()}-{i} '{child}'"]
    script.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script), "sh"]


def free_ports(count: int) -> int:
    """A port P such that P, P+1, ... P+count-1 are free on 127.0.0.1 (the hub, its internal
    API and the proxy's API)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            for p in range(port, port + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
    raise RuntimeError("no free ports")


class Hub:
    def __init__(self, process, base, log):
        import psutil
        self.process, self.base, self.log = process, base, log
        self.hub = psutil.Process(process.pid)
        self.seen = {}                                          # pid -> psutil.Process

    def processes(self):
        """The hub and everything it started so far (the proxy, the servers, their kernels)."""
        import psutil
        for p in [self.hub, *self.hub.children(recursive=True)]:
            try:
                self.seen.setdefault(p.pid, p)
                p.cmdline()                                     # still there?
            except psutil.Error:
                pass
        return [p for p in self.seen.values() if p.is_running()]

    def stop(self):
        """SIGTERM to the hub (which stops the proxy and the students' servers, which stop their
        kernels); anything of ours still running after 60 s is killed. Returns what was left."""
        self.processes()
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        deadline = time.time() + 30
        while time.time() < deadline and any(p.is_running() and p.status() != "zombie"
                                             for p in self.seen.values()):
            time.sleep(0.5)
        left = [p for p in self.seen.values() if p.is_running() and p.status() != "zombie"]
        described = [f"{p.pid} {p.name()}" for p in left]
        for p in left:
            p.kill()
        return described


@pytest.fixture(scope="module")
def hub(students, shared_models, tmp_path_factory):
    group, _ = students
    state = tmp_path_factory.mktemp("hub-state")
    edition = Path(tempfile.mkdtemp(prefix="ae-hub-student-edition-"))
    edition.chmod(0o755)
    # the student edition as `make assignments` makes it (nbgrader's generate step)
    run(sys.executable, "-c", "import sys; from pathlib import Path; from tools import assignments; "
        "assignments.generate(course=Path(sys.argv[1]), student=Path(sys.argv[2]))",
        str(state / "course"), str(edition), cwd=REPO)
    # The course's hub as `make hub` starts it, plus what the browser tests need of JupyterLab.
    config = state / "test_config.py"
    config.write_text(f"load_subconfig({str(REPO / 'hub/jupyterhub_config.py')!r})\n"
                      f"c.Spawner.args = {['--LabApp.expose_app_in_browser=True', '--LabApp.news_url=None']!r}\n")
    port = free_ports(3)
    env = {**os.environ, "AE_HUB_PORT": str(port), "AE_HUB_GROUP": group, "AE_HUB_CPU": str(CPU),
           "AE_HUB_MEMORY": MEMORY, "AE_HUB_STUDENT_EDITION": str(edition),
           "AE_SHARED_CACHE_DIR": str(shared_models), "AE_HUB_STATE": str(state)}
    log = state / "hub.log"
    # the folder closest to / that closes the way to the course's Python or to the course
    closed = {c[-1] for p in (VENV / "bin/python", REPO) if (c := closed_to_others(Path(os.path.realpath(p))))}
    if len(closed) > 1:
        pytest.fail(f"the course and its Python sit behind {len(closed)} folders closed to other users "
                    f"({', '.join(map(str, closed))}); the test opens one", pytrace=False)
    prefix = open_view(closed.pop()) if closed else []
    process = subprocess.Popen([*prefix, str(VENV / "bin/jupyterhub"), "-f", str(config)], env=env,
                               cwd=state, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    hub = Hub(process, f"http://127.0.0.1:{port}", log)
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(f"{hub.base}/hub/api/", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                hub.stop()
                pytest.fail("the hub did not start:\n" + log.read_text()[-4000:], pytrace=False)
            time.sleep(0.5)
    yield hub
    left = hub.stop()
    shutil.rmtree(edition)
    for view in Path("/tmp").glob(f".ae-hub-view-{os.getpid()}-*"):
        view.rmdir()
    assert not left, f"processes of the hub still running after it stopped (killed now): {left}"


# --- in the page ------------------------------------------------------------------------------

# Run code in the notebook's kernel; returns what it printed.
KERNEL_RUN = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  let out = '';
  const future = kernel.requestExecute({code, store_history: false});
  future.onIOPub = (msg) => { if (msg.header.msg_type === 'stream') out += msg.content.text; };
  await future.done;
  return out;
}"""

# Every text the notebook's cells printed or showed.
OUTPUT_TEXT = """() => {
  const texts = [];
  for (const cell of window.jupyterapp.shell.currentWidget.content.model.cells) {
    if (cell.type !== 'code') continue;
    for (let i = 0; i < cell.outputs.length; i++) {
      const out = cell.outputs.get(i).toJSON();
      if (out.text) texts.push([].concat(out.text).join(''));
      if (out.data && out.data['text/plain']) texts.push([].concat(out.data['text/plain']).join(''));
    }
  }
  return texts.join('\\n');
}"""

# What a student's kernel may do: its threads, its environment, another's home, the shared folder.
PROBE = """
import json, os, pwd, torch
from helpers import cache
def attempt(action):
    try:
        action()
        return "allowed"
    except OSError as error:
        return type(error).__name__
other, shared = {other!r}, {shared!r}
model = sorted(os.listdir(shared))[0]
print(json.dumps({{
    "user": pwd.getpwuid(os.getuid()).pw_name,
    "torch_threads": torch.get_num_threads(),
    "CPU_LIMIT": os.environ.get("CPU_LIMIT"), "MEM_LIMIT": os.environ.get("MEM_LIMIT"),
    "cache": str(cache.cache_dir()), "shared": str(cache.shared_cache_dir()),
    "list other home": attempt(lambda: os.listdir(other)),
    "read other notebook": attempt(lambda: open(other + "/autoencoders/{notebook}").read()),
    "write shared": attempt(lambda: open(os.path.join(shared, "mine.pt"), "wb").close()),
    "delete shared": attempt(lambda: os.remove(os.path.join(shared, model))),
    "overwrite shared": attempt(lambda: open(os.path.join(shared, model), "r+b").close()),
}}))
"""


class StudentServer:
    """What lab_browser.open_notebook needs of a server: the URL of a notebook."""

    def __init__(self, base: str, name: str):
        self.base, self.name = base, name

    def url(self, notebook: str) -> str:
        return f"{self.base}/user/{self.name}/lab/tree/{notebook}?reset"


def test_a_class_of_three_on_the_hub(hub, students, shared_models, playwright_session, chromium,
                                     screenshot_dir):
    started = time.perf_counter()
    _, passwords = students
    names = list(passwords)
    shared_before = listing(shared_models)
    browser = playwright_session.chromium.launch(executable_path=chromium, headless=True,
                                                 args=lab_browser.CHROMIUM_ARGS)
    try:
        pages = {}
        for name in names:                                  # each student a browser of their own
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(180_000)
            page.goto(f"{hub.base}/hub/login")
            page.fill("#username_input", name)
            page.fill("#password_input", passwords[name])
            page.click("#login_submit")                     # the three servers start together
            pages[name] = page
        for name, page in pages.items():
            page.wait_for_url(f"**/user/{name}/lab/tree/autoencoders**")
            lab_browser.open_notebook(page, StudentServer(hub.base, name), f"autoencoders/{NOTEBOOK}",
                                      timeout_ms=180_000)
        logged_in = time.perf_counter()
        for page in pages.values():                         # Run All in the three at once
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        states = {name: None for name in names}
        deadline = time.time() + 900
        while not all(s and s["status"] == "idle" and (s["pending"] == 0 or s["errors"])
                      for s in states.values()):
            assert time.time() < deadline, f"cells still running after 900 s: {states}"
            time.sleep(1)
            hub.processes()                                 # note the kernels as they come
            states = {name: page.evaluate(lab_browser._RUN_STATE) for name, page in pages.items()}
        ran = time.perf_counter() - logged_in

        results, texts = {}, {}
        for i, (name, page) in enumerate(pages.items()):
            page.screenshot(path=screenshot_dir / f"hub-{i + 1}.png")
            errors = lab_browser.find_errors(page)
            assert not errors, f"{name}: cells failed on the hub:\n" + "\n\n".join(errors)[:6000]
            assert states[name]["pending"] == 0, f"{name}: cells did not run: {states[name]}"
            texts[name] = page.evaluate(OUTPUT_TEXT)
            other = f"/home/{names[(i + 1) % len(names)]}"
            code = PROBE.format(other=other, shared=str(shared_models), notebook=NOTEBOOK)
            results[name] = json.loads(page.evaluate(KERNEL_RUN, code).strip().splitlines()[-1])
        processes = hub.processes()
    finally:
        browser.close()

    for name in names:
        r, text = results[name], texts[name]
        home = Path(f"/home/{name}")
        assert r["user"] == name, f"{name}'s kernel runs as {r['user']}"
        # Its share: 1 CPU, and torch's threads within it, as the device line says.
        assert (r["CPU_LIMIT"], r["torch_threads"]) == ("1.0", CPU), r
        assert f"Device: cpu (1 CPU thread: CPU_LIMIT=1.0)" in text, text[:2000]
        assert int(r["MEM_LIMIT"]) == 2 * 1024**3, r
        # Every model loaded from the shared folder; nothing trained, nothing written there.
        assert r["shared"] == str(shared_models), r
        assert r["cache"] == str(home / ".cache/autoencoders-hands-on"), r     # the course folder is not theirs
        said = [line for line in text.splitlines() if line.startswith("Cache:")]
        assert said, f"{name}: notebook 01 said nothing of its models:\n{text[:3000]}"
        not_shared = [line for line in said if not line.startswith("Cache: loaded ")
                      or f" from {shared_models}/" not in line]
        assert not not_shared, f"{name}: models not loaded from {shared_models}: {not_shared}"
        own = [p for p in Path(r["cache"]).rglob("*") if p.is_file()] if Path(r["cache"]).exists() else []
        assert not own, f"{name}: files written into the student's own cache: {own}"
        # Privacy: the home is the student's alone; the shared folder is read only.
        assert (home.stat().st_mode & 0o777) == 0o700, oct(home.stat().st_mode)
        assert r["list other home"] == r["read other notebook"] == "PermissionError", r
        assert r["write shared"] == r["delete shared"] == r["overwrite shared"] == "PermissionError", r
        assert (home / "autoencoders" / NOTEBOOK).exists()
    assert listing(shared_models) == shared_before, "the shared model folder changed"

    # Listening: the hub, the proxy, the servers and the kernels on 127.0.0.1 only.
    listening = {}
    for p in processes:
        try:
            listening[p] = [c.laddr for c in p.net_connections("inet") if c.status == "LISTEN"]
        except Exception:                                   # gone in the meantime
            continue
    everywhere = {f"{p.pid} {p.name()}": [f"{a.ip}:{a.port}" for a in addresses if a.ip != "127.0.0.1"]
                  for p, addresses in listening.items()}
    assert not any(everywhere.values()), f"listening beyond 127.0.0.1: {everywhere}"
    proxy = [p for p in listening if "configurable-http-proxy" in " ".join(p.cmdline())]
    assert proxy and listening[proxy[0]], "the proxy was not found listening"
    assert listening[hub.hub], "the hub was not found listening"
    servers = [p for p in processes if "jupyterhub-singleuser" in " ".join(p.cmdline())]
    assert len(servers) == N_STUDENTS, [p.cmdline() for p in servers]
    print(f"\nhub: {N_STUDENTS} students ran {NOTEBOOK} at once in {ran:.0f} s "
          f"({time.perf_counter() - started:.0f} s with logging in); "
          f"{sum(map(len, listening.values()))} listening sockets, all on 127.0.0.1; "
          f"load {os.getloadavg()[0]:.1f}")
