"""`make site`: the course as a static website in build/site/, readable with no Python.

1. Execute a copy of each notebook (notebooks/ is never written), with a hidden first cell
   that turns on website/export.py (alt text for figures, placeholders for widgets) and a
   hidden last cell that writes each widget's web form (export.py explains the forms).
2. Prepare the executed copies for the web: widget outputs become their players, solution
   cells are folded, the ipywidgets state is dropped.
3. Build the pages with Sphinx + myst-nb (website/conf.py): a home page made of README's
   sections, one page per notebook, the maths rendered into the pages, every asset inside
   build/site/.

Everything is built in a temporary folder beside build/site/ and swapped in only when every
step succeeded: a notebook that raises, a Sphinx warning, Ctrl-C or a closed terminal leave
the previous build/site/ (and build/site-src/, the executed copies) exactly as they were. A
build killed outright (kill -9) leaves its temporary folder, which the next build removes.

    python -m website.build                 # everything
    python -m website.build --only 01,06    # execute some notebooks again, reuse the others'
                                            # last executed copies (quicker, for work on the site)
    python -m website.build --no-execute    # rebuild the pages from the last executed copies
    python -m website.build --edition student   # without the exercises' solutions, in build/site-student/
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tools.assignments import student_source

WEBSITE = Path(__file__).resolve().parent       # conf.py, index.md, static/, export.py
ROOT = WEBSITE.parent                            # the course: README.md, notebooks/, build/
PLACEHOLDER = re.compile(r'<div class="aew-placeholder" data-aew="([\w-]+)"></div>')
TEMPORARY = ".site-tmp-"                         # build/.site-tmp-<pid>/: a build under way


def _shown(value) -> str:
    return f"{value:.5f}" if isinstance(value, float) else str(value)


class CurrentPythonKernel(KernelManager):
    """A kernel on this very interpreter (and so this venv), whatever kernelspecs exist."""

    def format_kernel_cmd(self, extra_arguments=None):
        return [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]


@dataclass
class Folders:
    """Where one build writes: `source`, the executed copies and the widgets' files (widgets
    under _extra/, copied as they are into the site; each widget's HTML and the tests' check
    data under _widgets/); `site`, the website; `doctrees`, Sphinx's cache. The student edition
    is built in folders of its own (site-student/), beside the instructor's."""
    top: Path
    edition: str = "instructor"

    @property
    def name(self) -> str:
        return "site" if self.edition == "instructor" else f"site-{self.edition}"

    @property
    def source(self) -> Path:
        return self.top / f"{self.name}-src"

    @property
    def site(self) -> Path:
        return self.top / self.name

    @property
    def doctrees(self) -> Path:
        return self.top / "doctrees"

    @property
    def extra(self) -> Path:
        return self.source / "_extra"

    @property
    def markup(self) -> Path:
        return self.source / "_widgets"

    def widgets(self, page: str) -> Path:
        """The folder of the site with a page's widget pictures and networks; the page finds it
        at webwidgets/<page>/ (the notebooks' pages are in notebooks/)."""
        return self.extra / "notebooks" / "webwidgets" / page


class NotebookFailed(Exception):
    """A notebook raised while it was executed for the site."""


def execute(path: Path, page: str, folders: Folders, timeout: int = 900) -> nbformat.NotebookNode:
    """Run a copy of the notebook with website.export on; return it with the hidden cells removed."""
    nb = nbformat.read(path, as_version=4)
    setup = nbformat.v4.new_code_cell(
        f"from website import export as _export\n_export.enable({page!r}, {str(folders.widgets(page))!r}, "
        f"'webwidgets/{page}', {str(folders.markup / page)!r})")
    export = nbformat.v4.new_code_cell("_export.export_widgets()")
    nb.cells = [setup] + nb.cells + [export]
    workdir = folders.source / "notebooks"
    try:
        NotebookClient(nb, timeout=timeout, kernel_manager_class=CurrentPythonKernel,
                       resources={"metadata": {"path": str(workdir)}}, record_timing=False).execute()
    except CellExecutionError as error:
        failed = next((n for n, cell in enumerate(nb.cells) if any(
            o.get("output_type") == "error" for o in cell.get("outputs", []))), None)
        what = ("its set-up for the site" if failed == 0 else
                "exporting its widgets" if failed == len(nb.cells) - 1 else
                f"cell {failed}" if failed is not None else "a cell")
        raise NotebookFailed(f"notebook {page}, {what} failed: {error.ename}: {error.evalue}", error) from None
    nb.cells = nb.cells[1:-1]
    return nb


def prepare(nb: nbformat.NotebookNode, page: str, folders: Folders) -> nbformat.NotebookNode:
    """The executed notebook as the website shows it. The student edition shows the exercises'
    answer and check cells as students get them (tools/assignments.py), without their outputs."""
    nb.metadata.pop("widgets", None)       # ipywidgets' saved state: no use without a kernel
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if folders.edition == "student" and "nbgrader" in cell.metadata:
            cell.source, cell.outputs = student_source(cell.source), []
            cell.metadata.pop("tags", None)
            continue
        tags = cell.metadata.get("tags", [])
        if "solution" in tags:
            cell.metadata["tags"] = tags + ["hide-input"]
            cell.metadata["mystnb"] = {"code_prompt_show": "Show the worked solution",
                                       "code_prompt_hide": "Hide the worked solution"}
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                match = PLACEHOLDER.search(data.get("text/html", ""))
                if not match:          # a widget that is not the course's (none so far): drop it
                    print(f"  {page}: leaving out a widget output of cell {cell.get('id')}")
                    continue
                markup = (folders.markup / page / f"{match.group(1)}.html").read_text(encoding="utf-8")
                output["data"] = {"text/html": markup, "text/plain": data.get("text/plain", "")}
            outputs.append(output)
        cell.outputs = outputs
    return nb


def build_pages(course: Path, folders: Folders, strict: bool = True) -> None:
    """Sphinx, from folders.source to folders.site; strict: any warning fails the build."""
    from sphinx.cmd.build import build_main
    shutil.copy(course / "README.md", folders.source / "README.md")
    shutil.copy(WEBSITE / "index.md", folders.source / "index.md")
    args = ["-b", "html", "-E", "-q", "-c", str(WEBSITE), "-d", str(folders.doctrees),
            "-D", f"html_extra_path={folders.extra}", str(folders.source), str(folders.site)]
    if build_main((["-W", "--keep-going"] if strict else []) + args) != 0:
        raise SystemExit("Sphinx failed: see the messages above. The previous site is left as it was.")
    # The page's download button offers the notebook as the course ships it (no outputs, a tenth
    # of the size): the outputs are on the page, and a downloaded notebook is run in JupyterLab.
    for copy in (folders.site / "_sources" / "notebooks").glob("*.ipynb"):
        original = course / "notebooks" / copy.name
        if original.exists():
            shutil.copy(original, copy)


def remove_stale(build: Path) -> None:
    """Remove the temporary folders of builds whose process is gone (killed outright)."""
    for folder in build.glob(TEMPORARY + "*"):
        pid = folder.name[len(TEMPORARY):].split("-")[0]
        if not (pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid))):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def swap_in(pairs: list[tuple[Path, Path]]) -> None:
    """Put each finished folder `new` where `old` is, the old ones removed after; no signal
    can stop it halfway."""
    stopping = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    signal.pthread_sigmask(signal.SIG_BLOCK, stopping)
    try:
        retired = []
        for new, old in pairs:
            retired.append(old.with_name(f"{TEMPORARY}{os.getpid()}-old-{old.name}"))
            if old.exists():
                old.rename(retired[-1])
            new.rename(old)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)
    for folder in retired:
        shutil.rmtree(folder, ignore_errors=True)


_building: list[Path] = []      # the temporary folder of the build under way


def _stop_on_signal(signum, frame):
    """A closed terminal (SIGHUP) or a kill (SIGTERM): remove the temporary folder and stop at
    once. (An exception raised here could be swallowed by whatever code the signal interrupts.)
    The notebook's kernel stops by itself when it sees its parent gone; KaTeX's server (a Node
    process of Sphinx's) is stopped here."""
    katex = sys.modules.get("sphinxcontrib.katex")
    server = getattr(getattr(katex, "KaTeXServer", None), "katex_server", None)
    try:
        if server is not None:
            server.terminate()
    except Exception:
        pass
    for folder in _building:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\nstopped by signal {signum}: the previous site is left as it was", file=sys.stderr, flush=True)
    os._exit(128 + signum)


def _on_signals() -> None:
    """(Again) our handler for SIGHUP and SIGTERM: executing a notebook (nbclient) replaces
    the handler of SIGTERM while it runs, and leaves the default one."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated notebook numbers, e.g. 01,06")
    parser.add_argument("--no-execute", action="store_true",
                        help="reuse the executed copies in build/site-src/")
    parser.add_argument("--course", type=Path, default=ROOT,
                        help="the course's folder: README.md, notebooks/, and build/ where the site "
                             "goes (default: this repository)")
    parser.add_argument("--edition", choices=("instructor", "student"), default="instructor",
                        help="student: without the exercises' solutions (build/site-student/)")
    args = parser.parse_args(argv)
    course = args.course.resolve()
    build = course / "build"
    final = Folders(build, args.edition)
    started = time.perf_counter()
    notebooks = sorted((course / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        wanted = set(args.only.split(","))
        notebooks = [p for p in notebooks if p.name[:2] in wanted]
    reuse = args.only or args.no_execute
    if args.no_execute and not final.source.is_dir():
        raise SystemExit(f"--no-execute: there are no executed copies in {final.source}: run "
                         f"`make site` once first")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

    build.mkdir(parents=True, exist_ok=True)
    remove_stale(build)
    work = Folders(build / f"{TEMPORARY}{os.getpid()}", args.edition)
    _building.append(work.top)
    _on_signals()
    timings = {}
    try:
        if reuse and final.source.is_dir():
            shutil.copytree(final.source, work.source, symlinks=True)
        (work.source / "notebooks").mkdir(parents=True, exist_ok=True)
        if not args.no_execute:
            for path in notebooks:
                page = path.name[:2]
                shutil.rmtree(work.widgets(page), ignore_errors=True)
                shutil.rmtree(work.markup / page, ignore_errors=True)
                began = time.perf_counter()
                print(f"executing {path.name} ...", flush=True)
                _on_signals()
                try:
                    nb = prepare(execute(path, page, work), page, work)
                except NotebookFailed as failure:
                    message, error = failure.args
                    print(message, file=sys.stderr, flush=True)       # one line, before the traceback
                    print(str(error), file=sys.stderr, flush=True)
                    raise SystemExit(f"{message}\nThe previous site in {final.site} is left as it was.") from None
                nbformat.write(nb, work.source / "notebooks" / path.name)
                timings[page] = time.perf_counter() - began
                forms = json.loads((work.markup / page / "widgets.json").read_text())
                print(f"  {timings[page]:.0f} s; widgets: " + (", ".join(
                    f"{w['class']} ({w['form']}" + (f", {w['frames']} frames" if w["form"] == "frames" else "")
                    + f", {w['seconds']} s)" for w in forms) or "none"), flush=True)
                for w in forms:               # how each network's weights travel (export.py)
                    for name, net in w.get("networks", {}).items():
                        print(f"    {w['id']} {name}: {'/'.join(net['layers'])}, {net['bytes'] / 1e6:.2f} MB "
                              f"(float16: {net['float16_bytes'] / 1e6:.2f} MB); largest difference on the "
                              f"check data: {_shown(net['difference'])}; " + (
                                  "the formats another widget of the page chose" if net["shared"] else
                                  "layers left float16 would make " + (", ".join(map(_shown, net["refused"])) or "-")),
                              flush=True)
        began = time.perf_counter()
        print("building the pages ...", flush=True)
        # strict (a warning fails) when every notebook has its executed copy: with --only, the
        # others' come from the last build, if there was one
        executed = {p.name for p in (work.source / "notebooks").glob("*.ipynb")}
        complete = all(p.name in executed for p in (course / "notebooks").glob("[0-9][0-9]_*.ipynb"))
        if not complete:
            print("  (some notebooks have no executed copy yet: their links are left broken, "
                  "and Sphinx's warnings do not stop this build)", flush=True)
        _on_signals()
        build_pages(course, work, strict=complete)
        pages_time = time.perf_counter() - began
        swap_in([(work.source, final.source), (work.site, final.site)])
    finally:
        shutil.rmtree(work.top, ignore_errors=True)
    total = time.perf_counter() - started
    print(f"site built in {total:.0f} s (notebooks {sum(timings.values()):.0f} s, pages "
          f"{pages_time:.0f} s): open {final.site / 'index.html'}")


if __name__ == "__main__":
    main()
