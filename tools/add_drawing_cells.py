"""Add the "Draw a digit" section to notebooks 01, 02 and 06, or bring it up to date.

    python tools/add_drawing_cells.py            # all three notebooks
    python tools/add_drawing_cells.py --check    # exit 1 if a notebook is not up to date

The section is inserted just before the cell that opens "## Summary" and numbered after the
last "## N." heading before it. Its cells carry the tag `draw-a-digit`: running the script
again replaces them (same ids), so it can be re-applied after other edits to the notebooks.
When the "## Summary" heading shares a cell with text before it, the cell is split there (the
text keeps the cell's id; the summary gets the id `<id>-summary`). Outputs are cleared.
"""
from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TAG = "draw-a-digit"

PAD_HOWTO = ("Draw on the black pad with the mouse held down, or with a finger on a touch "
             "screen; **pen**, **eraser** and **clear** are beside it. When you lift the pen, the "
             "drawing is prepared the way the MNIST digits were (its ink scaled to fit a 20 × 20 "
             "box, keeping its shape, then placed so that its centre of mass is at the centre of the "
             "28 × 28 frame: `helpers.drawing.prepare_digit`); the small image beside the pad is "
             "what the models see.")
NO_MOUSE = ("No mouse at hand (or reading this without a browser)? The next cell puts a "
            "held-out digit on the pad from code, as if drawn: it goes through the same steps. "
            "You can then erase parts of it, or add strokes.")

SECTIONS = {
    "01_vanilla_autoencoder.ipynb": dict(
        title="Draw a digit",
        text=("Put your own handwriting into the code space. " + PAD_HOWTO + " The 2-D "
              "autoencoder of section 4 encodes it: the cross marks its code among the codes of "
              "the training digits, next to its reconstruction and the five training digits "
              "whose codes are nearest (Euclidean distance between codes).\n\n"
              "Try a tidy digit, then a sloppy one, then a shape that is no digit at all: where "
              "does each code land, and what does the decoder make of it?\n\n" + NO_MOUSE),
        widget=("drawn_code = widgets.DrawnCode(ae2, codes2_train, y_train, x_train, data.class_names)\n"
                "drawn_code"),
        demo=("drawn_code.pad.load_digit(x_test[0])\n"
              "print(drawn_code.result.value)")),
    "02_denoising_autoencoder.ipynb": dict(
        title="Draw a digit, damage it, repair it",
        text=("Your own handwriting was in no training set. " + PAD_HOWTO + " Pick a kind of "
              "noise and a level: the figure shows your digit, its noisy version, and the "
              "repairs by the plain autoencoder and by the DAE trained on that kind of noise, "
              "each with its MSE per pixel against your clean drawing. Does the DAE's advantage "
              "of section 7 hold on your digits too?\n\n" + NO_MOUSE),
        widget=("drawn_noise = widgets.DrawnDenoising(plain, daes)\n"
                "drawn_noise"),
        demo=("drawn_noise.pad.load_digit(x_test[0])\n"
              "print(drawn_noise.result.value)")),
    "06_vae_neural_network_view.ipynb": dict(
        title="Draw a digit: its q(z|x), and the judge's verdict",
        text=("The VAE maps your drawing to a Gaussian, not a point. " + PAD_HOWTO + " The "
              "black ellipse on the left is your digit's $q(z|x)$ (2 standard deviations) over the "
              "means of the training digits. On the right: your digit, with the verdict of the "
              "judge (the classifier of section 1: the class it picks and its top softmax "
              "probability); the decoded mean $\\mu$; and five codes drawn from $q(z|x)$, "
              "decoded.\n\n"
              "Draw a digit that could be two (a 4 that is almost a 9, a 1 with a long flag): "
              "where does its ellipse sit, do the decoded samples agree with each other, and how "
              "sure is the judge?\n\n" + NO_MOUSE),
        widget=("drawn_posterior = widgets.DrawnPosterior(vae2, judge, vae_mu_train, y_train, "
                "data.class_names)\n"
                "drawn_posterior"),
        demo=("drawn_posterior.pad.load_digit(x_test[0])\n"
              "print(drawn_posterior.result.value)")),
}

HEADING = re.compile(r"^## (\d+)\. ", re.MULTILINE)


def section_cells(spec: dict, number: int) -> list:
    tags = {"tags": [TAG]}
    text = "\n\n".join(textwrap.fill(p, width=95, break_long_words=False, break_on_hyphens=False)
                       for p in spec["text"].split("\n\n"))   # lines as long as the notebooks' own
    return [
        nbformat.v4.new_markdown_cell(f"## {number}. {spec['title']}\n\n{text}",
                                      id="draw-a-digit-text", metadata=dict(tags)),
        nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\n" + spec["widget"],
                                  id="draw-a-digit-pad", metadata=dict(tags)),
        nbformat.v4.new_code_cell(spec["demo"], id="draw-a-digit-demo", metadata=dict(tags)),
    ]


def apply(nb, spec: dict):
    """The notebook with the section (re)inserted before "## Summary"."""
    # tools/slides.py writes each cell's slide type into its metadata: keep it across a re-run
    slides = {c.id: c.metadata["slideshow"] for c in nb.cells if "slideshow" in c.get("metadata", {})}
    cells = [c for c in nb.cells if TAG not in c.get("metadata", {}).get("tags", [])]
    where = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"
                  and re.search(r"^## Summary", c.source, re.MULTILINE)), None)
    if where is None:
        raise ValueError("the notebook has no '## Summary' heading to insert the section before")
    summary = cells[where]
    before, found, after = summary.source.partition("## Summary")
    if before.strip():                  # split: the text before stays in its cell
        summary.source = before.rstrip() + "\n"
        rest = nbformat.v4.new_markdown_cell(found + after, id=f"{summary.id}-summary")
        cells.insert(where + 1, rest)
        where += 1
    numbers = [int(n) for c in cells[:where] if c.cell_type == "markdown"
               for n in HEADING.findall(c.source)]
    cells[where:where] = section_cells(spec, max(numbers, default=0) + 1)
    nb.cells = cells
    for cell in nb.cells:
        if cell.id in slides:
            cell.metadata["slideshow"] = slides[cell.id]
        if cell.cell_type == "code" and TAG in cell.metadata.get("tags", []):
            cell.outputs, cell.execution_count = [], None
    return nb


def main(check: bool = False) -> int:
    stale = []
    for name, spec in SECTIONS.items():
        path = NOTEBOOKS / name
        original = path.read_text()
        nb = apply(nbformat.reads(original, as_version=4), spec)
        nbformat.validate(nb)
        updated = nbformat.writes(nb) + "\n"
        if updated != original:
            stale.append(name)
            if not check:
                path.write_text(updated)
        print(f"{name}: {'up to date' if updated == original else 'stale' if check else 'updated'}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(check="--check" in sys.argv[1:]))
