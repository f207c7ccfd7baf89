"""JupyterHub for a class on the teacher's own server: `sudo make hub` (README, "Teaching on
JupyterHub").

- Who: the machine's own users in one Unix group (default `students`), who log in with their
  own passwords (PAM, JupyterHub's default). The teacher creates them; the hub creates nobody.
- Where: the hub and its proxy on 127.0.0.1 only (port 8000); put a web server with TLS in
  front of it to open it to the room. Each student's JupyterLab runs as that student
  (LocalProcessSpawner), from the course's .venv, in the student's home.
- The course: on every start the student edition is copied into ~/autoencoders/, file by
  file, and a file already there is never overwritten (hub/start_student.py, run as the
  student). The home is made private (mode 700): no student reads another's work.
- Models: each kernel loads them from the shared folder the teacher unpacked the class model
  pack into (AE_SHARED_CACHE_DIR, read only), and trains only what is missing there, into the
  student's own cache (~/.cache/autoencoders-hands-on: the course folder is not theirs to write).
- A share of the machine: `cpu_limit` and `mem_limit` per student. LocalProcessSpawner hands
  them to the server as CPU_LIMIT and MEM_LIMIT and does not enforce them; the course's kernels
  keep their threads within CPU_LIMIT (helpers/threads.py). To enforce them, use The Littlest
  JupyterHub (systemd) or Kubernetes.

Settings, as environment variables (the Makefile's `make hub` passes its own variables on):
    AE_HUB_PORT              8000
    AE_HUB_GROUP             students
    AE_HUB_ADMINS            teachers' user names, comma-separated (none by default)
    AE_HUB_CPU               1        CPUs per student
    AE_HUB_MEMORY            2G       memory per student
    AE_HUB_STUDENT_EDITION   build/student/notebooks (made by `make student`)
    AE_SHARED_CACHE_DIR      /srv/autoencoders/models (`make unpack PACK=... CACHE=...`)
    AE_HUB_STATE             build/hub: the hub's database, cookie secret and log
"""
import grp
import os
import stat
import sys
from pathlib import Path

HUB = Path(__file__).resolve().parent
REPO = HUB.parent
VENV = Path(sys.prefix)                     # the course's .venv, which runs this hub

PORT = int(os.environ.get("AE_HUB_PORT") or 8000)
GROUP = os.environ.get("AE_HUB_GROUP") or "students"
ADMINS = {name for name in (os.environ.get("AE_HUB_ADMINS") or "").split(",") if name}
CPU = float(os.environ.get("AE_HUB_CPU") or 1)
MEMORY = os.environ.get("AE_HUB_MEMORY") or "2G"
STUDENT_EDITION = Path(os.environ.get("AE_HUB_STUDENT_EDITION") or REPO / "build/student/notebooks").resolve()
SHARED_MODELS = Path(os.environ.get("AE_SHARED_CACHE_DIR") or "/srv/autoencoders/models")
STATE = Path(os.environ.get("AE_HUB_STATE") or REPO / "build/hub").resolve()
PROXY = HUB / "node_modules/.bin/configurable-http-proxy"


def refuse(problem: str, fix: str) -> None:
    sys.exit(f"make hub: {problem}.\n  {fix}")


def closed_to_others(path: Path) -> list[Path]:
    """The folders on the way to `path` that other users may not enter (no o+x)."""
    return [p for p in [path, *path.parents] if p.is_dir() and not p.stat().st_mode & stat.S_IXOTH]


# --- checks: each problem named, with what to do ---------------------------------------------
if os.geteuid() != 0:
    refuse("the hub must run as root, to start each student's JupyterLab as that student",
           "Run `sudo make hub`.")
try:
    grp.getgrnam(GROUP)
except KeyError:
    refuse(f"there is no group {GROUP!r} of students",
           f"Create it and the students: `groupadd {GROUP}`, then for each student "
           f"`useradd -m -G {GROUP} NAME && passwd NAME` (or choose the group: AE_HUB_GROUP=...).")
if not STUDENT_EDITION.is_dir() or not any(STUDENT_EDITION.glob("*.ipynb")):
    refuse(f"no student edition in {STUDENT_EDITION}",
           "Make it with `make student`, or name its folder with AE_HUB_STUDENT_EDITION=....")
# Each student's server runs the course's .venv, so its Python (the interpreter it links to,
# e.g. pyenv's under /root) and the course's folder must be open to every user.
for needed in (VENV / "bin", Path(os.path.realpath(VENV / "bin/python")), Path(sys.base_prefix) / "lib", REPO):
    if closed := closed_to_others(needed):
        refuse(f"the students cannot run the course: {closed[0]} (on the way to {needed}) is "
               f"closed to other users",
               "Install the course where every user can read it, with a Python every user can run, "
               "e.g. `git clone ... /opt/autoencoders && cd /opt/autoencoders && "
               "make install PYTHON=/usr/bin/python3`.")
if not PROXY.exists():
    refuse(f"JupyterHub's proxy is missing ({PROXY})", "Install it with `npm ci --prefix hub`.")
if not SHARED_MODELS.is_dir():
    print(f"make hub: no shared model folder {SHARED_MODELS}: every student's kernel trains "
          f"its own models. Unpack the class model pack there first: "
          f"`sudo make unpack PACK=file CACHE={SHARED_MODELS}`.")
STATE.mkdir(parents=True, exist_ok=True, mode=0o700)

c = get_config()  # noqa: F821 (JupyterHub runs this file with get_config defined)

# The hub, its proxy and the proxy's API on 127.0.0.1 only; its state in a folder of its own.
c.JupyterHub.bind_url = f"http://127.0.0.1:{PORT}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{PORT + 1}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.command = [str(PROXY)]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

# Who may log in: the students' group, with their own passwords (PAM); the teachers as admins.
c.Authenticator.allowed_groups = {GROUP}
c.Authenticator.admin_users = ADMINS
c.Authenticator.allowed_users = ADMINS

# Each student's JupyterLab: as that student, from the course's .venv, in the student's home,
# after hub/start_student.py has copied in what is new of the student edition.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV / "bin/python"), str(HUB / "start_student.py"),
                 str(VENV / "bin/jupyterhub-singleuser")]
c.Spawner.default_url = "/lab/tree/autoencoders"
c.Spawner.cpu_limit = CPU
c.Spawner.mem_limit = MEMORY
c.Spawner.environment = {"AE_STUDENT_EDITION": str(STUDENT_EDITION),
                         "AE_SHARED_CACHE_DIR": str(SHARED_MODELS)}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

print(f"make hub: http://127.0.0.1:{PORT}/ for the group {GROUP!r}; {CPU:g} CPU and {MEMORY} "
      f"per student; student edition {STUDENT_EDITION}; shared models {SHARED_MODELS}; "
      f"state {STATE}")
