"""The course as a website (build/site/, `make site`): every page opened in headless Chromium
with every request outside the site aborted.

Each page: nothing asked from outside the site, no failed request, no console error, every
picture with a text alternative, headings in order, the maths rendered (by KaTeX, at build
time), at most 1.5 MB fetched until the load event (no network's weights among them). Each
precomputed widget: every control moved from the keyboard changes the picture. Each browser
decoder: it says it is loading its network, then a slider moves the digit, and for 100 codes
the page's decoder matches PyTorch's within 0.01 per pixel; each network is fetched once per
page. Opened from a folder (file://), a live widget says how to serve the site. axe-core over
every page: no serious or critical violation (report in test-output/site/axe.json).

The site is built first if build/site/ is missing or older than its sources (a few minutes
with a filled model cache). Screenshots go to test-output/site/.
"""
import json
import shutil

import pytest

import site_browser as sb
from lab_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site():
    return sb.ensure_site()


@pytest.fixture(scope="module")
def output():
    shutil.rmtree(sb.OUTPUT, ignore_errors=True)
    sb.OUTPUT.mkdir(parents=True)
    return sb.OUTPUT


@pytest.fixture(scope="module")
def offline(site, chromium, playwright_session):
    server = sb.serve(site)
    browser, context = sb.offline_context(playwright_session, chromium, server.base)
    context.base = server.base
    yield context
    browser.close()
    server.stop()


PAGE_BUDGET = 1_500_000         # bytes a page may fetch until its load event (issue 26)


def shot_name(path: str) -> str:
    return path.replace("/", "_").replace(".html", "")


def page_problems(page, log, path: str) -> list[str]:
    """What is wrong with one opened page, as sentences (empty: nothing)."""
    problems = []
    if log.outside:
        problems.append(f"asked for things outside the site: {log.outside[:5]}")
    if log.failed:
        problems.append(f"failed requests: {log.failed[:5]}")
    if log.errors:
        problems.append(f"console errors: {log.errors[:5]}")
    missing = sb.images_without_alt(page)
    if missing:
        problems.append(f"pictures without a text alternative: {missing[:5]}")
    levels = sb.heading_levels(page)
    if not levels or levels[0] != 1 or levels.count(1) != 1:
        problems.append(f"not one h1 first: {levels[:5]}")
    jumps = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
    if jumps:
        problems.append(f"headings skip a level: {jumps}")
    maths = sb.maths_state(page)
    if maths["rendered"] != maths["maths"] or maths["raw"]:
        problems.append(f"maths not rendered: {maths}")
    if path.startswith("notebooks/") and maths["maths"] == 0:
        problems.append("a notebook page without maths: the build did not render it?")
    if log.at_load > PAGE_BUDGET:
        problems.append(f"{log.at_load / 1e6:.2f} MB fetched until load (at most {PAGE_BUDGET / 1e6} MB)")
    weights = [url for url in log.requests if sb.is_network(url)]
    if weights:
        problems.append(f"networks fetched before any widget was near: {weights[:3]}")
    return [f"{path}: {p}" for p in problems]


def test_every_page_offline(site, offline, output):
    paths = sb.site_pages(site)
    notebooks = [p for p in paths if p.startswith("notebooks/")]
    course = sorted(p.stem for p in (sb.REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert "index.html" in paths and [p[len("notebooks/"):-len(".html")] for p in sorted(notebooks)] == course, \
        f"a page for each notebook of the course ({course}); pages of the site: {paths}"
    problems = []
    for path in paths:
        page, log = sb.open_offline(offline, f"{offline.base}/{path}")
        try:
            page.screenshot(path=str(output / f"{shot_name(path)}.png"))
            problems += page_problems(page, log, path)
            print(f"{path}: {log.at_load / 1e3:.0f} kB fetched until load")
        finally:
            page.close()
    assert not problems, "\n".join(problems)


def test_widgets_move_offline(site, offline, output):
    """Every control of every precomputed widget changes its picture; every decoder's slider
    changes its canvas."""
    moved, decoders = 0, 0
    for path in [p for p in sb.site_pages(site) if p.startswith("notebooks/")]:
        page, log = sb.open_offline(offline, f"{offline.base}/{path}")
        try:
            figures = page.locator("figure.aew")
            for n in range(figures.count()):
                figure = figures.nth(n)
                figure.scroll_into_view_if_needed()
                widget = figure.get_attribute("id")
                form = figure.get_attribute("data-aew-form")
                figure.screenshot(path=str(output / f"{widget}-before.png"))
                if form == "frames":
                    results = sb.move_controls(page, figure)
                    assert results, f"{widget}: no control could be moved"
                    for r in results:
                        assert r["changed"], f"{widget}: moving {r['control']!r} changed nothing"
                        assert r["loaded"], f"{widget}: the picture for {r['control']!r} did not load"
                    moved += len(results)
                elif form == "decoder":
                    sb.wait_ready(figure)
                    before = sb.canvas_pixels(figure)
                    slider = figure.locator("input[type=range]").first
                    slider.focus()
                    for _ in range(5):
                        slider.press("ArrowRight")
                    assert sb.canvas_pixels(figure) != before, f"{widget}: the digit did not move"
                    decoders += 1
                elif form == "drawing":
                    sb.wait_ready(figure)
                figure.screenshot(path=str(output / f"{widget}-after.png"))
            assert not log.errors, f"{path}: console errors {log.errors[:5]}"
            assert not log.failed and not log.outside, f"{path}: {log.failed[:3]} {log.outside[:3]}"
            networks = [url for url in log.requests if sb.is_network(url)]
            wanted = page.evaluate("""() => Array.from(document.querySelectorAll('script.aew-data')).flatMap(s => {
                const d = JSON.parse(s.textContent);
                return d.network ? [d.network.url] : d.networks ? Object.values(d.networks).map(n => n.url) : [];
              }).map(u => new URL(u, location.href).href)""")
            assert sorted(networks) == sorted(set(wanted)), f"{path}: each network once: fetched {networks}"
        finally:
            page.close()
    assert decoders == 2, f"expected the latent explorers of 01 and 06 as browser decoders, found {decoders}"
    assert moved >= 20, f"only {moved} controls moved"


def test_decoders_match_pytorch(site, offline):
    """For 100 codes, the digit the page computes equals PyTorch's within 0.01 per pixel."""
    checked = 0
    for widget_id in sb.decoder_checks():
        page, _ = sb.open_offline(offline, f"{offline.base}/notebooks/" +
                                  next(p.name for p in (sb.SITE / "notebooks").glob(f"{widget_id[:2]}_*.html")))
        try:
            worst = sb.decoder_parity(page, widget_id)
            weights = sb.weight_formats(widget_id)["decoder"]
            print(f"{widget_id}: largest difference {worst:.5f} per pixel over 100 codes "
                  f"({weights['format']} weights; at build time, as shipped against float32: {weights['difference']:.5f})")
            assert worst < 0.01, f"{widget_id}: the page's decoder differs from PyTorch's by {worst:.4f}"
            checked += 1
        finally:
            page.close()
    assert checked == 2, f"expected two browser decoders to check, found {checked}"


def test_axe_no_serious_violations(site, offline, output):
    if not sb.AXE.exists():
        pytest.fail(sb.AXE_HINT, pytrace=False)
    report, serious = {}, []
    for path in sb.site_pages(site):
        page, _ = sb.open_offline(offline, f"{offline.base}/{path}")
        try:
            violations = sb.run_axe(page)
        finally:
            page.close()
        report[path] = violations
        serious += [f"{path}: {v['id']} ({v['impact']}) {v['help']} at {v['nodes'][:2]}"
                    for v in violations if v["impact"] in ("serious", "critical")]
    (output / "axe.json").write_text(json.dumps(report, indent=1))
    assert not serious, "axe-core: serious or critical violations:\n" + "\n".join(serious)


# --- the drawing pads (notebooks 01, 02, 06) ---------------------------------------------------

from test_drawing_pad import ONE, ZERO    # noqa: E402  the strokes the notebook test draws

DRAWING_PAGES = {"01": "code z = (", "02": "masking noise, level", "06": "judge: "}


def drawing_page(offline, number: str):
    name = next(p.name for p in (sb.SITE / "notebooks").glob(f"{number}_*.html"))
    page, log = sb.open_offline(offline, f"{offline.base}/notebooks/{name}")
    figure = page.locator("figure.aew-drawing")
    assert figure.count() == 1, f"{name}: expected one drawing pad on the page, found {figure.count()}"
    widget = figure.get_attribute("id")
    sb.wait_ready(figure.first)
    page.wait_for_function("id => AEW.drawings[id] && AEW.drawings[id].digit()", arg=widget)
    return page, log, figure.first, widget


def view_state(page, widget: str) -> dict:
    return page.evaluate("""id => ({text: AEW.drawings[id].text(), digit: AEW.drawings[id].digit(),
        figure: document.getElementById(id).querySelector('canvas.aew-canvas').toDataURL()})""", widget)


def mouse_stroke(page, canvas, points) -> None:
    box = canvas.bounding_box()
    size = int(canvas.get_attribute("width"))
    to_page = [(box["x"] + x * box["width"] / size, box["y"] + y * box["height"] / size) for x, y in points]
    page.mouse.move(*to_page[0])
    page.mouse.down()
    for xy in to_page[1:]:
        page.mouse.move(*xy)
    page.mouse.up()


def touch_stroke(page, canvas, points) -> None:
    """A finger: Chromium's own touch input (DevTools protocol), which the page gets as
    pointer events of type 'touch'."""
    box = canvas.bounding_box()
    size = int(canvas.get_attribute("width"))
    cdp = page.context.new_cdp_session(page)
    for n, (x, y) in enumerate(points):
        kind = "touchStart" if n == 0 else "touchMove"
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
            {"x": box["x"] + x * box["width"] / size, "y": box["y"] + y * box["height"] / size}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


@pytest.mark.parametrize("number", DRAWING_PAGES)
def test_draw_a_digit_on_the_website(number, site, offline, output):
    """Clear the pad, draw a '1' then a '0' with the mouse, then a '1' with a finger: the point,
    the reconstruction / repairs / guess appear and change, as in JupyterLab, with nothing asked
    from outside the site; the keyboard's example buttons work too. The redraw after the pen is
    lifted takes a frame or two."""
    page, log, figure, widget = drawing_page(offline, number)
    try:
        figure.scroll_into_view_if_needed()
        pad = figure.locator("canvas.aew-pad-canvas")
        empty_text = page.evaluate("id => JSON.parse(document.getElementById(id)"
                                   ".querySelector('script.aew-data').textContent).empty", widget)
        figure.get_by_role("button", name="clear", exact=True).click()
        empty = view_state(page, widget)
        assert empty["text"] == empty_text and empty["digit"] is None
        page.evaluate("() => { AEW.drawTimings.length = 0; }")
        results = {}
        for digit, points, how in (("1", ONE, mouse_stroke), ("0", ZERO, mouse_stroke), ("1 by touch", ONE, touch_stroke)):
            figure.get_by_role("button", name="clear", exact=True).click()
            how(page, pad, points)
            state = view_state(page, widget)
            assert state["text"].startswith(DRAWING_PAGES[number]), f"{number}, drew a {digit}: {state['text']!r}"
            assert state["figure"] != empty["figure"], f"{number}: the figure did not show the drawn {digit}"
            results[digit] = state
            figure.screenshot(path=str(output / f"drawing-{number}-{digit.replace(' ', '-')}.png"))
            print(f"\n{number}: drew a {digit}: {state['text']}")
        one, zero = results["1"], results["0"]
        assert one["text"] != zero["text"] and one["figure"] != zero["figure"]
        assert results["1 by touch"]["text"] == one["text"], "a finger's '1' and the mouse's differ"
        for digit, state in results.items():
            label = digit[0]
            if number == "06":
                assert state["text"].startswith(f"judge: {label} "), f"the judge on the drawn {digit}: {state['text']!r}"
            if number == "01":
                nearest = state["text"].split("nearest training digits: ")[1].split(", ")
                assert nearest.count(label) >= 3, f"a drawn {digit}: nearest training digits {nearest}"
        timings = page.evaluate("() => AEW.drawTimings.slice()")
        print(f"{number}: redraw after the pen is lifted: {', '.join(f'{t:.1f}' for t in timings)} ms")
        assert len(timings) >= 3 and max(timings) < 100, f"{number}: slow redraw {timings} ms"
        # the keyboard: an example button draws a digit
        example = figure.get_by_role("button", name="draw an example 7")
        example.focus()
        page.keyboard.press("Enter")
        seven = view_state(page, widget)
        assert seven["digit"] is not None and seven["text"] not in (one["text"], zero["text"])
        figure.screenshot(path=str(output / f"drawing-{number}-example-7.png"))
        assert not log.errors, f"{number}: console errors {log.errors[:5]}"
        assert not log.failed and not log.outside, f"{number}: {log.failed[:3]} {log.outside[:3]}"
    finally:
        page.close()


def _largest(a, b) -> float:
    import numpy as np
    return float(np.abs(np.asarray(a, dtype=float).reshape(-1) - np.asarray(b, dtype=float).reshape(-1)).max())


def same_text(page_text: str, python_text: str) -> bool:
    """The same words, and each number the same up to one unit of its last printed digit (the
    float16 or int8 weights can tip a rounding: 0.0221 against 0.0220)."""
    import re
    number = r"-?\d+(?:\.\d+)?"
    if re.split(number, page_text) != re.split(number, python_text):
        return False
    for a, b in zip(re.findall(number, page_text), re.findall(number, python_text)):
        unit = 10.0 ** -len(b.split(".")[1]) if "." in b else 1.0
        if abs(float(a) - float(b)) > 1.01 * unit:
            return False
    return True


@pytest.mark.parametrize("number", DRAWING_PAGES)
def test_drawing_pads_compute_as_pytorch(number, site, offline):
    """The page against PyTorch: (1) for the digits saved at build time (the notebook's and the
    examples, prepared in Python), every number the view shows; (2) the page's preparation of
    strokes drawn on its canvas against helpers.drawing's for the same strokes."""
    import numpy as np
    from helpers.drawing import EXAMPLES, Stroke, prepare_digit, render_strokes
    page, _, figure, widget = drawing_page(offline, number)
    try:
        check = json.loads(next(sb.CHECKS.glob(f"{number}/*-drawing-check.json")).read_text())
        worst = {}
        for case in check:
            ours = page.evaluate("([id, digit, setting]) => AEW.drawings[id].compute(digit, setting)",
                                 [widget, case["digit"], case["setting"]])
            theirs = case["result"]
            keys = {"01": ["code", "reconstruction", "error"], "02": ["noisy", "plain AE", "DAE"],
                    "06": ["mu", "sigma", "mean", "samples", "probabilities"]}[number]
            for key in keys:
                worst[key] = max(worst.get(key, 0), _largest(ours[key], theirs[key]))
            if number == "01":
                assert ours["neighbours"] == theirs["neighbours"], (ours["neighbours"], theirs["neighbours"])
            if number == "02":
                assert ours["kind"] == theirs["kind"]
                for name, value in theirs["errors"].items():
                    worst["errors"] = max(worst.get("errors", 0), abs(ours["errors"][name] - value))
            if number == "06":
                assert ours["guess"] == theirs["guess"]
            assert same_text(ours["text"], theirs["text"]), f"{number}: page {ours['text']!r}, PyTorch {theirs['text']!r}"
        print(f"\n{number}: largest page - PyTorch difference over {len(check)} cases: "
              + ", ".join(f"{k} {v:.5f}" for k, v in worst.items()) + "; weights: " + ", ".join(
                  f"{k} {w['format']}" for k, w in sb.weight_formats(widget.removeprefix("aew-")).items()))
        limits = {"code": 0.05, "mu": 0.02, "sigma": 0.02, "probabilities": 0.01, "error": 0.001,
                  "errors": 0.001}
        for key, value in worst.items():
            assert value < limits.get(key, 0.01), f"{number}: {key} differs from PyTorch's by {value:.4f}"

        # preparation: strokes on the page's canvas (the browser's anti-aliasing) against
        # helpers.drawing (Pillow's): the ink, then the prepared digits. Rounding the placement
        # to whole pixels can move a digit by one pixel when the two inks differ by a hair, so
        # the digits are compared at the best of the nine shifts by at most one pixel.
        stroke_sets = {"1": [Stroke(ONE)], "0": [Stroke(ZERO)], **{f"example {k}": v for k, v in EXAMPLES.items()}}
        figures = {}
        for name, strokes in stroke_sets.items():
            ours = page.evaluate("([id, strokes]) => AEW.drawings[id].drawStrokes(strokes)", [widget, [
                {"points": [list(p) for p in s.points], "width": s.width, "erase": s.erase} for s in strokes]])
            ink = np.array(page.evaluate("id => AEW.drawings[id].ink()", widget)).reshape(280, 280)
            ours, theirs = np.array(ours).reshape(28, 28), prepare_digit(render_strokes(strokes))
            shifted = min(np.abs(np.roll(ours, (dy, dx), axis=(0, 1)) - theirs).max()
                          for dy in (-1, 0, 1) for dx in (-1, 0, 1))
            figures[name] = dict(ink_mean=np.abs(ink - render_strokes(strokes)).mean(),
                                 digit_max=np.abs(ours - theirs).max(), digit_mean=np.abs(ours - theirs).mean(),
                                 shifted_max=shifted)
        print(f"{number}: page's canvas and preparation against helpers.drawing's: " + "; ".join(
            f"{k}: ink {f['ink_mean']:.4f} mean, digit {f['digit_max']:.3f} max {f['digit_mean']:.4f} mean, "
            f"{f['shifted_max']:.3f} max at the best shift" for k, f in figures.items()))
        for name, f in figures.items():
            assert f["ink_mean"] < 0.005 and f["shifted_max"] < 0.25, f"{number}, strokes {name}: {f}"
    finally:
        page.close()


def test_a_page_opened_from_a_folder_says_how_to_serve_the_site(site, chromium, playwright_session):
    """file://: a browser does not let a page fetch files, so the live widgets cannot get their
    networks; each says so and how to serve the site, the rest of the page works."""
    browser = playwright_session.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((site / "notebooks" / next(p.name for p in (site / "notebooks").glob("01_*.html"))).as_uri())
        figure = page.locator("figure.aew-decoder").first
        figure.scroll_into_view_if_needed()
        page.wait_for_function("f => f.getAttribute('data-aew-state') === 'failed'", arg=figure.element_handle())
        status = figure.locator(".aew-status").inner_text()
        assert "must be served" in status and "http.server" in status, status
        assert not errors, errors            # no uncaught exception: the failure is handled
        assert sb.maths_state(page)["rendered"] > 0
    finally:
        browser.close()
