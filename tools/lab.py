"""Start JupyterLab for the course and print the link that logs in: what `make lab` runs.

    python -I tools/lab.py [--port=8888] [JupyterLab options, e.g. --no-browser]

JupyterLab listens on 127.0.0.1 only (nobody else on the network can reach it) and wants a
token: a fresh random one each time, handed over in the environment variable JUPYTER_TOKEN,
which only your own user can read, not on the command line, which every user of the machine
can see. JupyterLab then prints its link with the token hidden ("?token=..."), so this script
waits until the server answers and prints the full link itself. Open it if no browser window
appears (WSL, a remote machine, --no-browser). Ctrl-C stops the server and its kernels.

Run it as a script (`python -I tools/lab.py`): it needs nothing from the course's helpers
(which load PyTorch, taking seconds), and -I keeps tools/ itself off the import path, so no
module there can stand in for one of Python's.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888, help="first port to try (default 8888)")
    parser.add_argument("--notebook-dir", default=str(NOTEBOOKS),
                        help="the folder to serve (default: the course's notebooks/)")
    args, lab_args = parser.parse_known_args(argv)
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    command = [sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={args.port}", f"--ServerApp.root_dir={Path(args.notebook_dir).resolve()}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")     # containers and CI run as root; Jupyter asks for this
    # Its own process group: Ctrl-C reaches this script only, which then stops the server with
    # SIGTERM, its clean shutdown (a Ctrl-C would make it ask "Shut down? (y/[n])" first).
    server = subprocess.Popen(command + lab_args, env=dict(os.environ, JUPYTER_TOKEN=token),
                              stdin=subprocess.DEVNULL, start_new_session=True)
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, _raise_keyboard_interrupt)
    try:
        url = wait_until_listening(server, token)
        if url is not None:
            print_link(f"{url}lab?token={token}")
        return server.wait()
    except KeyboardInterrupt:
        print("\nStopping JupyterLab ...", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)    # a second Ctrl-C must not orphan it
        stop(server)


def wait_until_listening(server: subprocess.Popen, token: str) -> str | None:
    """The server's address once it answers an authenticated request, or None if it exited.
    Its port and address are read from the file it writes when it listens (jpserver-PID.json):
    it moves to the next free port when the one asked for is taken."""
    from jupyter_core.paths import jupyter_runtime_dir
    info_file = Path(jupyter_runtime_dir()) / f"jpserver-{server.pid}.json"
    while server.poll() is None:
        try:
            url = json.loads(info_file.read_text())["url"]
            request = urllib.request.Request(f"{url}api/status",
                                             headers={"Authorization": f"token {token}"})
            with urllib.request.urlopen(request, timeout=2):
                return url
        except (OSError, ValueError, KeyError):      # not written or not listening yet
            time.sleep(0.25)
    return None


def print_link(link: str) -> None:
    rule = "=" * max(72, len(link) + 8)
    print(f"\n{rule}\n  The course is running. Open this link in your browser (it logs you in):\n\n"
          f"      {link}\n\n  Stop the server with Ctrl-C (your notebooks' kernels stop too).\n"
          f"{rule}\n", flush=True)


def stop(server: subprocess.Popen) -> None:
    """SIGTERM: the server shuts its kernels down and removes its files; kill if it hangs."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _raise_keyboard_interrupt(_signum, _frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
