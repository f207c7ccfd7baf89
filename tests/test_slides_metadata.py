"""Slide metadata (tools/slides.py): every notebook carries exactly what the tool derives from its
cells, so a cell added or edited without re-running the tool fails here; and the rules do
what they say on small notebooks made for the purpose."""
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tools import slides

NOTEBOOKS = sorted(slides.NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_slide_metadata_is_up_to_date(path):
    nb = nbformat.read(path, as_version=4)
    expected = slides.slide_types(nb)
    found = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in nb.cells]
    wrong = [(i, f, e) for i, (f, e) in enumerate(zip(found, expected)) if f != e]
    assert not wrong, (f"{path.name}: slide types (cell, found, expected) {wrong[:8]}; "
                       "run `python tools/slides.py`")
    assert all(set(cell.metadata.get("slideshow", {})) <= {"slide_type"} for cell in nb.cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_section_is_a_slide_and_solutions_are_skipped(path):
    nb = nbformat.read(path, as_version=4)
    kinds = slides.slide_types(nb)
    for cell, kind in zip(nb.cells, kinds):
        if cell.cell_type == "markdown" and any(line.startswith("## ") for line in cell.source.split("\n")):
            assert kind == "slide", f"{path.name}: a section heading must start a slide: {cell.source[:60]!r}"
        if "solution" in cell.metadata.get("tags", []):
            assert kind == "skip", f"{path.name}: a worked solution must not be shown"
    assert kinds[0] == "slide"


def test_running_the_tool_twice_changes_nothing(tmp_path):
    path = tmp_path / "copy.ipynb"
    path.write_bytes(NOTEBOOKS[0].read_bytes())
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:                          # stale metadata of every kind
        cell.metadata["slideshow"] = {"slide_type": "fragment"}
    nbformat.write(nb, path)
    assert slides.main([str(path)]) == 0
    once = path.read_bytes()
    assert slides.main(["--check", str(path)]) == 0
    assert slides.main([str(path)]) == 0
    assert path.read_bytes() == once
    sources = [c.source for c in nbformat.read(NOTEBOOKS[0], as_version=4).cells]
    assert [c.source for c in nbformat.read(path, as_version=4).cells] == sources


def test_check_mode_reports_and_changes_nothing(tmp_path, capsys):
    path = tmp_path / "stale.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Title"), new_markdown_cell("## 1. A")]), path)
    before = path.read_bytes()
    assert slides.main(["--check", str(path)]) == 1
    assert "out of date" in capsys.readouterr().out
    assert path.read_bytes() == before


def types_of(*cells):
    return slides.slide_types(new_notebook(cells=list(cells)))


def test_rules_on_a_small_notebook():
    solution = new_code_cell("# Solution\nx = 1")
    solution.metadata["tags"] = ["solution"]
    kinds = types_of(
        new_markdown_cell("# Title\n\nWhat this is about."),      # 0 first slide
        new_code_cell("import torch"),                             # 1 setup: skipped
        new_markdown_cell("## 1. A section\n\nShort text."),       # 2 slide
        new_code_cell("x = 1\nprint(x)"),                          # 3 stays with its text
        new_markdown_cell("### A step\n\nMore."),                  # 4 sub-slide
        new_markdown_cell("Text that ends section 1.\n\n## 2. Next\n\nText."),   # 5 slide
        new_markdown_cell("**Exercise 1.** Do it."),               # 6 sub-slide
        new_code_cell("answer = ..."),                             # 7 stays
        solution,                                                  # 8 skipped
    )
    assert kinds == ["slide", "skip", "slide", None, "subslide", "slide", "subslide", None, "skip"]


def test_a_cell_that_would_overflow_starts_a_sub_slide():
    long_text = "\n\n".join(["A paragraph of explanation. " * 12] * 8)
    tall_figure = "fig, ax = plt.subplots(figsize=(6, 4))\nax.plot([1, 2])\nplt.show()"
    kinds = types_of(new_markdown_cell("## 1. Section\n\nIntro."),
                     new_code_cell("import matplotlib.pyplot as plt"),   # setup
                     new_code_cell(tall_figure),           # fits under the short intro
                     new_code_cell(tall_figure),           # would not fit: its own sub-slide
                     new_markdown_cell(long_text))         # a long explanation: its own too
    assert kinds == ["slide", "skip", None, "subslide", "subslide"]
    assert slides.cell_height(new_markdown_cell(long_text)) > slides.SCREEN_PX / 2


def test_text_that_introduces_code_moves_with_it():
    tall_figure = "fig, ax = plt.subplots(figsize=(6, 4))\nax.plot([1, 2])\nplt.show()"
    kinds = types_of(new_markdown_cell("## 1. Section\n\nIntro."),
                     new_code_cell("import matplotlib.pyplot as plt"),
                     new_code_cell(tall_figure),
                     new_markdown_cell("**Widget.** What the next cell shows."),   # room for it,
                     new_code_cell(tall_figure))                                   # not for both
    assert kinds == ["slide", "skip", None, "subslide", None]
    huge = "fig, ax = plt.subplots(figsize=(6, 9))\nplt.show()"                 # taller than a screen
    kinds = types_of(new_markdown_cell("## 1. Section\n\nIntro."),
                     new_code_cell("import matplotlib.pyplot as plt"),
                     new_code_cell("x = 1"),
                     new_markdown_cell("What the next cell shows."),   # cannot share a screen with
                     new_code_cell(huge))                              # it: stays where it is
    assert kinds == ["slide", "skip", None, None, "subslide"]


def test_figure_height_comes_from_figsize_scaled_to_the_slide_width():
    narrow = slides.code_height("fig = plt.figure(figsize=(5, 3))\nplt.show()")
    wide = slides.code_height("fig = plt.figure(figsize=(22.2, 3))\nplt.show()")   # twice too wide
    assert narrow - wide == pytest.approx(300 - 150)


def test_a_table_printed_in_a_loop_is_taller_than_a_line():
    one = slides.code_height('print("total", 3)')
    table = slides.code_height('for row in rows:\n    print(row)')
    assert table - one > slides.LOOP_OUTPUT_PX - slides.TEXT_OUTPUT_PX
