"""`make hub`'s two files, without starting a hub (tests/browser/test_hub.py starts one):
hub/start_student.py copies the student edition into a home without ever overwriting a
student's file, and hub/jupyterhub_config.py refuses to start, saying why and what to do, when
the machine is not ready for a class."""
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import AS_A_USER

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "hub/jupyterhub_config.py"

spec = importlib.util.spec_from_file_location("start_student", REPO / "hub/start_student.py")
start_student = importlib.util.module_from_spec(spec)
spec.loader.exec_module(start_student)


def test_the_student_edition_is_copied_and_a_students_work_never_overwritten(tmp_path):
    edition, home = tmp_path / "edition", tmp_path / "home" / "autoencoders"
    (edition / "images").mkdir(parents=True)
    for name, text in {"01.ipynb": "teacher 01", "02.ipynb": "teacher 02", "images/a.png": "png"}.items():
        (edition / name).write_text(text)
    home.mkdir(parents=True)
    (home / "01.ipynb").write_text("my work on 01")
    (home / "notes.txt").write_text("mine")
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not to be touched")
    (home / "02.ipynb").symlink_to(elsewhere)             # a student's link is theirs too

    copied = start_student.copy_new_files(edition, home)
    assert sorted(p.relative_to(home).as_posix() for p in copied) == ["images/a.png"]
    assert (home / "01.ipynb").read_text() == "my work on 01"
    assert (home / "notes.txt").read_text() == "mine"
    assert elsewhere.read_text() == "not to be touched"
    assert (home / "images/a.png").read_text() == "png"

    (home / "01.ipynb").unlink()                          # deleted: it comes back fresh
    assert start_student.copy_new_files(edition, home) == [home / "01.ipynb"]
    assert (home / "01.ipynb").read_text() == "teacher 01"
    assert start_student.copy_new_files(edition, home) == []


def load_config(env: dict, prefix: tuple = ()) -> subprocess.CompletedProcess:
    """Run the hub's configuration as JupyterHub would (with a get_config), in a fresh Python
    (after `prefix`, e.g. a way to run it as another user)."""
    code = ("from traitlets.config import Config\n"
            f"exec(compile(open({str(CONFIG)!r}).read(), {str(CONFIG)!r}, 'exec'), "
            f"{{'get_config': Config, '__file__': {str(CONFIG)!r}}})\n")
    return subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


def test_the_hub_refuses_to_start_when_not_root():
    """As a user (a user namespace, or uid 65534 through setpriv; conftest.AS_A_USER)."""
    ways = [tuple(w) for w in AS_A_USER if shutil.which(w[0]) and
            subprocess.run([*w, sys.executable, "-c", "pass"], capture_output=True).returncode == 0]
    if os.geteuid() == 0 and not ways:
        pytest.skip("cannot run Python as an unprivileged user here")
    result = load_config({}, ways[0] if os.geteuid() == 0 else ())
    assert result.returncode != 0
    assert "the hub must run as root" in result.stderr and "sudo make hub" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the other checks come after the root check")
def test_the_hub_refuses_a_missing_group_a_missing_student_edition_and_a_python_students_cannot_run(tmp_path):
    result = load_config({"AE_HUB_GROUP": "no-such-group-of-students", "AE_HUB_STATE": str(tmp_path)})
    assert result.returncode != 0
    assert "there is no group 'no-such-group-of-students'" in result.stderr
    assert "groupadd no-such-group-of-students" in result.stderr
    empty = tmp_path / "edition"
    empty.mkdir()
    result = load_config({"AE_HUB_GROUP": "root", "AE_HUB_STUDENT_EDITION": str(empty),
                          "AE_HUB_STATE": str(tmp_path)})
    assert result.returncode != 0
    assert f"no student edition in {empty}" in result.stderr and "make student" in result.stderr
    python = Path(os.path.realpath(sys.executable))
    closed = [p for p in python.parents if not p.stat().st_mode & 0o001]
    if closed:                                  # pyenv's Python under /root, say
        edition = tmp_path / "student"
        edition.mkdir()
        (edition / "01.ipynb").write_text("{}")
        result = load_config({"AE_HUB_GROUP": "root", "AE_HUB_STUDENT_EDITION": str(edition),
                              "AE_HUB_STATE": str(tmp_path)})
        assert result.returncode != 0
        assert f"the students cannot run the course: {closed[-1]} " in result.stderr
        assert "make install PYTHON=/usr/bin/python3" in result.stderr
