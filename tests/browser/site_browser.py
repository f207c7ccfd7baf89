"""The course's website (build/site/, from `make site`) in headless Chromium, for the site tests
and the site benchmark.

`serve` serves the site folder on 127.0.0.1 (text files gzip-compressed, as a web host serves
them, when asked); `open_offline` opens a page with every request outside that server aborted
and recorded, and collects failed requests, console errors and the bytes fetched until the load
event; `check_*` look at one page as a reader would; `move_controls` moves each control of each
precomputed widget from the keyboard, `move_every_widget` every widget of a page once;
`lighthouse` runs Lighthouse (npm, tests/browser/lighthouse) on a page. Nothing here writes
into the repository except test-output/site/.
"""
from __future__ import annotations

import functools
import gzip
import http.server
import json
import mimetypes
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


class _CompressingHandler(_QuietHandler):
    """As a static web host serves files: text files (HTML, CSS, JavaScript, JSON, SVG)
    gzip-compressed when the browser accepts it, and connections kept open for the next request
    (HTTP/1.1); python -m http.server does neither."""
    TEXT = {".html", ".css", ".js", ".json", ".svg", ".txt"}
    protocol_version = "HTTP/1.1"
    _cache: dict = {}

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if (path.suffix not in self.TEXT or not path.is_file()
                or "gzip" not in self.headers.get("Accept-Encoding", "")):
            return super().do_GET()
        key = (path, path.stat().st_mtime_ns)
        if key not in self._cache:
            self._cache[key] = gzip.compress(path.read_bytes(), 6)
        body = self._cache[key]
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@dataclass
class Server:
    base: str
    httpd: http.server.ThreadingHTTPServer

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def serve(folder: Path = SITE, compress: bool = False) -> Server:
    """Serve `folder` on 127.0.0.1, a free port, in a background thread; compress: text files
    gzip-compressed (as a web host would)."""
    handler = functools.partial(_CompressingHandler if compress else _QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return Server(f"http://127.0.0.1:{httpd.server_address[1]}", httpd)


@dataclass
class PageLog:
    outside: list = field(default_factory=list)      # requests to anything but the site: aborted
    failed: list = field(default_factory=list)       # requests that failed or answered >= 400
    errors: list = field(default_factory=list)       # console errors and uncaught exceptions
    requests: list = field(default_factory=list)     # every url the page asked for, in order
    fetched: dict = field(default_factory=dict)      # url -> bytes received (body as sent + headers)
    at_load: int = 0                                 # bytes received until the load event

    def bytes(self) -> int:
        return sum(self.fetched.values())


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
    """Open url in a new tab; return (page, log), once the page has loaded and the network is
    quiet."""
    page = context.new_page()
    log = PageLog()
    start = len(context.outside)
    page.on("console", lambda m: log.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.errors.append(str(e)))
    page.on("requestfailed", lambda r: log.failed.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: log.failed.append(f"{r.url} ({r.status})") if r.status >= 400 else None)
    page.on("request", lambda r: log.requests.append(r.url))
    cdp = page.context.new_cdp_session(page)      # bytes on the wire, as DevTools counts them
    cdp.send("Network.enable")
    urls = {}
    cdp.on("Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: log.fetched.__setitem__(
        urls.get(e["requestId"], e["requestId"]), int(e["encodedDataLength"])))
    page.goto(url, wait_until="load")
    log.at_load = log.bytes()
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
    """How many maths elements the page has, how many KaTeX rendered (at build time: HTML, with
    MathML for screen readers, and no error), and raw TeX left over."""
    return page.evaluate("""() => {
      const maths = Array.from(document.querySelectorAll('.math'));
      const rendered = maths.filter(m => m.querySelector('.katex .katex-html') &&
                                         m.querySelector('.katex math') && !m.querySelector('.katex-error')).length;
      const article = document.querySelector('article') || document.body;
      const copy = article.cloneNode(true);
      // KaTeX's MathML keeps the TeX source as an annotation, for screen readers and copying
      copy.querySelectorAll('pre, code, script, .highlight, annotation').forEach(n => n.remove());
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


def is_network(url: str) -> bool:
    """A network's weights (website/export.py's FORMATS: a .f16 or an .i8 file)."""
    from website.export import FORMATS
    return url.endswith(tuple(FORMATS.values()))


def weight_formats(widget_id: str) -> dict:
    """{network: its format and the largest difference int8 made at build time} of a live
    widget (website/export.py writes <id>-weights.json beside its check data)."""
    found = list(CHECKS.glob(f"*/{widget_id}-weights.json"))
    return json.loads(found[0].read_text()) if found else {}


def decoder_checks() -> dict:
    """{widget id: its saved PyTorch outputs} for every browser decoder of the site."""
    return {p.name.removesuffix("-decoder-check.json"): p for p in sorted(CHECKS.glob("*/*-decoder-check.json"))}


def canvas_pixels(figure) -> str:
    return figure.evaluate("f => f.querySelector('canvas.aew-canvas').toDataURL()")


def decoder_parity(page, widget_id: str) -> float:
    """Largest difference, over 100 codes and 784 pixels, between the page's decoder (its
    output array, not the canvas's 8-bit pixels) and PyTorch's (saved at build time)."""
    check = json.loads(next(CHECKS.glob(f"*/{widget_id}-decoder-check.json")).read_text())
    ours = page.evaluate("([id, codes]) => AEW.decoders['aew-' + id].load().then(() => "
                         "codes.map(z => AEW.decoders['aew-' + id].decode(z[0], z[1])))",
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
    wait_ready(figure)
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


def move_every_widget(page) -> int:
    """Move every widget of the page once, as a reader would: each one scrolled into view (its
    network, if any, then loads), each control of a precomputed widget moved, a decoder's slider
    moved, a drawing pad's example button pressed. Returns how many widgets were moved."""
    figures = page.locator("figure.aew[data-aew-form]")
    for n in range(figures.count()):
        figure = figures.nth(n)
        figure.scroll_into_view_if_needed()
        form = figure.get_attribute("data-aew-form")
        if form == "frames":
            move_controls(page, figure)
        elif form in ("decoder", "drawing"):
            wait_ready(figure)
            if form == "decoder":
                slider = figure.locator("input[type=range]").first
                slider.focus()
                slider.press("ArrowRight")
            else:
                figure.get_by_role("button", name="draw an example").first.click()
    page.wait_for_load_state("networkidle")
    return figures.count()


def wait_ready(figure, timeout: float = 60_000) -> None:
    """Wait until a decoder's or drawing pad's network has come (it is fetched when the widget
    comes near the screen); fail if it could not load."""
    figure.scroll_into_view_if_needed()
    figure.page.wait_for_function("f => ['ready', 'failed'].includes(f.getAttribute('data-aew-state'))",
                                  arg=figure.element_handle(), timeout=timeout)
    state = figure.get_attribute("data-aew-state")
    assert state == "ready", f"{figure.get_attribute('id')}: {figure.locator('.aew-status').inner_text()}"


# --- Lighthouse ---------------------------------------------------------------------------------

LIGHTHOUSE = REPO / "tests" / "browser" / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"
LIGHTHOUSE_HINT = ("Lighthouse is missing: run `npm ci --prefix tests/browser/lighthouse` (needs Node 18 "
                   "or newer and npm; Lighthouse 12.2.3 is pinned, 13 needs Node 22).")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def lighthouse(url: str, chromium: str, report: Path) -> dict:
    """Lighthouse's mobile audit of one page (its defaults: a phone's screen, simulated slow 4G
    and a 4x slower CPU), with the given Chromium; the JSON report goes to `report`. Returns the
    four category scores (0-100), the load metrics (ms, CLS unitless), the bytes it counted,
    and every audit of accessibility, best practices and SEO that did not pass."""
    command = ["node", str(LIGHTHOUSE), url, "--output=json", f"--output-path={report}", "--quiet",
               "--only-categories=" + ",".join(CATEGORIES),
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run"]
    done = subprocess.run(command, env=dict(os.environ, CHROME_PATH=chromium), capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0 or not report.exists():
        raise RuntimeError(f"Lighthouse failed on {url}: {done.stderr[-2000:]}")
    data = json.loads(report.read_text())
    if data.get("runtimeError"):
        raise RuntimeError(f"Lighthouse on {url}: {data['runtimeError']}")
    audits = data["audits"]
    failing = []
    for name in CATEGORIES[1:]:
        for ref in data["categories"][name]["auditRefs"]:
            audit = audits[ref["id"]]
            if ref.get("weight", 0) > 0 and audit.get("score") is not None and audit["score"] < 1:
                failing.append(f"{name}: {audit['title']}")
    metrics = {key: audits[key].get("numericValue") for key in (
        "first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
        "cumulative-layout-shift", "speed-index", "interactive")}
    return {"scores": {k: round(100 * (data["categories"][k]["score"] or 0)) for k in CATEGORIES},
            "metrics": metrics, "bytes": audits["total-byte-weight"]["numericValue"], "failing": failing}
