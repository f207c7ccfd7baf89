"""The course's website (build/site/, from `make site`) in headless Chromium, for the site tests
and the site benchmark.

`serve` serves the site folder on 127.0.0.1; `open_offline` opens a page with every request
outside that server aborted and recorded, and collects failed requests and console errors;
`check_*` look at one page as a reader would; `move_controls` moves each control of each
precomputed widget from the keyboard. Nothing here writes into the repository except
test-output/site/.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "build" / "site"
CHECKS = REPO / "build" / "site-src" / "_widgets"   # the PyTorch decoders' outputs, for parity
OUTPUT = REPO / "test-output" / "site"
AXE = REPO / "tests" / "browser" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_HINT = "axe-core is missing: run `npm ci --prefix tests/browser/axe` (needs Node and npm)."
# What the site is built from: a site older than any of these is rebuilt before the tests.
SOURCES = [REPO / "README.md", REPO / "notebooks", REPO / "helpers", REPO / "website"]


def newest_source_time() -> float:
    times = []
    for source in SOURCES:
        files = [source] if source.is_file() else [p for p in source.rglob("*") if p.is_file()
                                                     and "__pycache__" not in p.parts]
        times += [p.stat().st_mtime for p in files]
    return max(times)


def ensure_site() -> Path:
    """build/site/, built now if it is missing or older than its sources."""
    index = SITE / "index.html"
    if not index.exists() or index.stat().st_mtime < newest_source_time():
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        subprocess.run([sys.executable, "-m", "website.build"], cwd=REPO, env=env, check=True)
    return SITE


def site_pages(site: Path = SITE) -> list[str]:
    """Every HTML page of the site, as paths relative to its folder."""
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html")
                  if "_static" not in p.parts and "webwidgets" not in p.parts)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@dataclass
class Server:
    base: str
    httpd: http.server.ThreadingHTTPServer

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def serve(folder: Path = SITE) -> Server:
    """Serve `folder` on 127.0.0.1, a free port, in a background thread."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return Server(f"http://127.0.0.1:{httpd.server_address[1]}", httpd)


@dataclass
class PageLog:
    outside: list = field(default_factory=list)      # requests to anything but the site: aborted
    failed: list = field(default_factory=list)       # requests that failed or answered >= 400
    errors: list = field(default_factory=list)       # console errors and uncaught exceptions


def offline_context(playwright, chromium: str, base: str):
    """A Chromium context where only `base` answers: every other request is aborted and noted
    in context.outside (a list of URLs)."""
    from lab_browser import CHROMIUM_ARGS
    browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.outside = []

    def route(r):
        if r.request.url.startswith(base + "/"):
            r.continue_()
        else:
            context.outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return browser, context


def open_offline(context, url: str):
    """Open url in a new tab; return (page, log). Waits for MathJax when the page has maths."""
    page = context.new_page()
    log = PageLog()
    start = len(context.outside)
    page.on("console", lambda m: log.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.errors.append(str(e)))
    page.on("requestfailed", lambda r: log.failed.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: log.failed.append(f"{r.url} ({r.status})") if r.status >= 400 else None)
    page.goto(url, wait_until="load")
    page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise "
                  "? MathJax.startup.promise.then(() => true) : true")
    page.wait_for_load_state("networkidle")
    log.outside = context.outside[start:]
    return page, log


def images_without_alt(page) -> list[str]:
    """<img> and canvas pictures whose text alternative is missing, empty or a file name."""
    return page.evaluate("""() => {
      const bad = [];
      document.querySelectorAll('img').forEach(img => {
        const alt = (img.getAttribute('alt') || '').trim();
        if (!alt || /\\.(png|jpe?g|gif|svg)$/i.test(alt)) bad.push(img.getAttribute('src'));
      });
      document.querySelectorAll('canvas.aew-canvas').forEach(c => {
        if (!(c.getAttribute('aria-label') || '').trim()) bad.push('canvas ' + c.closest('figure').id);
      });
      return bad;
    }""")


def maths_state(page) -> dict:
    """How many maths elements the page has, how many MathJax rendered, and raw TeX left over."""
    return page.evaluate("""() => {
      const maths = Array.from(document.querySelectorAll('.math'));
      const rendered = maths.filter(m => m.querySelector('mjx-container')).length;
      const article = document.querySelector('article') || document.body;
      const copy = article.cloneNode(true);
      copy.querySelectorAll('pre, code, script, .highlight').forEach(n => n.remove());
      const text = copy.textContent;
      const raw = ['$$', '\\\\[', '\\\\(', '\\\\frac', '\\\\mathbb'].filter(s => text.includes(s));
      return {maths: maths.length, rendered: rendered, raw: raw};
    }""")


def heading_levels(page) -> list[int]:
    """The levels of the main content's visible headings, in order (the theme's print-only
    header is hidden on screen)."""
    return page.evaluate("() => Array.from(document.querySelectorAll('main h1, main h2, main h3, "
                         "main h4, main h5, main h6')).filter(h => h.checkVisibility())"
                         ".map(h => Number(h.tagName[1]))")


_PICTURE = """(figure) => {
  const img = figure.querySelector('img.aew-picture');
  const texts = figure.querySelector('.aew-texts');
  return (img ? img.getAttribute('src') : '') + '|' + (texts ? texts.innerHTML : '');
}"""


def move_controls(page, figure) -> list[dict]:
    """Move each enabled control of a precomputed widget once, from the keyboard (a select by
    choosing its next enabled option); for each, whether the picture changed."""
    results = []
    controls = figure.locator(".aew-control")
    for n in range(controls.count()):
        control = controls.nth(n)
        before = figure.evaluate(_PICTURE)
        label = control.locator("label, legend").first.inner_text()
        if control.locator("input[type=range]").count():
            slider = control.locator("input[type=range]")
            if slider.is_disabled():
                continue
            slider.focus()
            at_end = slider.evaluate("s => s.value === s.max")
            slider.press("ArrowLeft" if at_end else "ArrowRight")
        elif control.locator("select").count():
            select = control.locator("select")
            if select.is_disabled():
                continue
            choice = select.evaluate("""s => { const o = Array.from(s.options);
                const i = o.findIndex((x, k) => k > s.selectedIndex && !x.disabled);
                const j = i >= 0 ? i : o.findIndex((x, k) => k !== s.selectedIndex && !x.disabled);
                return j >= 0 ? o[j].value : null; }""")
            if choice is None:
                continue
            select.select_option(choice)
        else:
            radios = control.locator("input[type=radio]:not([disabled])")
            if radios.count() < 2:
                continue
            control.locator("input[type=radio]:checked").focus()
            page.keyboard.press("ArrowRight")
        after = figure.evaluate(_PICTURE)
        try:                              # the new picture arrives from the site's folder
            figure.evaluate("""f => Promise.all(Array.from(f.querySelectorAll('img.aew-picture'))
                .map(i => i.decode()))""")
            loaded = True
        except Exception:
            loaded = False
        results.append({"control": label, "changed": before != after, "loaded": loaded})
    return results


def decoder_checks() -> dict:
    """{widget id: its saved PyTorch outputs} for every browser decoder of the site."""
    return {p.name.removesuffix("-decoder-check.json"): p for p in sorted(CHECKS.glob("*/*-decoder-check.json"))}


def canvas_pixels(figure) -> str:
    return figure.evaluate("f => f.querySelector('canvas.aew-canvas').toDataURL()")


def decoder_parity(page, widget_id: str) -> float:
    """Largest difference, over 100 codes and 784 pixels, between the page's decoder (its
    output array, not the canvas's 8-bit pixels) and PyTorch's (saved at build time)."""
    check = json.loads(next(CHECKS.glob(f"*/{widget_id}-decoder-check.json")).read_text())
    ours = page.evaluate("([id, codes]) => codes.map(z => AEW.decoders['aew-' + id].decode(z[0], z[1]))",
                         [widget_id, check["codes"]])
    return max(abs(a - b) for row_a, row_b in zip(ours, check["pixels"]) for a, b in zip(row_a, row_b))


def run_axe(page) -> list[dict]:
    """axe-core's violations on the page, each with its impact and the elements it concerns."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
      const result = await axe.run(document, {resultTypes: ['violations']});
      return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")


def slider_latency(page, moves: int = 40) -> list[float]:
    """Press arrow keys on the z1 and z2 sliders of the page's first browser decoder; the ms
    from each input event to the digit drawn on the canvas, as the page measures them."""
    figure = page.locator("figure.aew-decoder").first
    sliders = figure.locator("input[type=range]")
    page.evaluate("() => { AEW.timings.length = 0; }")
    quarter = max(1, moves // 4)
    plan = [(0, "ArrowRight")] * quarter + [(0, "ArrowLeft")] * quarter + \
           [(1, "ArrowRight")] * quarter + [(1, "ArrowLeft")] * (moves - 3 * quarter)
    for which, key in plan:
        sliders.nth(which).focus()
        sliders.nth(which).press(key)
        page.wait_for_timeout(20)
    return page.evaluate("() => AEW.timings.slice()")
