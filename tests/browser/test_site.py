"""The course as a website (build/site/, `make site`): every page opened in headless Chromium
with every request outside the site aborted.

Each page: nothing asked from outside the site, no failed request, no console error, every
picture with a text alternative, headings in order, the maths rendered by MathJax. Each
precomputed widget: every control moved from the keyboard changes the picture. Each browser
decoder: a slider moves the digit, and for 100 codes the page's decoder matches PyTorch's
within 0.01 per pixel. axe-core over every page: no serious or critical violation (report in
test-output/site/axe.json).

The site is built first if build/site/ is missing or older than its sources (a few minutes
with a filled model cache). Screenshots go to test-output/site/.
"""
import json
import shutil

import pytest

import site_browser as sb

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
        problems.append("a notebook page without maths: MathJax did not run?")
    return [f"{path}: {p}" for p in problems]


def test_every_page_offline(site, offline, output):
    paths = sb.site_pages(site)
    notebooks = [p for p in paths if p.startswith("notebooks/")]
    assert "index.html" in paths and len(notebooks) == 8, f"pages of the site: {paths}"
    problems = []
    for path in paths:
        page, log = sb.open_offline(offline, f"{offline.base}/{path}")
        try:
            page.screenshot(path=str(output / f"{shot_name(path)}.png"))
            problems += page_problems(page, log, path)
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
                    before = sb.canvas_pixels(figure)
                    slider = figure.locator("input[type=range]").first
                    slider.focus()
                    for _ in range(5):
                        slider.press("ArrowRight")
                    assert sb.canvas_pixels(figure) != before, f"{widget}: the digit did not move"
                    decoders += 1
                figure.screenshot(path=str(output / f"{widget}-after.png"))
            assert not log.errors, f"{path}: console errors {log.errors[:5]}"
            assert not log.failed and not log.outside, f"{path}: {log.failed[:3]} {log.outside[:3]}"
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
            print(f"{widget_id}: largest difference {worst:.5f} per pixel over 100 codes")
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
