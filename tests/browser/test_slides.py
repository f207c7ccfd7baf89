"""Every notebook presented as slides, as a teacher does it: in JupyterLab on a 1280x720 screen
with the projector figure style (AE_STYLE=projector), run all cells, press Alt+R (the course's
key for jupyterlab-slideshow, jupyter/autoencoders-course.json), then step through every slide.

Checks: the slides are the ones tools/slides.py describes (each starts where its metadata says,
no skipped cell such as a worked solution is ever shown), no slide is taller than the screen
unless one of its cells is taller than the screen by itself (a cell cannot be split; that slide
scrolls on purpose, and is listed), every
widget works on its slide (one control moved, its picture changes), and the page asks nothing
of the internet. Screenshots of every slide: test-output/browser/slides/.
"""
import json
import shutil
import time

import nbformat
import pytest

import lab_browser
from tools import slides

NOTEBOOKS = sorted(lab_browser.NOTEBOOKS_DIR.glob("*.ipynb"))
SCREEN = {"width": 1280, "height": 720}

pytestmark = pytest.mark.browser

_NB = "window.jupyterapp.shell.currentWidget.content"

# The slide on screen: the cells the slideshow shows now, how tall they are together, and
# which of them hold a widget. Measured after two animation frames, once the layout is done.
_SLIDE = f"""async () => {{
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const nb = {_NB};
  const cells = nb.widgets.map((w, i) => [w, i]).filter(([w]) => w.node.classList.contains('jp-deck-mod-onscreen'));
  const rects = cells.map(([w]) => w.node.getBoundingClientRect());
  return {{active: nb.activeCellIndex, cells: cells.map(([, i]) => i), heights: rects.map(r => r.height),
          height: rects.length ? Math.max(...rects.map(r => r.bottom)) - Math.min(...rects.map(r => r.top)) : 0,
          screen: window.innerHeight,
          widgets: cells.filter(([w]) => w.node.querySelector('{lab_browser.WIDGET_VIEW_SELECTOR}')).map(([, i]) => i)}};
}}"""


@pytest.fixture(scope="module")
def projector_lab(tmp_path_factory, chromium):
    """JupyterLab whose kernels draw in the projector style."""
    server = lab_browser.start_lab(tmp_path_factory.mktemp("slides-root"),
                                   tmp_path_factory.mktemp("slides-home"),
                                   env={"AE_STYLE": "projector"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def slides_dir(screenshot_dir):
    folder = screenshot_dir / "slides"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_as_slides(path, projector_lab, page, slides_dir):
    started = time.perf_counter()
    outside = []                                     # requests that would leave this machine

    def local_only(route):
        if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.set_viewport_size(SCREEN)
    nb = nbformat.read(path, as_version=4)
    kinds = slides.slide_types(nb)
    shown = [i for i, kind in enumerate(kinds) if kind != "skip"]
    starts = [i for i in shown if kinds[i] in ("slide", "subslide")]

    shutil.copy(path, projector_lab.root / path.name)   # a copy: nothing is saved into notebooks/
    lab_browser.open_notebook(page, projector_lab, path.name)
    lab_browser.run_all_cells(page)
    errors = lab_browser.find_errors(page)
    assert not errors, f"{path.name}: cells failed:\n" + "\n\n".join(errors)[:6000]
    n_views = lab_browser.notebook_outputs(page)["widgetViews"]
    try:
        page.wait_for_function("([n, s]) => document.querySelectorAll(s).length >= n",
                               arg=[n_views, lab_browser.WIDGET_VIEW_SELECTOR], timeout=120_000)
    except Exception:
        page.screenshot(path=slides_dir / f"{path.stem}.widgets-missing.png")
        raise
    ran = time.perf_counter() - started

    # Start the slideshow with its key, from the first cell, as a teacher would.
    page.evaluate(f"""() => {{ const nb = {_NB}; nb.widgets.forEach((w, i) => w.node.dataset.cellIndex = i);
                              nb.activeCellIndex = 0; nb.mode = 'command'; nb.activeCell.node.focus(); }}""")
    page.keyboard.press("Alt+r")
    page.wait_for_selector(".jp-Deck .jp-Notebook .jp-deck-mod-onscreen", timeout=30_000)
    visited, scrolls, moved, tall = [], [], [], []
    try:
        state = page.evaluate(_SLIDE)
        while True:
            if not visited or state["cells"] != visited[-1]["cells"]:       # a new (sub-)slide
                visited.append(state)
                for i in state["widgets"]:
                    view = page.locator(f'[data-cell-index="{i}"] {lab_browser.WIDGET_VIEW_SELECTOR}').first
                    moved.append(f"cell {i}: " + lab_browser.move_one_control(view))
                page.screenshot(path=slides_dir / f"{path.stem}.{len(visited):02d}.png")
                state["estimate"] = sum(slides.cell_height(nb.cells[i]) for i in state["cells"])
                if state["height"] > state["screen"]:
                    entry = (f"slide {len(visited)} (cells {state['cells']}): {state['height']:.0f} px "
                             f"(estimated {state['estimate']:.0f})")
                    (scrolls if max(state["heights"]) > state["screen"] else tall).append(entry)
            if state["active"] >= shown[-1]:
                break
            before = state["active"]
            page.evaluate("window.jupyterapp.commands.execute('deck:go', {direction: 'down', alternate: 'forward'})")
            page.wait_for_function(f"prev => {_NB}.activeCellIndex !== prev", arg=before, timeout=30_000)
            state = page.evaluate(_SLIDE)
    finally:
        page.evaluate("window.jupyterapp.commands.execute('deck:stop')")   # the setting persists

    seen = sorted({i for state in visited for i in state["cells"]})
    # each cell's height on its slide next to tools/slides.py's estimate, to tune the estimates
    heights = {i: [round(h), round(slides.cell_height(nb.cells[i]))]
               for state in visited for i, h in zip(state["cells"], state["heights"])}
    (slides_dir / f"{path.stem}.heights.json").write_text(json.dumps(heights, indent=0))
    print(f"\n{path.name}: {len(visited)} slides in {time.perf_counter() - started:.0f} s "
          f"(cells ran in {ran:.0f} s); widgets moved: {moved}")
    for line in scrolls:
        print(f"    scrolls (a cell taller than the screen): {line}")
    print("    height of each slide, measured/estimated px:", " ".join(
        f"{n}:{s['height']:.0f}/{s['estimate']:.0f}" for n, s in enumerate(visited, 1)))
    assert not outside, f"{path.name}: the page asked for {outside[:5]}"
    assert seen == shown, (f"{path.name}: cells shown {seen}, expected every cell but the "
                           f"skipped ones: {shown}")
    assert [state["cells"][0] for state in visited] == starts, \
        f"{path.name}: slides start at {[s['cells'][0] for s in visited]}, metadata says {starts}"
    assert not tall, (f"{path.name}: slides taller than {SCREEN['height']} px (re-split with "
                      f"tools/slides.py's estimates; screenshots in {slides_dir}):\n" + "\n".join(tall))
    assert len(moved) == n_views, f"{path.name}: {n_views} widgets, moved {len(moved)} on slides"
    errors = lab_browser.find_errors(page)
    assert not errors, f"{path.name}: widget callbacks failed on slides:\n" + "\n\n".join(errors)[:6000]
