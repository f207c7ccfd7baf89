"""Slide metadata for the notebooks: which cells start a slide or a sub-slide, which are left out.

    python tools/slides.py            # write the metadata into every notebooks/*.ipynb
    python tools/slides.py --check    # only say which notebooks differ (exit status 1 if any)

A teacher presents a notebook with jupyterlab-slideshow (README, "Teaching with the course").
It reads `metadata.slideshow.slide_type` of each cell, as nbconvert does. This tool derives that
from each cell's text and tags alone, never from the metadata already there, so running it
again changes nothing, and a cell added by anyone gets its slide type on the next run. Only
cell metadata changes: sources, outputs and ids stay as they are.

The rules, in order; the first that fits decides:
 1. A cell tagged `solution` is skipped: the class works the exercise out first.
 2. The setup cell (the first code cell: imports, figure style, data) is skipped: twenty lines
    of imports teach nothing on a projector. It still runs with "Run All".
 3. A markdown cell with a `#` or `##` heading starts a slide (one slide per section).
 4. A markdown cell with a `###` heading, or one that opens an exercise (`**Exercise`),
    starts a sub-slide (a step down within its section).
 5. Any other cell continues the slide before it: a code cell and its figure stay with the
    text that introduces them. Unless the slide would then be taller than a 1280x720 screen
    (estimated below); then the cell starts a sub-slide, so long explanations and tall figures
    get a screen of their own. Text followed by code moves on together: a short text that
    introduces a code cell goes to the sub-slide of that code cell, not to the slide before
    (unless the two would not fit on one screen anyway).
A cell taller than the screen by itself cannot be split without rewriting the notebook: its
slide scrolls, on purpose (the browser test measures every slide and lists these).
Continuing cells carry no `slideshow` metadata (nbconvert reads that as its "-"):
jupyterlab-slideshow 0.3 hides a cell whose slide_type is "-". Speaker notes are not used:
jupyterlab-slideshow has no speaker view, so notes would hide text from the class.
"""
from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

# Height budget, in CSS pixels of JupyterLab's default theme, for the notebook area of a
# slide on a 1280x720 screen (the slideshow centres the slide and keeps a small margin).
# Measured on the slides of notebooks 03, 04 and 06 (the browser test writes each cell's
# height next to its estimate into test-output/browser/slides/*.heights.json).
SCREEN_PX = 660
CHARS_PER_LINE = 150        # rendered markdown characters per line at that width
TEXT_LINE_PX = 22           # one line of rendered markdown
BLOCK_GAP_PX = 14           # space between paragraphs, lists, formulas
HEADING_PX = {1: 60, 2: 50, 3: 40, 4: 34}
CODE_LINE_PX = 17.5         # one line of code
CELL_PAD_PX = 20            # padding around a cell
TEXT_OUTPUT_PX = 60         # printed output: a few lines
LOOP_OUTPUT_PX = 250        # printed in a loop: a table
FIGURE_PX = 400             # a figure whose size the code does not say
WIDGET_PX = 520             # a widget: controls and a figure the width of the slide
DPI, SLIDE_WIDTH_PX = 100, 1110   # figures are drawn at 100 dpi; wider ones are scaled down

HEADING = re.compile(r"^(#{1,6}) ", re.M)
FIGSIZE = re.compile(r"figsize=\(\s*([\d.]+)\s*,\s*([\d.]+)\s*\)")
SHOWS_FIGURE = re.compile(r"plt\.show\(\)|plots\.\w+\(")
MAKES_WIDGET = re.compile(r"\bwidgets\.[A-Z]\w*\(")


def heading_levels(cell) -> set[int]:
    return {len(h) for h in HEADING.findall(cell.source)} if cell.cell_type == "markdown" else set()


def markdown_height(source: str) -> float:
    """Estimated rendered height: headings, then paragraphs rewrapped to the slide's width;
    list items, table rows and formulas start new lines."""
    height = 0.0
    for block in re.split(r"\n\s*\n", source.strip()):
        lines, n_lines = block.split("\n"), 0
        if match := HEADING.match(lines[0]):
            height += HEADING_PX.get(len(match.group(1)), 34)
            lines = lines[1:]
        text = ""
        for line in lines + [""]:
            starts_line = re.match(r"\s*([-*+] |\d+\. |\||\$\$)", line) or not line
            if starts_line and text:
                n_lines += math.ceil(len(text) / CHARS_PER_LINE)
                text = ""
            text += " " + line.strip()
        height += n_lines * TEXT_LINE_PX + BLOCK_GAP_PX
    return height


def code_height(source: str) -> float:
    """Estimated height of a code cell with its output: the code, then a widget, a figure (its
    figsize when the code gives one, scaled to the slide's width, below what the cell prints)
    or printed lines (a table when it prints in a loop)."""
    height = source.count("\n") * CODE_LINE_PX + CODE_LINE_PX + CELL_PAD_PX
    if MAKES_WIDGET.search(source):
        return height + WIDGET_PX
    if SHOWS_FIGURE.search(source):
        # printed lines above the figure (a recipe's description, say) take room too
        height += TEXT_OUTPUT_PX if "print(" in source else 0
        if sizes := FIGSIZE.findall(source):
            width, tall = (float(v) * DPI for v in sizes[-1])
            return height + tall * min(1.0, SLIDE_WIDTH_PX / width)
        return height + FIGURE_PX
    if "print(" not in source:
        return height
    return height + (LOOP_OUTPUT_PX if re.search(r"^\s*for .*:$", source, re.M) else TEXT_OUTPUT_PX)


def cell_height(cell) -> float:
    return markdown_height(cell.source) if cell.cell_type == "markdown" else code_height(cell.source)


def slide_types(nb) -> list[str | None]:
    """The slide type of each cell ("slide", "subslide", "skip"), None for continuing."""
    types: list[str | None] = []
    setup = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)
    skipped = [i == setup or "solution" in c.metadata.get("tags", []) for i, c in enumerate(nb.cells)]
    used = 0.0                                    # estimated height of the current (sub-)slide
    for i, cell in enumerate(nb.cells):
        levels = heading_levels(cell)
        if skipped[i]:
            types.append("skip")
            continue
        # the cell and, for text, the code cell it introduces: they stay together
        after = next((c for c, skip in zip(nb.cells[i + 1:], skipped[i + 1:]) if not skip), None)
        together = cell_height(cell) + (cell_height(after) if cell.cell_type == "markdown"
                                        and after is not None and after.cell_type == "code" else 0)
        if levels & {1, 2}:
            kind = "slide"
        elif 3 in levels or (cell.cell_type == "markdown" and cell.source.startswith("**Exercise")):
            kind = "subslide"
        elif i > 0 and used + together > SCREEN_PX:
            # text that cannot share a screen with its code stays where it is, if it fits there
            alone = together > SCREEN_PX and used + cell_height(cell) <= SCREEN_PX
            kind = None if alone else "subslide"
        else:
            kind = None
        used = cell_height(cell) + (used if kind is None else 0)
        types.append(kind)
    if types and types[0] is None:                # the first cell opens the first slide
        types[0] = "slide"
    return types


def apply(nb) -> bool:
    """Set every cell's slide metadata; True if anything changed."""
    changed = False
    for cell, kind in zip(nb.cells, slide_types(nb)):
        before = cell.metadata.get("slideshow")
        if kind is None:
            cell.metadata.pop("slideshow", None)
        else:
            cell.metadata["slideshow"] = {"slide_type": kind}
        changed |= cell.metadata.get("slideshow") != before
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a notebook's slide metadata is out of date")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to process (default: notebooks/*.ipynb)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    stale = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if apply(nb):
            stale.append(path)
            if not args.check:
                nbformat.write(nb, path)
    for path in stale:
        print(f"{path.name}: slide metadata {'out of date' if args.check else 'updated'}")
    if args.check and stale:
        print("run `python tools/slides.py` to update it")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
