"""The website on a phone on a slow connection: Lighthouse 12 (npm, pinned in
tests/browser/lighthouse; its mobile defaults: a phone's screen, simulated slow 4G and a 4x
slower CPU) with the system's Chromium, against build/site/ served on 127.0.0.1 with text
compressed as a web host serves it. Goals (issue 26): performance at least 90, accessibility,
best practices and SEO 100, on each page audited.

Lighthouse takes about half a minute a page on a 2-core machine, so CI audits a few
representative pages: the home page, and the notebooks with the most widgets (01: a decoder, a
drawing pad and precomputed frames), the heaviest networks (02: four autoencoders) and the VAE
(06). AE_LIGHTHOUSE_PAGES=all audits every page; AE_LIGHTHOUSE_PAGES=index,03 some. Reports:
test-output/site/lighthouse/.
"""
import json
import os

import pytest

import site_browser as sb

pytestmark = pytest.mark.browser

PAGES = ["index", "01", "02", "06"]
GOALS = {"performance": 90, "accessibility": 100, "best-practices": 100, "seo": 100}


def chosen_pages(site) -> list[str]:
    every = sb.site_pages(site)
    wanted = os.environ.get("AE_LIGHTHOUSE_PAGES", ",".join(PAGES))
    if wanted == "all":
        return every
    chosen = [p for p in every for w in wanted.split(",")
              if p == f"{w}.html" or p.startswith(f"notebooks/{w}_")]
    assert len(chosen) == len(wanted.split(",")), f"AE_LIGHTHOUSE_PAGES={wanted}: pages {chosen} of {every}"
    return chosen


@pytest.fixture(scope="module")
def served():
    site = sb.ensure_site()
    if not sb.LIGHTHOUSE.exists():
        pytest.fail(sb.LIGHTHOUSE_HINT, pytrace=False)
    server = sb.serve(site, compress=True)
    yield site, server
    server.stop()


def test_lighthouse_mobile_goals(served, chromium):
    site, server = served
    folder = sb.OUTPUT / "lighthouse"
    folder.mkdir(parents=True, exist_ok=True)
    results, below = {}, []
    for path in chosen_pages(site):
        result = sb.lighthouse(f"{server.base}/{path}", chromium, folder / (path.replace("/", "_") + ".json"))
        results[path] = result
        m = result["metrics"]
        print(f"\n{path}: " + ", ".join(f"{k} {v}" for k, v in result["scores"].items())
              + f"; FCP {m['first-contentful-paint']:.0f} ms, LCP {m['largest-contentful-paint']:.0f} ms, "
              f"TBT {m['total-blocking-time']:.0f} ms, CLS {m['cumulative-layout-shift']:.3f}, "
              f"{result['bytes'] / 1e6:.2f} MB")
        below += [f"{path}: {name} {result['scores'][name]} < {goal}"
                  for name, goal in GOALS.items() if result["scores"][name] < goal]
        below += [f"{path}: {failing}" for failing in result["failing"]]
    (folder / "summary.json").write_text(json.dumps(results, indent=1))
    assert not below, "below the goals:\n" + "\n".join(below)
