"""`make site` (website/build.py) under ordinary accidents, on a tiny course of its own (a README
and one small notebook in a temporary folder, built with the real website/): the site is built
in a temporary folder and swapped in only on success, so a notebook that raises, a Sphinx
warning, a closed terminal or a kill -9 leave the previous site as it was; a notebook that
raises is named in one line before its traceback; MPLBACKEND=Agg does not stop the build."""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
KATEX = REPO / "website" / "node_modules" / "katex"

README = """# A tiny course

Built by the tests of `make site`.

## Two commands

Nothing to run.

## Data

Not included in the home page.
"""


def notebook(*extra_cells) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 01 · A tiny notebook\n\n**Learning goals.** After this notebook "
                                      "you can\n- draw a line;\n- square $x$: $x^2$.\n\n## A figure"),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1], [0, 1])\n"
                                  "plt.title('a line')\nplt.show()"),
        *extra_cells])


def make_course(folder: Path, nb) -> Path:
    (folder / "notebooks").mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text(README)
    nbformat.write(nb, folder / "notebooks" / "01_tiny.ipynb")
    return folder


def build(course: Path, *args, env=None, **kwargs):
    environment = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "website.build", "--course", str(course), *args],
                          cwd=REPO, env=environment, capture_output=True, text=True, timeout=600, **kwargs)


def snapshot(folder: Path) -> dict:
    """Every file under folder with its SHA-256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(course: Path) -> list:
    build_dir = course / "build"
    return sorted(str(p.relative_to(build_dir)) for p in build_dir.iterdir()
                  if p.name not in ("site", "site-src")) + \
        [".doctrees"] * (build_dir / "site" / ".doctrees").exists()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A tiny course built once, with MPLBACKEND=Agg in the environment (usual on servers,
    where it crashed the build): its figure is on the page, with its text alternative."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed: `make site` needs it (KaTeX typesets the maths)")
    if not (KATEX / "package.json").exists():
        pytest.fail("KaTeX is missing: run `npm ci --prefix website` (make site does)", pytrace=False)
    course = make_course(tmp_path_factory.mktemp("course"), notebook())
    done = build(course, env={"MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return course


def test_mplbackend_agg_does_not_stop_the_build(built):
    page = (built / "build" / "site" / "notebooks" / "01_tiny.html").read_text()
    assert 'alt="Figure: line plot' in page and "a line" in page
    assert 'class="katex"' in page and '<meta name="description" content="Learning goals.' in page
    assert leftovers(built) == []


def test_a_raising_notebook_is_named_in_one_line_and_the_previous_site_stays(built):
    before = snapshot(built / "build")
    nbformat.write(notebook(nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0")),
                   built / "notebooks" / "01_tiny.ipynb")
    try:
        done = build(built)
    finally:
        nbformat.write(notebook(), built / "notebooks" / "01_tiny.ipynb")
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    message = "notebook 01, cell 4 failed: ZeroDivisionError: division by zero"
    assert message in lines, done.stderr[-2000:]
    first = lines.index(message)         # before it, at most the kernel's own start-up notices
    assert not [line for line in lines[:first] if "Error" in line or "Traceback" in line], done.stderr[-2000:]
    assert "Traceback" not in done.stdout and "The previous site" in done.stderr
    assert snapshot(built / "build") == before, "the failed build changed build/"
    assert leftovers(built) == []


def test_a_sphinx_warning_leaves_the_previous_site(built):
    before = snapshot(built / "build")
    readme = (built / "README.md").read_text()
    (built / "README.md").write_text(readme.replace("Nothing to run.", "See [the missing page](missing.md)."))
    try:
        done = build(built, "--no-execute")
    finally:
        (built / "README.md").write_text(readme)
    assert done.returncode != 0 and "Sphinx failed" in done.stderr, done.stderr[-2000:]
    assert snapshot(built / "build") == before
    assert leftovers(built) == []


@pytest.mark.parametrize("how", ["closed terminal", "kill -9"])
def test_an_interrupted_build_leaves_the_previous_site(built, how):
    """A closed terminal (SIGHUP) cleans up at once; a kill -9 cannot, so the next build
    removes what it left. Either way build/site is never half written."""
    before = snapshot(built / "build" / "site")
    process = subprocess.Popen([sys.executable, "-m", "website.build", "--course", str(built)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 300
    while not list((built / "build").glob(".site-tmp-*/site-src/notebooks")) and time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        time.sleep(0.2)
    time.sleep(1.0)                       # the notebook's kernel is running now
    os.killpg(process.pid, signal.SIGHUP if how == "closed terminal" else signal.SIGKILL)
    process.wait(60)
    assert snapshot(built / "build" / "site") == before
    if how == "closed terminal":
        assert leftovers(built) == []
    else:
        assert leftovers(built), "kill -9 left nothing to clean? (the test did not interrupt a build)"
        done = build(built, "--no-execute")
        assert done.returncode == 0, done.stderr[-2000:]
        assert leftovers(built) == []
