"""Every notebook in real JupyterLab in headless Chromium, as a learner uses it: open it, run
all cells, then check that no cell failed, that every widget rendered, and that every slider,
dropdown and toggle of every widget changes what it drives. One test per notebooks/*.ipynb, so
a new notebook is covered without editing this file. Screenshots: test-output/browser/.
"""
import hashlib
import re
import shutil
import time

import pytest

import lab_browser

NOTEBOOKS = sorted(lab_browser.NOTEBOOKS_DIR.glob("*.ipynb"))
# Code that displays a widget: the course's widgets module, ipywidgets, interact.
CREATES_WIDGETS = re.compile(r"\bwidgets\.[A-Z]\w*\(|\bipywidgets\b|\binteract(ive)?\(")

pytestmark = pytest.mark.browser


def test_there_are_notebooks_to_open():
    assert NOTEBOOKS, f"no notebooks in {lab_browser.NOTEBOOKS_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_in_jupyterlab(path, lab, page, screenshot_dir):
    original = hashlib.sha256(path.read_bytes()).hexdigest()
    shutil.copy(path, lab.root / path.name)           # a copy: nothing is saved into notebooks/
    started = time.perf_counter()
    lab_browser.open_notebook(page, lab, path.name)
    state = lab_browser.run_all_cells(page)
    ran = time.perf_counter() - started
    shot = screenshot_dir / f"{path.stem}.png"
    page.screenshot(path=shot)

    errors = lab_browser.find_errors(page)
    assert not errors, f"{path.name}: cells failed in JupyterLab (screenshot {shot}):\n" + \
        "\n\n".join(errors)[:6000]
    assert state["pending"] == 0, f"{path.name}: {state['pending']} cells did not run: {state}"

    outputs = lab_browser.notebook_outputs(page)
    views = lab_browser.widget_views(page)
    if any(CREATES_WIDGETS.search(code) for code in outputs["code"]):
        assert outputs["widgetViews"] > 0, f"{path.name} creates widgets but displays none"
    # Every widget output becomes a live view: no placeholder or rendering error left.
    print(f"\n{path.name}: all cells ran in {ran:.0f} s; waiting for "
          f"{outputs['widgetViews']} widget views")
    page.wait_for_function(
        """([n, selector]) => {
            const outputs = [...document.querySelectorAll('.jp-OutputArea-output')];
            if (outputs.some(o => /Loading widget|Error (rendering|displaying) widget|Model not found/i
                                    .test(o.textContent))) return false;
            return document.querySelectorAll(selector).length >= n; }""",
        arg=[outputs["widgetViews"], lab_browser.WIDGET_VIEW_SELECTOR], timeout=120_000)
    assert views.count() == outputs["widgetViews"]

    done = []
    for i in range(views.count()):
        view = views.nth(i)
        view.scroll_into_view_if_needed()
        done += [f"widget {i + 1}: {what}" for what in lab_browser.exercise_controls(view)]
        view.screenshot(path=screenshot_dir / f"{path.stem}.widget{i + 1}.png")
    errors = lab_browser.find_errors(page)
    assert not errors, f"{path.name}: widget callbacks failed:\n" + "\n\n".join(errors)[:6000]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == original, \
        f"{path.name} was modified while the browser test ran"
    print(f"\n{path.name}: ran in {ran:.0f} s; {views.count()} widgets; "
          f"{len(done)} control moves, each changed its widget ({time.perf_counter() - started:.0f} s "
          f"in all); screenshots {screenshot_dir}/{path.stem}*.png")
    for line in done:
        print("   ", line)


SUMMARY = lab_browser.NOTEBOOKS_DIR / "08_summary.ipynb"


@pytest.mark.skipif(not SUMMARY.exists(), reason="no summary notebook")
def test_summary_links_open_the_linked_sections(lab, page, screenshot_dir):
    """Every take-home link in notebook 08 opens its notebook; clicked again, with that notebook
    open, it brings the linked heading into view. (JupyterLab 4.6 opens a notebook at the top on
    the first click, jupyterlab/jupyterlab#15207; the notebook tells learners so.)"""
    for path in lab_browser.NOTEBOOKS_DIR.glob("*.ipynb"):
        shutil.copy(path, lab.root / path.name)
    lab_browser.open_notebook(page, lab, SUMMARY.name)
    links = page.evaluate("""() => [...document.querySelectorAll('.jp-RenderedMarkdown a')]
        .map(a => a.textContent).filter(t => /^0\\d § \\d$/.test(t))""")
    assert len(links) >= 9, f"expected the take-home links in {SUMMARY.name}, found {links}"

    def click(text):
        page.evaluate(f"""() => {{ const shell = window.jupyterapp.shell;       // back to 08's tab
            shell.activateById([...shell.widgets('main')].find(w => w.context?.path === '{SUMMARY.name}').id); }}""")
        page.wait_for_function(f"() => window.jupyterapp.shell.currentWidget?.context?.path === '{SUMMARY.name}'")
        link = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedMarkdown a").filter(
            has_text=re.compile(f"^{text}$")).first
        link.scroll_into_view_if_needed()
        notebook = link.get_attribute("href").split("/files/")[1].split("?")[0]
        link.click()
        page.wait_for_function(
            f"() => window.jupyterapp.shell.currentWidget?.context?.path === '{notebook}'", timeout=60_000)
        return notebook

    for text in links:
        notebook = click(text)                         # opens the notebook (at the top, first time)
        assert click(text) == notebook                 # with it open: jumps to the section
        section = text.split(" § ")[1]
        heading = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) h2").filter(
            has_text=re.compile(rf"^{section}\. ")).first
        heading.wait_for(state="attached", timeout=60_000)
        try:
            page.wait_for_function(
                """(el) => { const r = el.getBoundingClientRect();
                             return r.top >= 0 && r.bottom <= window.innerHeight; }""",
                arg=heading.element_handle(), timeout=30_000)
        except Exception:
            page.screenshot(path=screenshot_dir / "08_summary.link-failed.png")
            raise AssertionError(f"link '{text}' opened {notebook} but did not show its section {section}")
    page.evaluate("() => window.jupyterapp.serviceManager.sessions.shutdownAll()")   # the kernels of the opened notebooks
