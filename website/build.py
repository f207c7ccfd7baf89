"""`make site`: the course as a static website in build/site/, readable with no Python.

1. Execute a copy of each notebook (notebooks/ is never written), with a hidden first cell
   that turns on helpers.web (alt text for figures, placeholders for widgets) and a hidden
   last cell that writes each widget's web form (helpers/web.py explains the three forms).
2. Prepare the executed copies for the web: widget outputs become their players, solution
   cells are folded, the ipywidgets state is dropped.
3. Build the pages with Sphinx + myst-nb (website/conf.py): a home page made of README's
   sections, one page per notebook, MathJax and every other asset inside build/site/.

    python -m website.build                 # everything
    python -m website.build --only 01,06    # some notebooks (quicker, for work on the site)
    python -m website.build --no-execute    # rebuild the pages from the last executed copies
    python -m website.build --edition student   # without the exercises' solutions, in build/site-student/
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from tools.assignments import student_source

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "build" / "site-src"        # the executed copies and the widgets' files
OUT = ROOT / "build" / "site"               # the website
EXTRA = SOURCE / "_extra"                   # copied as is into the site (the widgets' files)
MARKUP = SOURCE / "_widgets"                # each widget's HTML, and the decoders' test data
PLACEHOLDER = re.compile(r'<div class="aew-placeholder" data-aew="([\w-]+)"></div>')


class CurrentPythonKernel(KernelManager):
    """A kernel on this very interpreter (and so this venv), whatever kernelspecs exist."""

    def format_kernel_cmd(self, extra_arguments=None):
        return [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]


def widgets_dir(page: str) -> Path:
    """The folder of the site with a page's widget pictures; the page finds it at
    webwidgets/<page>/ (the notebooks' pages are in notebooks/)."""
    return EXTRA / "notebooks" / "webwidgets" / page


def execute(path: Path, page: str, timeout: int = 900) -> nbformat.NotebookNode:
    """Run a copy of the notebook with helpers.web on; return it with the hidden cells removed."""
    nb = nbformat.read(path, as_version=4)
    setup = nbformat.v4.new_code_cell(
        f"from helpers import web as _web\n_web.enable({page!r}, {str(widgets_dir(page))!r}, "
        f"'webwidgets/{page}', {str(MARKUP / page)!r})")
    export = nbformat.v4.new_code_cell("_web.export_widgets()")
    nb.cells = [setup] + nb.cells + [export]
    workdir = SOURCE / "notebooks"
    NotebookClient(nb, timeout=timeout, kernel_manager_class=CurrentPythonKernel,
                   resources={"metadata": {"path": str(workdir)}}, record_timing=False).execute()
    nb.cells = nb.cells[1:-1]
    return nb


def prepare(nb: nbformat.NotebookNode, page: str, edition: str = "instructor") -> nbformat.NotebookNode:
    """The executed notebook as the website shows it. The student edition shows the exercises'
    answer and check cells as students get them (tools/assignments.py), without their outputs."""
    nb.metadata.pop("widgets", None)       # ipywidgets' saved state: no use without a kernel
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if edition == "student" and "nbgrader" in cell.metadata:
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
                markup = (MARKUP / page / f"{match.group(1)}.html").read_text(encoding="utf-8")
                output["data"] = {"text/html": markup, "text/plain": data.get("text/plain", "")}
            outputs.append(output)
        cell.outputs = outputs
    return nb


def build_pages(strict: bool = True) -> None:
    """Sphinx, from build/site-src/ to build/site/; strict: any warning fails the build."""
    from sphinx.cmd.build import build_main
    shutil.copy(ROOT / "README.md", SOURCE / "README.md")
    shutil.copy(ROOT / "website" / "index.md", SOURCE / "index.md")
    if OUT.exists():
        shutil.rmtree(OUT)
    args = ["-b", "html", "-E", "-q", "-c", str(ROOT / "website"), "-D", f"html_extra_path={EXTRA}",
            str(SOURCE), str(OUT)]
    if build_main((["-W", "--keep-going"] if strict else []) + args) != 0:
        raise SystemExit("Sphinx failed: see the messages above")
    shutil.rmtree(OUT / ".doctrees", ignore_errors=True)


def use_edition(edition: str) -> None:
    """The student edition is built in folders of its own, beside the instructor's."""
    global SOURCE, OUT, EXTRA, MARKUP
    if edition == "student":
        SOURCE, OUT = ROOT / "build" / "site-student-src", ROOT / "build" / "site-student"
        EXTRA, MARKUP = SOURCE / "_extra", SOURCE / "_widgets"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated notebook numbers, e.g. 01,06")
    parser.add_argument("--no-execute", action="store_true",
                        help="reuse the executed copies in build/site-src/")
    parser.add_argument("--edition", choices=("instructor", "student"), default="instructor",
                        help="student: without the exercises' solutions (build/site-student/)")
    args = parser.parse_args(argv)
    use_edition(args.edition)
    started = time.perf_counter()
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        wanted = set(args.only.split(","))
        notebooks = [p for p in notebooks if p.name[:2] in wanted]
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    timings = {}
    if not args.no_execute:
        if not args.only and SOURCE.exists():
            shutil.rmtree(SOURCE)
        (SOURCE / "notebooks").mkdir(parents=True, exist_ok=True)
        for path in notebooks:
            page = path.name[:2]
            shutil.rmtree(widgets_dir(page), ignore_errors=True)
            shutil.rmtree(MARKUP / page, ignore_errors=True)
            began = time.perf_counter()
            print(f"executing {path.name} ...", flush=True)
            nb = prepare(execute(path, page), page, args.edition)
            nbformat.write(nb, SOURCE / "notebooks" / path.name)
            timings[page] = time.perf_counter() - began
            forms = json.loads((MARKUP / page / "widgets.json").read_text())
            print(f"  {timings[page]:.0f} s; widgets: " + (", ".join(
                f"{w['class']} ({w['form']}" + (f", {w['frames']} frames" if w["form"] == "frames" else "")
                + f", {w['seconds']} s)" for w in forms) or "none"), flush=True)
    began = time.perf_counter()
    print("building the pages ...", flush=True)
    build_pages(strict=not args.only)        # a partial build misses the other pages' links
    pages_time = time.perf_counter() - began
    total = time.perf_counter() - started
    print(f"site built in {total:.0f} s (notebooks {sum(timings.values()):.0f} s, pages "
          f"{pages_time:.0f} s): open {OUT / 'index.html'}")


if __name__ == "__main__":
    main()
