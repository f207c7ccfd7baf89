"""Draw a digit with the mouse in real JupyterLab (headless Chromium), in each of the four
notebooks that have a drawing pad: run all cells, clear the pad, draw a '1' (one vertical
stroke), then clear and draw a '0' (an oval), and check that the code, the repairs and the
judge's guess appear and change; then draw the '1' again with a finger (touch events).
Screenshots: test-output/browser/drawing/.
"""
import math
import shutil
import time

import pytest

import lab_browser

pytestmark = pytest.mark.browser

PAD = 280                                      # canvas pixels, shown at 280 CSS pixels
# a long first segment (its middle is far from the dot the pen makes where it lands), so the
# test can time how soon a segment shows; the rest in small steps
ONE = [(140, 50)] + [(140, 140 + 90 * i / 12) for i in range(13)]
ZERO = [(140 + 60 * math.sin(2 * math.pi * i / 48), 140 - 90 * math.cos(2 * math.pi * i / 48))
        for i in range(49)]
EMPTY = "draw a digit on the pad"

NOTEBOOKS = {   # notebook: what the line under the figure starts with once a digit is drawn
    "01_vanilla_autoencoder.ipynb": "code z = (",
    "02_denoising_autoencoder.ipynb": "masking noise, level",
    "06_vae_neural_network_view.ipynb": "judge: ",
    "09_beyond_the_lecture.ipynb": "judge: ",
}

# A pixel of the canvas, 0-255 (red channel): is the stroke shown there?
_PIXEL = "([c, x, y]) => c.getContext('2d').getImageData(x, y, 1, 1).data[0]"


def view_state(view) -> dict:
    return view.evaluate("""(v) => ({
        images: [...v.querySelectorAll('img')].map(i => i.src),
        text: [...v.querySelectorAll('.widget-html-content')].map(e => e.textContent.trim()).filter(t => t).pop() || '',
    })""")


def wait_for(view, condition, what: str, timeout_s: float = 60) -> dict:
    deadline = time.time() + timeout_s
    while True:
        state = view_state(view)
        if condition(state):
            return state
        if time.time() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout_s:.0f} s; the view shows {state['text']!r}")
        time.sleep(0.05)


# A finger on a touch screen: the TouchEvents a browser sends, at canvas pixel (x, y).
_TOUCH = """([canvas, type, x, y]) => {
  const box = canvas.getBoundingClientRect();
  const touch = new Touch({identifier: 1, target: canvas, clientX: box.left + x, clientY: box.top + y});
  const touches = type === 'touchend' ? [] : [touch];
  canvas.dispatchEvent(new TouchEvent(type, {touches, targetTouches: touches, changedTouches: [touch],
                                             bubbles: true, cancelable: true}));
}"""


def draw(page, canvas, points, touch: bool = False) -> dict:
    """One stroke through `points` (canvas pixels), with the mouse or a finger. Returns how long
    the first segment took to show on the canvas (stroke_ms; None when its middle is covered by
    the dot the pen makes where it lands)."""
    box = canvas.bounding_box()
    handle = canvas.element_handle()

    def to(kind, x, y):
        if touch:
            page.evaluate(_TOUCH, [handle, {"down": "touchstart", "move": "touchmove", "up": "touchend"}[kind], x, y])
            return
        page_xy = (box["x"] + x * box["width"] / PAD, box["y"] + y * box["height"] / PAD)
        if kind == "up":
            page.mouse.up()
        else:
            page.mouse.move(*page_xy)
            if kind == "down":
                page.mouse.down()

    (x0, y0), (x1, y1) = points[:2]
    middle = [handle, round((x0 + x1) / 2), round((y0 + y1) / 2)]
    timed = math.dist((x0, y0), middle[1:]) > 20 and page.evaluate(_PIXEL, middle) == 0
    to("down", x0, y0)
    started = time.perf_counter()
    to("move", x1, y1)
    while timed and page.evaluate(_PIXEL, middle) < 200:
        assert time.perf_counter() - started < 10, "the stroke did not appear on the canvas"
        time.sleep(0.005)
    stroke_ms = 1000 * (time.perf_counter() - started) if timed else None
    for x, y in points[2:]:
        to("move", x, y)
    to("up", *points[-1])
    return {"stroke_ms": stroke_ms}


@pytest.mark.parametrize("name", NOTEBOOKS, ids=lambda n: n[:2])
def test_draw_a_digit_with_the_mouse(name, lab, page, screenshot_dir):
    folder = screenshot_dir / "drawing"
    folder.mkdir(exist_ok=True)
    shutil.copy(lab_browser.NOTEBOOKS_DIR / name, lab.root / name)
    lab_browser.open_notebook(page, lab, name)
    lab_browser.run_all_cells(page)
    errors = lab_browser.find_errors(page)
    assert not errors, f"{name}: cells failed:\n" + "\n\n".join(errors)[:4000]

    view = lab_browser.widget_views(page).filter(has=page.locator("canvas"))
    assert view.count() == 1, f"{name}: expected one drawing pad, found {view.count()}"
    view = view.first
    view.scroll_into_view_if_needed()
    canvas = view.locator("canvas")
    canvas.wait_for(state="visible")
    prefix = NOTEBOOKS[name]
    loaded = wait_for(view, lambda s: s["text"].startswith(prefix), "the demo digit loaded from code")

    view.get_by_role("button", name="clear").click()
    empty = wait_for(view, lambda s: s["text"].startswith(EMPTY), "an empty pad after 'clear'")
    assert len(loaded["images"]) == 2, "the view shows two pictures: the pad's 28x28 preview and the figure"
    assert all(a != b for a, b in zip(loaded["images"], empty["images"])), "'clear' must empty both pictures"

    results = {}
    for digit, points, touch in (("1", ONE, False), ("0", ZERO, False), ("1 by touch", ONE, True)):
        timing = draw(page, canvas, points, touch)
        lifted = time.perf_counter()
        # the text is set after the pictures: once it shows, the pictures are there
        state = wait_for(view, lambda s: s["text"].startswith(prefix), f"the view of the drawn {digit}")
        assert all(a != b for a, b in zip(state["images"], empty["images"])), \
            "the pad's preview and the figure must both show the drawing"
        timing["update_ms"] = 1000 * (time.perf_counter() - lifted)
        results[digit] = dict(state, **timing)
        view.screenshot(path=folder / f"{name[:2]}-drew-{digit.replace(' ', '-')}.png")
        shown = "" if timing["stroke_ms"] is None else f"first segment on the canvas after {timing['stroke_ms']:.0f} ms; "
        print(f"\n{name}: drew a {digit}: {state['text']}\n  {shown}view updated "
              f"{timing['update_ms']:.0f} ms after the pen was lifted")
        view.get_by_role("button", name="clear").click()
        wait_for(view, lambda s: s["text"].startswith(EMPTY), "an empty pad after 'clear'")

    one, zero = results["1"], results["0"]
    assert one["text"] != zero["text"], "a '1' and a '0' gave the same numbers"
    assert all(a != b for a, b in zip(one["images"], zero["images"])), \
        "the pad's preview and the figure must both change between the digits"
    for digit, result in results.items():
        label = digit[0]
        if name[:2] in ("06", "09"):     # the judge reads the drawings as MNIST digits
            assert result["text"].startswith(f"judge: {label} "), \
                f"the judge should read the drawn {digit} as a {label}: {result['text']!r}"
        if name.startswith("01"):     # the nearest training codes are mostly of the drawn class
            nearest = result["text"].split("nearest training digits: ")[1].split(", ")
            assert nearest.count(label) >= 3, f"a drawn {digit}: nearest training digits {nearest}"
    errors = lab_browser.find_errors(page)
    assert not errors, f"{name}: the pad's callbacks failed:\n" + "\n\n".join(errors)[:4000]
