"""The website (`make site`): how long it takes to build with a filled model cache, and how fast
a browser decoder redraws.

1. Build time: `python -m website.build` in a fresh process, wall seconds, with the model cache
   as it is (fill it first, e.g. with `make test` or one `make site`). The build prints its
   own split: executing the notebooks (including the widgets' export) and Sphinx.
2. Slider-to-canvas latency: build/site/ served on 127.0.0.1, notebook 01's page opened in
   headless Chromium with every outside request aborted; the z1 and z2 sliders of the latent
   explorer are moved MOVES times with the arrow keys. The page itself measures, for each
   move, the ms from the input event (event.timeStamp) to the end of drawing the new digit on
   its canvas (decoder forward pass included). Target: 95th percentile within one frame, 16 ms.
3. Drawing pads (01, 02, 06): the example buttons pressed DRAWINGS times in turn; the page
   measures, for each, the ms from the click to the view redrawn (reading the pad, preparing
   the digit, the view's networks, painting), as after a stroke ends. Target: 95th percentile
   within two frames, 33 ms.

4. Bytes and Lighthouse, per page: build/site/ served on 127.0.0.1 with text gzip-compressed
   (as a web host serves it; `python -m http.server` does not: the uncompressed figure is
   printed too); for each page, the bytes on the wire until the load event, then after moving
   every widget once (each scrolled into view, so its network loads, each control moved), and
   Lighthouse 12's mobile scores (tests/browser/lighthouse; goals: performance >= 90, the
   others 100). And the size of build/site/. Targets: <= 1.5 MB until load, <= 40 MB in all.

`python -m benchmarks site --latency-only` skips the build (uses build/site/ as it is);
`--pages-only` runs only part 4; `--no-lighthouse` leaves Lighthouse out of it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))
import lab_browser  # noqa: E402
import site_browser  # noqa: E402

MOVES = 40
TARGET_P95_MS = 16
PAGE = "notebooks/01_vanilla_autoencoder.html"
DRAWINGS = 30
DRAWING_TARGET_P95_MS = 33
DRAWING_PAGES = ["notebooks/01_vanilla_autoencoder.html", "notebooks/02_denoising_autoencoder.html",
                 "notebooks/06_vae_neural_network_view.html"]


def build_time() -> float:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "website.build"], cwd=REPO, env=env, check=True)
    return time.perf_counter() - started


def latency(moves: int = MOVES) -> np.ndarray:
    from playwright.sync_api import sync_playwright
    chromium = lab_browser.find_chromium()
    if chromium is None:
        raise SystemExit("Chromium is missing: " + lab_browser.INSTALL_HINT)
    server = site_browser.serve(site_browser.SITE)
    try:
        with sync_playwright() as p:
            browser, context = site_browser.offline_context(p, chromium, server.base)
            page, log = site_browser.open_offline(context, f"{server.base}/{PAGE}")
            page.locator("figure.aew-decoder").first.scroll_into_view_if_needed()
            site_browser.slider_latency(page, 8)                 # warm-up: JIT, first draws
            timings = np.array(site_browser.slider_latency(page, moves))
            browser.close()
    finally:
        server.stop()
    if log.outside or log.errors:
        raise SystemExit(f"the page asked outside the site or logged errors: {log.outside[:3]} {log.errors[:3]}")
    return timings


def on_each_page(paths, measure, compress: bool = False) -> dict:
    """{path: measure(page, log)} for each page of the built site, opened offline; stops when a
    page asks outside the site or logs an error."""
    from playwright.sync_api import sync_playwright
    chromium = lab_browser.find_chromium()
    if chromium is None:
        raise SystemExit("Chromium is missing: " + lab_browser.INSTALL_HINT)
    server = site_browser.serve(site_browser.SITE, compress=compress)
    results = {}
    try:
        with sync_playwright() as p:
            browser, context = site_browser.offline_context(p, chromium, server.base)
            for path in paths:
                page, log = site_browser.open_offline(context, f"{server.base}/{path}")
                results[path] = measure(page, log)
                if log.outside or log.errors:
                    raise SystemExit(f"{path} asked outside the site or logged errors: {log.outside[:3]} {log.errors[:3]}")
                page.close()
            browser.close()
    finally:
        server.stop()
    return results


def drawing_latency(drawings: int = DRAWINGS) -> dict:
    """{page: ms from each example button's click to its view redrawn}."""
    def measure(page, log):
        figure = page.locator("figure.aew-drawing").first
        site_browser.wait_ready(figure)
        buttons = figure.get_by_role("button", name="draw an example")
        for n in range(4):                               # warm-up: JIT, first draws
            buttons.nth(n % buttons.count()).click()
        page.evaluate("() => { AEW.drawTimings.length = 0; }")
        for n in range(drawings):
            buttons.nth(n % buttons.count()).click()
        return np.array(page.evaluate("() => AEW.drawTimings.slice()"))
    return on_each_page(DRAWING_PAGES, measure)


def site_size() -> int:
    return sum(p.stat().st_size for p in site_browser.SITE.rglob("*") if p.is_file())


def page_bytes(compress: bool) -> dict:
    """{page: (bytes until load, bytes after moving every widget once, widgets)}."""
    def measure(page, log):
        widgets = site_browser.move_every_widget(page)
        return log.at_load, log.bytes(), widgets
    return on_each_page(site_browser.site_pages(), measure, compress=compress)


def pages(with_lighthouse: bool = True) -> None:
    import tempfile
    print(f"build/site/: {site_size() / 1e6:.1f} MB in all (target: <= 40 MB)")
    compressed, plain = page_bytes(compress=True), page_bytes(compress=False)
    scores = {}
    if with_lighthouse and site_browser.LIGHTHOUSE.exists():
        server = site_browser.serve(site_browser.SITE, compress=True)
        try:
            with tempfile.TemporaryDirectory() as folder:
                for path in compressed:
                    scores[path] = site_browser.lighthouse(f"{server.base}/{path}", lab_browser.find_chromium(),
                                                           Path(folder) / "report.json")["scores"]
        finally:
            server.stop()
    elif with_lighthouse:
        print(site_browser.LIGHTHOUSE_HINT)
    print(f"{'page':44} {'until load':>11} {'all moved':>10} {'(no gzip)':>20} widgets  Lighthouse perf/a11y/bp/seo")
    for path, (at_load, moved, widgets) in compressed.items():
        s = scores.get(path)
        lighthouse = "/".join(str(s[k]) for k in site_browser.CATEGORIES) if s else "-"
        print(f"{path:44} {at_load / 1e6:8.2f} MB {moved / 1e6:7.2f} MB {plain[path][0] / 1e6:6.2f} / "
              f"{plain[path][1] / 1e6:5.2f} MB {widgets:7d}  {lighthouse}")
    worst = max(at_load for at_load, _, _ in compressed.values())
    print(f"largest page until load: {worst / 1e6:.2f} MB (target: <= 1.5 MB): "
          f"{'ok' if worst <= 1.5e6 else 'OVER TARGET'}")


def main() -> None:
    if "--pages-only" in sys.argv:
        pages("--no-lighthouse" not in sys.argv)
        return
    if "--latency-only" not in sys.argv:
        seconds = build_time()
        print(f"site build (warm model cache): {seconds:.0f} s")
    elif not (site_browser.SITE / "index.html").exists():
        raise SystemExit("build/site/ is missing: run `make site` first")
    timings = latency()
    p50, p95 = np.percentile(timings, [50, 95])
    print(f"slider-to-canvas latency on {PAGE}: median {p50:.1f} ms, 95th percentile {p95:.1f} ms, "
          f"max {timings.max():.1f} ms over {len(timings)} moves (target: 95th percentile "
          f"<= {TARGET_P95_MS} ms): {'ok' if p95 <= TARGET_P95_MS else 'SLOWER THAN TARGET'}")
    for path, timings in drawing_latency().items():
        p50, p95 = np.percentile(timings, [50, 95])
        print(f"drawing pad, drawing to view redrawn on {path}: median {p50:.1f} ms, 95th percentile "
              f"{p95:.1f} ms, max {timings.max():.1f} ms over {len(timings)} drawings (target: 95th "
              f"percentile <= {DRAWING_TARGET_P95_MS} ms): "
              f"{'ok' if p95 <= DRAWING_TARGET_P95_MS else 'SLOWER THAN TARGET'}")
    pages("--no-lighthouse" not in sys.argv)


if __name__ == "__main__":
    main()
