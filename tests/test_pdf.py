"""`make pdf` (tools/pdf.py) on a small notebook: executed, printed by the system's Chromium
through nbconvert's webpdf exporter, with its formulas typeset by the local MathJax, its figure,
and its widget printed as the picture it showed; no request leaves the machine."""
import nbformat
import pytest

from tools import pdf

pytestmark = pytest.mark.browser          # needs Chromium, like the browser tests


def test_a_notebook_prints_with_formulas_figures_and_widgets(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A small notebook\n\nInline $z = \\mu + \\sigma\\varepsilon$, "
                                      "and on its own line:\n\n$$\\mathrm{KL}(q\\,\\|\\,p) = \\sum_i q_i \\log\\frac{q_i}{p_i}$$"),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nprint('printed by the kernel')\n"
                                  "plt.plot([0, 1, 4, 9]); plt.show()"),
        nbformat.v4.new_code_cell("import io\nimport ipywidgets as w\nfig, ax = plt.subplots(figsize=(3, 2))\n"
                                  "ax.plot([1, 2, 3]); png = io.BytesIO(); fig.savefig(png, format='png'); plt.close(fig)\n"
                                  "w.VBox([w.FloatSlider(description='z1', value=0.5), w.Image(value=png.getvalue())])"),
    ]
    path = tmp_path / "00_small.ipynb"
    nbformat.write(nb, path)
    made = pdf.write_pdf(path, tmp_path / "pdf")
    data = (tmp_path / "pdf" / "00_small.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and made["pages"] >= 1
    assert made["math"] == 2 and made["unrendered"] == 0, "both formulas typeset by MathJax"
    assert made["images"] == 2 and made["widgets"] == 1, "the figure and the widget's picture"
    assert made["refused"] == [], "the page asked for something outside the machine"
    assert nbformat.read(path, as_version=4) == nb, "the notebook itself is not written"


def test_it_prints_where_an_event_loop_runs_already(tmp_path):
    """As in a notebook's kernel, or after the browser tests' Playwright session in this process:
    the exporter must not try to start a second event loop in the caller's thread. The loop is
    started in a thread of the test's own, which has none yet whatever ran before."""
    import asyncio
    import concurrent.futures

    async def inside_a_loop():
        test_a_notebook_prints_with_formulas_figures_and_widgets(tmp_path)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, inside_a_loop()).result()
