"""Draw a digit: the preparation of a drawing (helpers.drawing) on known strokes and on real
MNIST digits, then the drawing pad and its three views, driven from Python as the browser
drives them (pen down, moves, pen up)."""
import numpy as np
import pytest
import torch

from helpers import drawing, models
from helpers.data import load_data
from helpers.drawing import Stroke, prepare_digit, render_strokes
from helpers.vae import VAE
from helpers.widgets import DrawingPad, DrawnCode, DrawnDenoising, DrawnPosterior
from helpers.widgets.drawing import EMPTY

ONE = [Stroke([(140, 50), (140, 230)])]                          # a vertical bar, 180 px tall
_angles = np.linspace(0, 2 * np.pi, 61)
ZERO = [Stroke(list(zip(140 + 60 * np.cos(_angles), 140 + 90 * np.sin(_angles))))]   # an oval


def ink_box(digit, threshold=0.0):
    """(rows, columns) spanned by the pixels above threshold."""
    rows = np.flatnonzero((digit > threshold).any(axis=1))
    cols = np.flatnonzero((digit > threshold).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


# --- preparation ---------------------------------------------------------------------------------

def test_a_known_ink_image_gives_a_known_digit():
    """A solid 100 x 50 block: scaled to 20 x 10, its centre of mass (row 9.5, column 4.5 of the
    box) goes to (14, 14), rounded half up: the box starts at row 5 (4.5 rounds up), column 10
    (9.5 rounds up). Every value is known."""
    ink = np.zeros((280, 280))
    ink[30:130, 200:250] = 1.0
    expected = np.zeros((28, 28), dtype=np.float32)
    expected[5:25, 10:20] = 1.0
    assert np.array_equal(prepare_digit(ink), expected)


@pytest.mark.parametrize("strokes", [ONE, ZERO], ids=["one", "zero"])
def test_strokes_give_an_mnist_style_digit(strokes):
    digit = prepare_digit(render_strokes(strokes))
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0 and digit.max() <= 1
    height, width = ink_box(digit)
    assert max(height, width) == 20 and min(height, width) <= 20, "the ink must fit 20 x 20, longer side 20"
    row, col = drawing.centre_of_mass(digit)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5, f"centre of mass at ({row:.2f}, {col:.2f})"
    grey = ((digit > 0.02) & (digit < 0.98)).sum()
    assert grey > 10, "the edges should be grey levels (anti-aliased), not only black and white"


def test_the_aspect_ratio_is_kept():
    one = prepare_digit(render_strokes(ONE))
    height, width = ink_box(one, threshold=0.05)
    assert height == 20 and width <= 5, f"a vertical stroke must stay a thin '1', got {height} x {width}"
    zero = prepare_digit(render_strokes(ZERO))    # the oval is (180 + 30) / (120 + 30) = 1.4 times taller
    height, width = ink_box(zero, threshold=0.05)
    assert height == 20 and abs(width - 20 / 1.4) <= 1, f"the oval came out {height} x {width}"


def test_off_centre_drawing_is_centred_and_a_small_one_enlarged():
    small = [Stroke([(20, 20), (20, 60)], width=10)]              # small, in the top left corner
    moved = [Stroke([(x + 200, y + 180) for x, y in small[0].points], width=10)]
    a, b = prepare_digit(render_strokes(small)), prepare_digit(render_strokes(moved))
    assert np.allclose(a, b, atol=1e-6), "where on the pad a digit is drawn must not matter"
    assert ink_box(a, 0.05)[0] == 20


def test_heavy_top_digit_stays_inside_the_frame():
    """A '7' with a thick bar on top has its centre of mass high up: centring it fully would push
    ink off the bottom of the frame, so the box is clamped to the frame and no ink is lost."""
    seven = [Stroke([(40, 40), (240, 40)], width=60), Stroke([(240, 40), (120, 260)], width=8)]
    digit = prepare_digit(render_strokes(seven))
    box = render_strokes(seven)
    rows = np.flatnonzero((box > drawing.INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((box > drawing.INK_THRESHOLD).any(axis=0))
    longest = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    scaled = drawing.area_resize(box[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1],
                                 round((rows[-1] - rows[0] + 1) * 20 / longest),
                                 round((cols[-1] - cols[0] + 1) * 20 / longest))
    assert digit.sum() == pytest.approx(scaled.sum(), rel=1e-5), "ink was cut off"


def test_erasing_removes_ink_and_erasing_everything_empties():
    half = [*ONE, Stroke([(140, 186), (140, 260)], width=60, erase=True)]   # erases rows 156 and below
    ink = render_strokes(half)
    assert ink[162:].max() == 0 and ink[50:150, 140].min() == 1, "the eraser removes the lower part only"
    assert ink_box(prepare_digit(ink), 0.05)[0] == 20                 # what is left is scaled up again
    gone = [*ONE, Stroke([(140, 20), (140, 260)], width=60, erase=True)]
    assert render_strokes(gone).max() == 0
    with pytest.raises(ValueError, match="draw a digit first"):
        prepare_digit(render_strokes(gone))


def test_an_empty_canvas_gives_a_clear_message():
    with pytest.raises(ValueError, match="The canvas is empty: draw a digit first"):
        prepare_digit(np.zeros((280, 280)))
    with pytest.raises(ValueError, match="draw a digit first"):
        prepare_digit(render_strokes([]))
    with pytest.raises(ValueError, match="draw a digit first"):
        prepare_digit(np.full((280, 280), drawing.INK_THRESHOLD))       # a faint haze is no digit


def test_bad_images_are_refused_by_name():
    with pytest.raises(ValueError, match="ink must be a 2-D image"):
        prepare_digit(np.ones((28, 28, 3)))
    with pytest.raises(ValueError, match="NaN"):
        prepare_digit(np.full((28, 28), np.nan))
    with pytest.raises(ValueError, match="background must have the canvas size"):
        render_strokes(ONE, (280, 280), background=np.zeros((28, 28)))


def test_area_resize_averages_and_keeps_the_mean():
    g = np.random.default_rng(0)
    image = g.random((200, 130))
    assert np.allclose(drawing.area_resize(image, 200, 130), image)
    small = drawing.area_resize(image, 20, 13)                   # exact 10 x 10 blocks
    assert np.allclose(small, image.reshape(20, 10, 13, 10).mean(axis=(1, 3)))
    odd = drawing.area_resize(image, 17, 9)                       # fractional blocks
    assert odd.mean() == pytest.approx(image.mean(), rel=1e-9)
    assert drawing.area_resize(np.ones((7, 3)), 20, 9).min() == pytest.approx(1.0)   # enlarging too


def test_a_stroke_is_as_wide_as_the_pen():
    ink = render_strokes([Stroke([(40, 140), (240, 140)], width=30)])
    column = ink[:, 140]
    assert column.sum() == pytest.approx(30, abs=0.5)
    assert ink.sum() == pytest.approx(200 * 30 + np.pi * 15 ** 2, rel=0.01), "a bar with two round ends"


@pytest.fixture(scope="module")
def mnist():
    data = load_data("subset", verbose=False)
    return data.x_test.numpy().reshape(-1, 28, 28), data.y_test.numpy()


def test_real_mnist_digits_come_back_unchanged(mnist):
    """MNIST's digits were prepared this way, so a test digit drawn on the pad (each pixel a 10 x
    10 square) and prepared again must come back as it was. Measured: 953 of the 1,000 held-out
    digits come back exactly; the others lose only faint pixels (below INK_THRESHOLD, at most
    12/255) that lie outside the box of the ink above it."""
    images, _ = mnist
    pad_size = np.ones((10, 10))
    diffs = np.array([np.abs(prepare_digit(np.kron(x, pad_size)) - x).max() for x in images])
    assert (diffs < 1e-5).mean() > 0.9, f"only {(diffs < 1e-5).mean():.1%} came back unchanged"
    assert diffs.max() <= drawing.INK_THRESHOLD, f"a pixel changed by {diffs.max():.3f}"
    coms = np.array([drawing.centre_of_mass(x) for x in images])
    assert np.abs(coms - 14).max() <= 0.5, "MNIST's own centre of mass is pixel (14, 14)"


def test_the_pen_draws_mnist_thick_strokes(mnist):
    """The pen width makes a drawn digit about as inky as MNIST's digits of the same class."""
    images, labels = mnist
    for strokes, label in [(ONE, 1), (ZERO, 0)]:
        drawn = prepare_digit(render_strokes(strokes)).sum()
        typical = images[labels == label].sum(axis=(1, 2)).mean()
        assert 0.75 < drawn / typical < 1.25, f"a drawn {label} has {drawn:.0f} of ink, MNIST's {typical:.0f}"


# --- the pad -------------------------------------------------------------------------------------

def drag(pad, points):
    """What the browser sends for one stroke: mouse down, moves, mouse up."""
    pad.pen_down(*points[0])
    for point in points[1:]:
        pad.pen_move(*point)
    pad.pen_up()


def test_pad_turns_mouse_strokes_into_the_prepared_digit():
    pad = DrawingPad()
    seen = []
    pad.on_digit(seen.append)
    assert pad.digit is None and "draw a digit first" in pad.message.value
    pad.pen_move(10, 10)                     # hovering draws nothing
    pad.pen_up()                             # and lifting a pen that is not down does nothing
    assert pad.strokes == [] and seen == []
    empty_preview = pad.preview.value
    drag(pad, ONE[0].points)
    assert len(seen) == 1 and np.array_equal(seen[0], prepare_digit(render_strokes(ONE)))
    assert pad.preview.value != empty_preview and pad.message.value == ""
    pad.use_eraser(True)
    drag(pad, [(140, 20), (140, 260)])
    assert pad.strokes[-1].erase and pad.strokes[-1].width == drawing.ERASER_WIDTH
    pad.use_eraser(False)
    drag(pad, [(140, 140)])                  # a click: a dot
    assert seen[-1] is not None and ink_box(seen[-1], 0.05) == (20, 20)
    pad.clear()
    assert seen[-1] is None and pad.digit is None and pad.strokes == []
    assert "draw a digit first" in pad.message.value and pad.preview.value == empty_preview


def test_touch_strokes_and_a_pen_leaving_the_pad():
    pad = DrawingPad()
    pad.canvas._handle_frontend_event(None, {"event": "touch_start", "touches": [{"x": 140, "y": 50}]}, [])
    pad.canvas._handle_frontend_event(None, {"event": "touch_move", "touches": [{"x": 140, "y": 230}]}, [])
    pad.canvas._handle_frontend_event(None, {"event": "touch_end", "touches": []}, [])
    assert len(pad.strokes) == 1 and np.array_equal(pad.digit, prepare_digit(render_strokes(ONE)))
    for event, x, y in [("mouse_down", 50, 50), ("mouse_move", 60, 200), ("mouse_out", 0, 200)]:
        pad.canvas._handle_frontend_event(None, {"event": event, "x": x, "y": y}, [])
    assert len(pad.strokes) == 2, "leaving the pad with the button down ends the stroke"


def test_a_loaded_digit_comes_back_and_can_be_drawn_on(mnist):
    images, _ = mnist
    pad = DrawingPad()
    pad.load_digit(torch.as_tensor(images[0]).reshape(784))
    assert np.abs(pad.digit - images[0]).max() < 1e-5
    pad.use_eraser(True)
    drag(pad, [(0, 0), (280, 280)])
    assert not np.allclose(pad.digit, images[0])
    pad.clear()
    assert pad.background is None and pad.digit is None


# --- the three views -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_models():
    torch.manual_seed(0)
    ae = models.Autoencoder([784, 16, 2]).eval()
    dae = models.Autoencoder([784, 16, 2]).eval()
    vae = VAE([784, 16, 2]).eval()
    judge = models.mlp([784, 10]).eval()
    x = torch.rand(100, 784, generator=torch.Generator().manual_seed(1))
    return dict(ae=ae, dae=dae, vae=vae, judge=judge, x=x, y=torch.arange(100) % 10)


def test_drawn_code_marks_the_code_and_finds_the_nearest(small_models):
    m = small_models
    codes = models.encode_all(m["ae"], m["x"])
    view = DrawnCode(m["ae"], codes, m["y"], m["x"])
    assert view.last is None and view.result.value == EMPTY and not view.marker.get_visible()
    empty = view.picture.value
    drag(view.pad, ONE[0].points)
    one = view.last
    digit = torch.as_tensor(prepare_digit(render_strokes(ONE))).reshape(1, 784)
    assert np.allclose(one["code"], m["ae"].encode(digit).detach().numpy()[0], atol=1e-6)
    distances = ((codes.numpy() - one["code"]) ** 2).sum(axis=1)
    assert list(one["neighbours"]) == list(np.argsort(distances)[:5])
    assert np.allclose(view.marker.get_offsets()[0], np.clip(one["code"], *view.limits))
    assert view.picture.value != empty and "code z = (" in view.result.value
    picture_one = view.picture.value
    view.pad.clear()
    drag(view.pad, ZERO[0].points)
    assert not np.allclose(view.last["code"], one["code"]) and view.picture.value != picture_one
    view.pad.clear()
    assert view.last is None and view.picture.value == empty


def test_drawn_denoising_follows_the_noise_controls(small_models):
    m = small_models
    view = DrawnDenoising(m["ae"], {"masking": m["dae"], "gaussian": m["ae"], "salt-and-pepper": m["ae"]})
    view.level.value = 0.3                                     # no drawing yet: nothing to show
    assert view.last is None and view.result.value == EMPTY
    drag(view.pad, ZERO[0].points)
    first = view.last
    x = torch.as_tensor(prepare_digit(render_strokes(ZERO))).reshape(1, 784)
    noisy = torch.as_tensor(first["noisy"]).reshape(1, 784)
    assert torch.equal(noisy, x * (noisy > 0)), "masking only removes ink"
    assert np.allclose(first["DAE"], m["dae"](noisy).clamp(0, 1).detach().numpy().reshape(28, 28), atol=1e-6)
    assert first["errors"]["DAE"] == pytest.approx(float(((m["dae"](noisy).detach() - x) ** 2).mean()), rel=1e-5)
    picture = view.picture.value
    view.kind.value = "salt-and-pepper"
    assert view.picture.value != picture and "salt-and-pepper noise, level 0.30" in view.result.value
    view.level.value = 0.0
    assert np.array_equal(view.last["noisy"], view.last["digit"])
    with pytest.raises(ValueError, match="Unknown noise"):
        view.compute(view.pad.digit, "blur", 0.1)
    with pytest.raises(ValueError, match="no DAE for gaussian"):
        DrawnDenoising(m["ae"], {"masking": m["dae"]})


def test_drawn_posterior_draws_q_and_the_judges_guess(small_models):
    m = small_models
    mu_train, _ = models.encode_all(m["vae"], m["x"])
    view = DrawnPosterior(m["vae"], m["judge"], mu_train, m["y"])
    assert not view.ellipse.get_visible()
    drag(view.pad, ONE[0].points)
    one = view.last
    x = torch.as_tensor(prepare_digit(render_strokes(ONE))).reshape(1, 784)
    mu, logvar = m["vae"].encode(x)
    sigma = torch.exp(0.5 * logvar)[0].detach().numpy()
    assert np.allclose(one["mu"], mu[0].detach().numpy(), atol=1e-6)
    assert np.allclose(one["sigma"], sigma, atol=1e-6)
    assert view.ellipse.get_width() == pytest.approx(4 * sigma[0]) and view.ellipse.get_visible()
    probabilities = torch.softmax(m["judge"](x), dim=1)[0].detach().numpy()
    assert one["guess"] == probabilities.argmax() and one["confidence"] == pytest.approx(probabilities.max())
    assert f"judge: {one['guess']} ({probabilities.max():.0%} confident)" in view.result.value
    samples = m["vae"].decode(mu + torch.exp(0.5 * logvar) * view.eps).detach().numpy().reshape(-1, 28, 28)
    assert np.allclose(one["samples"], samples, atol=1e-6) and len(samples) == 5
    view.pad.clear()
    drag(view.pad, ZERO[0].points)
    assert not np.allclose(view.last["mu"], one["mu"])
    with pytest.raises(ValueError, match="2-D VAE"):
        DrawnPosterior(m["vae"], m["judge"], torch.zeros(10, 3), m["y"][:10])
