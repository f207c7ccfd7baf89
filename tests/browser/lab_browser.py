"""JupyterLab in headless Chromium, for the browser tests and the widget-latency benchmark.

`start_lab` serves a folder with JupyterLab on 127.0.0.1 (random port, random token, no
autosave, no news toast); `launch_chromium` starts the system's Chromium through Playwright;
`open_notebook` and `run_all_cells` do what a learner does; `find_errors`, `widget_views` and
`exercise_controls` check the result. Nothing here writes into the repository.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO / "notebooks"
SCREENSHOT_DIR = REPO / "test-output" / "browser"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_VIEW_SELECTOR = ".jp-OutputArea-output:has(> .jupyter-widgets)"   # a displayed widget

INSTALL_HINT = ("Install Debian's Chromium with `sudo apt-get install chromium` (Ubuntu: "
                "`chromium-browser`), or point the CHROMIUM environment variable at a Chromium or "
                "Chrome executable. Do not run `playwright install`: the tests use the system's "
                "browser.")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]

# User settings written into the temporary settings folder: never save the notebook (it is a
# copy anyway); no "Jupyter news?" toast over the cells (PAGE_CONFIG).
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    # every cell in the page, so every widget is rendered and reachable (the default windowing
    # renders far-away cells only when scrolled to)
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


def find_chromium() -> str | None:
    """The Chromium executable: $CHROMIUM, else the first of the usual names on PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"] if Path(os.environ["CHROMIUM"]).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


@dataclass
class Lab:
    base: str          # http://127.0.0.1:PORT
    token: str
    root: Path         # the folder JupyterLab serves
    log: Path          # the server's (and the kernels') output
    process: subprocess.Popen

    def url(self, notebook: str) -> str:
        return f"{self.base}/lab/tree/{notebook}?reset&token={self.token}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_lab(root: Path, home: Path, timeout: float = 90, env: dict | None = None) -> Lab:
    """Serve `root` with JupyterLab; `home` holds its config, settings and log (both temporary).
    The kernels inherit this process's environment, so AE_CACHE_DIR/AE_DATA apply to them, and
    `env` adds variables (AE_STYLE=projector, say)."""
    (home / "cfg" / "labconfig").mkdir(parents=True, exist_ok=True)
    (home / "cfg" / "labconfig" / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
    for name, values in LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ, **(env or {}), JUPYTER_CONFIG_DIR=str(home / "cfg"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "rt"),
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    log = home / "lab.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.expose_app_in_browser=True", f"--LabServerApp.workspaces_dir={home / 'ws'}",
         f"--LabServerApp.user_settings_dir={home / 'settings'}"],
        env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=root)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log, process)
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{lab.base}/api/status?token={token}", timeout=2)
            return lab
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                lab.stop()
                raise RuntimeError("JupyterLab did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.3)


def launch_chromium(playwright, profile: Path, executable: str):
    """A headless Chromium context (the system's browser, never a downloaded one)."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000})


# --- in the page -------------------------------------------------------------------------------

_NOTEBOOK = "window.jupyterapp.shell.currentWidget"

# Record every error the kernel reports on iopub, also those raised in widget callbacks, which
# JupyterLab shows only in its log console and never in a cell.
_RECORD_ERRORS = f"""() => {{
  const kernel = {_NOTEBOOK}.sessionContext.session.kernel;
  window.__kernelErrors = [];
  kernel.iopubMessage.connect((_, msg) => {{
    const c = msg.content;
    if (msg.header.msg_type === 'error')
      window.__kernelErrors.push(c.ename + ': ' + c.evalue + '\\n' + (c.traceback || []).join('\\n'));
    if (msg.header.msg_type === 'stream' && c.name === 'stderr' && /Traceback/.test(c.text))
      window.__kernelErrors.push(c.text);
  }});
}}"""

# Done: kernel idle and every non-empty code cell has run (or a cell failed, which stops
# "run all" there).
_RUN_STATE = f"""() => {{
  const nb = {_NOTEBOOK};
  const kernel = nb.sessionContext.session?.kernel;
  let pending = 0, errors = 0, total = 0;
  for (const cell of nb.content.model.cells) {{
    if (cell.type !== 'code' || !cell.sharedModel.getSource().trim()) continue;
    total++;
    if (cell.executionCount == null || cell.executionState === 'running') pending++;
    for (let i = 0; i < cell.outputs.length; i++)
      if (cell.outputs.get(i).type === 'error') errors++;
  }}
  return {{status: kernel?.status, total, pending, errors}};
}}"""

# Every output of the notebook model: errors, stderr with a traceback, and widget views.
_OUTPUTS = f"""() => {{
  const nb = {_NOTEBOOK};
  const found = {{errors: [], widgetViews: 0, code: []}};
  let index = -1;
  for (const cell of nb.content.model.cells) {{
    index++;
    if (cell.type !== 'code') continue;
    found.code.push(cell.sharedModel.getSource());
    for (let i = 0; i < cell.outputs.length; i++) {{
      const out = cell.outputs.get(i).toJSON();
      if (out.output_type === 'error')
        found.errors.push(`cell ${{index}}: ${{out.ename}}: ${{out.evalue}}\\n${{out.traceback.join('\\n')}}`);
      if (out.output_type === 'stream' && out.name === 'stderr' && /Traceback/.test([].concat(out.text).join('')))
        found.errors.push(`cell ${{index}} (stderr): ${{[].concat(out.text).join('')}}`);
      if (out.data && out.data['{WIDGET_VIEW_MIME}']) found.widgetViews++;
    }}
  }}
  return found;
}}"""

# What the page shows as errors: stderr outputs holding a traceback, outputs marked as errors.
_DOM_ERRORS = """() => {
  const texts = [];
  for (const el of document.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output.jp-mod-error'))
    if (/Traceback/.test(el.textContent) || el.classList.contains('jp-mod-error'))
      texts.push(el.textContent.slice(0, 3000));
  return texts;
}"""

# A fingerprint of what a widget view shows, leaving out the controls' own state: the src of
# every image, canvases, and the text of the view without the sliders' readouts.
_SIGNATURE = """(view) => {
  const images = [...view.querySelectorAll('img')].map(img => img.src);
  const canvases = [...view.querySelectorAll('canvas')].map(c => { try { return c.toDataURL().length + ':' + c.toDataURL().slice(-64); } catch (e) { return ''; } });
  const copy = view.cloneNode(true);
  copy.querySelectorAll('.widget-readout, select, .widget-toggle-buttons, .widget-radio-box, .widget-checkbox').forEach(e => e.remove());
  return JSON.stringify({images, canvases, text: copy.textContent.replace(/\\s+/g, ' ').trim()});
}"""

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def open_notebook(page, lab: Lab, name: str, timeout_ms: int = 120_000) -> None:
    """Open notebooks `name` in JupyterLab and wait until its kernel is idle."""
    page.goto(lab.url(name))
    page.wait_for_function(            # window.jupyterapp appears once the page's scripts ran
        f"() => {{ const w = window.jupyterapp?.shell.currentWidget; return w?.context?.path === {json.dumps(name)} &&"
        " w.sessionContext?.session?.kernel?.status === 'idle'; }", timeout=timeout_ms)
    page.evaluate(_RECORD_ERRORS)


def run_all_cells(page, timeout_s: float = 1800) -> dict:
    """Run all cells as the menu does; wait for the kernel to be idle and every cell to have
    run, twice in a row half a second apart. Returns the final state."""
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline, done_before = time.time() + timeout_s, False
    while True:
        state = page.evaluate(_RUN_STATE)
        done = state["status"] == "idle" and (state["pending"] == 0 or state["errors"] > 0)
        if done and done_before:
            return state
        done_before = done
        if time.time() > deadline:
            raise TimeoutError(f"cells still running after {timeout_s:.0f} s: {state}")
        time.sleep(0.5)


def find_errors(page) -> list[str]:
    """Every error shown in a cell or reported by the kernel (also from widget callbacks)."""
    outputs = page.evaluate(_OUTPUTS)
    shown = page.evaluate(_DOM_ERRORS)
    reported = page.evaluate("() => window.__kernelErrors || []")
    return [ANSI.sub("", e) for e in outputs["errors"] + shown + reported]


def notebook_outputs(page) -> dict:
    """The notebook model's outputs: 'errors', 'widgetViews' (count) and the 'code' of cells."""
    return page.evaluate(_OUTPUTS)


def widget_views(page):
    """The cells' widget outputs, as a Playwright locator (one per displayed widget)."""
    return page.locator(WIDGET_VIEW_SELECTOR)


def signature(view) -> str:
    return view.evaluate(_SIGNATURE)


def images(view) -> list[str]:
    return view.evaluate("(v) => [...v.querySelectorAll('img')].map(i => i.src)")


def _wait_for_change(view, before: str, what: str, timeout_s: float) -> str:
    """Wait until the view shows something else than `before`; an image must be among what
    changed when the view has images."""
    had_images = bool(json.loads(before)["images"])
    deadline = time.time() + timeout_s
    while True:
        now = signature(view)
        if now != before and (not had_images or json.loads(now)["images"] != json.loads(before)["images"]):
            return now
        if time.time() > deadline:
            raise AssertionError(f"{what} changed nothing in its widget within {timeout_s:.0f} s "
                                 f"(still showing {before[:300]}...)")
        time.sleep(0.05)


def _control_disabled(control) -> bool:
    """True when the control (or the input inside it) is disabled: ipywidgets marks a disabled
    slider with a `disabled` attribute on its track, and disables buttons and inputs."""
    return control.evaluate("""(el) => {
        const input = el.matches('button, input, select') ? el : el.querySelector('button, input, select');
        return (input && input.disabled) || el.hasAttribute('disabled')
            || !!el.closest('[disabled], .mod-disabled'); }""")


def exercise_controls(view, timeout_s: float = 300) -> list[str]:
    """Move every slider (keyboard: one step, End, Home), pick two other options in every
    dropdown and go back, click every other toggle button and radio button, tick and untick every
    checkbox of one widget view; after each action the view must show something new (a new
    image src when it has images, else new text). Controls disabled at first are tried again once
    an earlier action has enabled them. Returns what was done."""
    done: list[str] = []
    tried: set[str] = set()
    for _ in range(4):                                      # passes, for controls enabled later
        progress = False
        # sliders first: on widgets whose options make updates slow (t-SNE), the sliders then
        # run in the fast mode, and end at their minimum (Home), which keeps the slow mode fast.
        handles = view.locator(".noUi-handle")
        for i in range(handles.count()):
            key = f"slider {i}"
            handle = handles.nth(i)
            if key in tried or _control_disabled(handle):
                continue
            tried.add(key)
            progress = True
            label = handle.evaluate("""(h) => (h.closest('.widget-slider, .jupyter-widgets')
                ?.querySelector('.widget-label')?.textContent || '').trim()""") or str(i)
            now, high = (float(handle.get_attribute(a) or 0) for a in ("aria-valuenow", "aria-valuemax"))
            step = "ArrowLeft" if now >= high else "ArrowRight"
            for press in (step, "End", "Home"):
                value = handle.get_attribute("aria-valuenow")
                limit = handle.get_attribute("aria-valuemax" if press == "End" else "aria-valuemin")
                if press != step and value == limit:
                    continue                                # already there: nothing to move
                before = signature(view)
                handle.focus()
                handle.press(press)
                _wait_for_change(view, before, f"slider '{label}' ({press})", timeout_s)
                done.append(f"slider {label}: {press} -> {handle.get_attribute('aria-valuenow')}")
        selects = view.locator("select")
        for i in range(selects.count()):
            key = f"select {i}"
            select = selects.nth(i)
            if key in tried or _control_disabled(select):
                continue
            tried.add(key)
            progress = True
            options = select.evaluate("(s) => [...s.options].map(o => o.value)")
            original = select.input_value()
            for option in [o for o in options if o != original][:2] + [original]:
                if option == select.input_value():
                    continue
                before = signature(view)
                select.select_option(option)
                _wait_for_change(view, before, f"dropdown option {option!r}", timeout_s)
                done.append(f"dropdown {i}: {option}")
        for kind, selector in (("toggle buttons", ".widget-toggle-buttons"),
                               ("radio buttons", ".widget-radio-box"),
                               ("checkbox", ".widget-checkbox, button.jupyter-widgets.widget-toggle-button")):
            groups = view.locator(selector)
            for i in range(groups.count()):
                key = f"{kind} {i}"
                group = groups.nth(i)
                if key in tried or _control_disabled(group):
                    continue
                tried.add(key)
                progress = True
                for choice in _choices(kind, group):
                    name = choice.evaluate("""(e) => e.textContent.trim() || e.dataset.value
                        || e.closest('label')?.textContent.trim() || 'click'""")
                    before = signature(view)
                    choice.click()
                    _wait_for_change(view, before, f"{kind} {i} ({name})", timeout_s)
                    done.append(f"{kind} {i}: {name}")
        if not progress:
            break
    left = view.locator(".noUi-handle").count() - sum(k.startswith("slider") for k in tried)
    if left:
        done.append(f"{left} slider(s) stayed disabled whatever the other controls were set to")
    return done


def move_one_control(view, timeout_s: float = 300) -> str:
    """Move the first enabled slider of a widget view one step with the keyboard (back one step
    when it sits at its maximum), or, in a widget without sliders, click the first toggle button
    not selected, or draw one stroke on a drawing pad; then wait until the view shows a new picture. Returns what was done."""
    handles = view.locator(".noUi-handle")
    for i in range(handles.count()):
        handle = handles.nth(i)
        if _control_disabled(handle):
            continue
        label = handle.evaluate("""(h) => (h.closest('.widget-slider, .jupyter-widgets')
            ?.querySelector('.widget-label')?.textContent || '').trim()""") or str(i)
        now, high = (float(handle.get_attribute(a) or 0) for a in ("aria-valuenow", "aria-valuemax"))
        press = "ArrowLeft" if now >= high else "ArrowRight"
        before = signature(view)
        handle.focus()
        handle.press(press)
        _wait_for_change(view, before, f"slider '{label}' ({press})", timeout_s)
        return f"slider {label}: {press} -> {handle.get_attribute('aria-valuenow')}"
    buttons = view.locator(".widget-toggle-buttons button:not(.mod-active):not([disabled])")
    if buttons.count():
        name = buttons.first.text_content().strip()
        before = signature(view)
        buttons.first.click()
        _wait_for_change(view, before, f"toggle button {name!r}", timeout_s)
        return f"toggle button: {name}"
    canvas = view.locator("canvas")
    if canvas.count():                               # a drawing pad: draw one stroke on it
        canvas = canvas.last                         # the top layer receives the pointer
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        x = box["x"] + box["width"] * 0.5
        before = signature(view)
        view.page.mouse.move(x, box["y"] + box["height"] * 0.2)
        view.page.mouse.down()
        for step in range(1, 13):
            view.page.mouse.move(x, box["y"] + box["height"] * (0.2 + 0.05 * step))
        view.page.mouse.up()
        _wait_for_change(view, before, "a stroke drawn on the pad", timeout_s)
        return "drawing pad: one vertical stroke"
    raise AssertionError("the widget has no enabled slider, toggle button or drawing pad")


def _choices(kind: str, group) -> list:
    """The clicks to make: each option not selected now, in order. The last one stays selected,
    so that controls it enables (t-SNE's perplexity, say) are tried in the next pass."""
    if kind == "toggle buttons":
        buttons = group.locator("button")
        options = [buttons.nth(j) for j in range(buttons.count())]
        return [b for b in options if "mod-active" not in (b.get_attribute("class") or "")]
    if kind == "radio buttons":
        inputs = group.locator("input[type=radio]")
        options = [inputs.nth(j) for j in range(inputs.count())]
        return [r for r in options if not r.is_checked()]
    clickable = group.locator("input[type=checkbox]") if group.locator("input[type=checkbox]").count() \
        else group
    return [clickable.first, clickable.first]                # on, then back
