"""`make pdf`: each notebook executed (instructor's edition) and printed to a PDF, for paper and
for presenting where JupyterLab cannot run.

    python tools/pdf.py                    # every notebook, into build/pdf/
    python tools/pdf.py --only 01,06       # some of them
    python tools/pdf.py --out DIR

nbconvert's webpdf exporter writes the HTML (its JupyterLab look) and prints it with Chromium.
Two things differ from `jupyter nbconvert --to webpdf`, so that it works offline with the
system's browser:
 - the browser is the system's Chromium ($CHROMIUM, else `chromium` on PATH; Debian's package):
   nbconvert can only launch Playwright's own download, which the course never fetches;
 - nothing comes from the internet: MathJax 3 comes from the sphinx-mathjax-offline package the
   website uses already, require.js and the widget manager (CDN scripts) are left out, and the
   browser refuses any request that is not a local file.
A widget has no kernel on paper: each one is printed as the picture it showed when the notebook
ran (its first setting), with a line naming its controls. Cells left out of the slides (the
worked solutions) are printed too: this is the instructor's edition.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import base64
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
OUT = REPO / "build" / "pdf"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def find_chromium() -> str:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    raise RuntimeError("no Chromium found: `sudo apt-get install chromium` (Debian; Ubuntu: "
                       "chromium-browser), or set CHROMIUM to a Chromium or Chrome executable")


def mathjax_script() -> Path:
    """MathJax 3 as the pip package sphinx-mathjax-offline ships it (the website's copy)."""
    from importlib.metadata import PackageNotFoundError, distribution
    try:
        script = Path(distribution("sphinx-mathjax-offline").locate_file(
            "sphinx-mathjax-offline/static/mathjax/tex-svg.js"))
    except PackageNotFoundError:
        script = None
    if script is None or not script.exists():
        raise RuntimeError("MathJax not found: install requirements.txt (sphinx-mathjax-offline)")
    return script


# MathJax 3, told about the notebooks' $...$ and $$...$$, before its script loads; SVG output
# needs no web fonts.
HEAD = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{% block extra_css %}<style>pre { white-space: pre-wrap; overflow-wrap: anywhere; }</style>{% endblock extra_css %}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}
<script>window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], processEscapes: true},
                          svg: {fontCache: 'global'}};</script>
<script src="{{ resources.course_mathjax }}"></script>
{%- endblock html_head_js_mathjax -%}
"""


def exporter():
    """nbconvert's WebPDFExporter, printing with the system's Chromium, offline (see above)."""
    import jinja2
    from nbconvert.exporters import WebPDFExporter

    class CoursePDF(WebPDFExporter):
        stats: dict = {}

        def _init_resources(self, resources):
            resources = super()._init_resources(resources)
            resources["course_mathjax"] = mathjax_script().as_uri()
            return resources

        def run_playwright(self, html):
            # In a thread of its own, with its own event loop: the caller's thread may be
            # running one already (a notebook's kernel, or a Playwright session in the tests),
            # and asyncio.run refuses to start a second loop there.
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as thread:
                return thread.submit(asyncio.run, self._print(html)).result()

        async def _print(self, html):
            from playwright.async_api import async_playwright
            with tempfile.TemporaryDirectory(prefix="ae-pdf-") as folder:
                page_file = Path(folder) / "notebook.html"
                page_file.write_text(html, encoding="utf-8")
                async with async_playwright() as playwright:
                    browser = await playwright.chromium.launch(
                        executable_path=find_chromium(),
                        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
                    page = await browser.new_page()
                    refused = []

                    async def only_local(route):
                        if route.request.url.startswith(("file:", "data:")):
                            await route.continue_()
                        else:
                            refused.append(route.request.url)
                            await route.abort()
                    await page.route("**/*", only_local)
                    await page.emulate_media(media="print")
                    await page.goto(page_file.as_uri(), wait_until="load")
                    await page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
                    await page.evaluate("MathJax.startup.promise")
                    self.stats = await page.evaluate(
                        "() => ({math: document.querySelectorAll('mjx-container').length,"
                        " images: document.querySelectorAll('img').length,"
                        " unrendered: (document.body.innerText.match(/\\$\\$|\\\\frac/g) || []).length})")
                    self.stats["refused"] = refused
                    pdf = await page.pdf(print_background=True, format="A4",
                                         margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
                    await browser.close()
            return pdf

    return CoursePDF(extra_loaders=[jinja2.DictLoader({"course-pdf.html.j2": HEAD})],
                     template_file="course-pdf.html.j2")


def widgets_as_pictures(nb) -> int:
    """Replace each widget's output by the picture it showed and a line naming its controls
    (from the widget state saved when it ran); returns how many were replaced."""
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for cell in nb.cells:
        outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if not view:
                outputs.append(output)
                continue
            pictures, controls = [], []
            collect(view["model_id"], state, pictures, controls)
            outputs += [nbformat.v4.new_output("display_data", data={"image/png": p}) for p in pictures[:1]]
            outputs.append(nbformat.v4.new_output("stream", name="stdout", text=(
                "[A widget, interactive in JupyterLab" + (f": {', '.join(controls)}" if controls else "")
                + ". Printed as it first appeared.]\n")))
            replaced += 1
        if cell.cell_type == "code":
            cell.outputs = outputs
    return replaced


def collect(model_id: str, state: dict, pictures: list, controls: list) -> None:
    """The PNG pictures and the controls (description = value) of a widget and its children."""
    model = state.get(model_id.removeprefix("IPY_MODEL_"))
    if not model:
        return
    values = model.get("state", {})
    if model.get("model_name") == "ImageModel":
        for buffer in model.get("buffers", []):
            if buffer.get("path") == ["value"]:
                pictures.append(buffer["data"] if buffer.get("encoding") == "base64"
                                else base64.b64encode(buffer["data"]).decode())
    elif values.get("description") and "value" in values:
        controls.append(f"{values['description'].rstrip(':')} = {values['value']}")
    for child in values.get("children", []):
        collect(child, state, pictures, controls)


def execute(path: Path, timeout: int = 900):
    """Run a copy of the notebook in a fresh kernel (notebooks/ is never written)."""
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="ae-pdf-run-") as folder:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                       resources={"metadata": {"path": folder}}).execute()
    return nb


def write_pdf(path: Path, out: Path) -> dict:
    """Execute the notebook, print it to out/<name>.pdf; returns what the page held."""
    nb = execute(path)
    widgets = widgets_as_pictures(nb)
    pdf = exporter()
    data, _ = pdf.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{path.stem}.pdf"
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, target)
    return dict(pdf.stats, widgets=widgets, file=target, pages=data.count(b"/Type /Page") - data.count(b"/Type /Pages"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated notebook numbers, e.g. 01,06")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    notebooks = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        notebooks = [p for p in notebooks if p.name[:2] in args.only.split(",")]
    for path in notebooks:
        print(f"{path.name} ...", flush=True)
        made = write_pdf(path, args.out)
        print(f"  {made['file']}: {made['pages']} pages, {made['math']} formulas, "
              f"{made['images']} pictures ({made['widgets']} widgets as pictures)", flush=True)
        if made["refused"]:
            print(f"  refused {len(made['refused'])} requests to other hosts: {made['refused'][:3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
