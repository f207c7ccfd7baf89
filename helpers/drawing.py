"""A hand-drawn digit, prepared the way the MNIST digits were.

LeCun, Cortes and Burges describe how MNIST was made: each digit was "size normalized to fit in
a 20x20 pixel box while preserving [its] aspect ratio", which left grey levels from
anti-aliasing, and then "centered in a 28x28 image by computing the center of mass of the pixels,
and translating the image so as to position this point at the center of the 28x28 field". A
digit drawn on a canvas must go through the same steps, or the models see something unlike
anything they were trained on (too big, off-centre, too thin).

Two pure functions, NumPy and Pillow only, so that a web page can do the same in JavaScript:

    render_strokes(strokes, size)  pen strokes -> the canvas as ink in [0, 1] (1 = ink)
    prepare_digit(ink)             any ink image -> 28x28 MNIST-style digit in [0, 1]

prepare_digit, step by step (BOX = 20, FRAME = 28):
  1. ink: a 2-D array, values clipped to [0, 1]; background 0, ink 1.
  2. bounding box: the rows and columns holding a pixel above INK_THRESHOLD (0.05). None: the
     canvas is empty, ValueError "draw a digit first".
  3. crop the ink to that box (h rows, w columns).
  4. scale so the longer side is BOX: new size (round(h * 20 / m), round(w * 20 / m)) with
     m = max(h, w), each at least 1, by area averaging (`area_resize`: each new pixel is the
     mean of the old pixels it covers, counting partly covered ones by the share covered; this
     is the anti-aliasing that gives grey edges).
  5. centre of mass (row, column) of the scaled box, in pixel indices (row 0 is the top row):
     com_row = sum(i * value in row i) / sum(value), and likewise for columns.
  6. paste the box into a 28x28 frame of zeros at top = round(14 - com_row),
     left = round(14 - com_col), where round(x) = floor(x + 0.5) (JavaScript's Math.round),
     each clamped to [0, 28 - box size] so no ink falls off the frame. The centre of mass then
     lands within half a pixel of pixel (14, 14), unless the clamp moved it. (MNIST's own digits
     have their centre of mass there: 14.0 on average, measured on the course's digits.)

In a web page, step 1's ink is the canvas itself: white strokes (round caps and joins, width
PEN_WIDTH) on black, ink = red channel / 255 from getImageData. The tests in
tests/test_drawing.py give known answers to check a port against (a solid 100 x 50 block of
ink becomes a 20 x 10 block of ones at rows 5-24, columns 10-19).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

CANVAS = 280           # the drawing pad is 280 x 280 canvas pixels: 10 for each MNIST pixel
PEN_WIDTH = 30.0       # canvas pixels: about 3 MNIST pixels for a digit drawn 180 pixels tall
ERASER_WIDTH = 40.0
BOX, FRAME = 20, 28    # MNIST: ink scaled into a 20x20 box, centred in a 28x28 frame
INK_THRESHOLD = 0.05   # a pixel with more ink than this belongs to the digit's bounding box
SUPERSAMPLE = 4        # strokes are drawn 4x larger, then averaged down: anti-aliased edges
PIXEL_RANGE = (0.0, 1.0)   # every image of the course: 0 = black (no ink), 1 = white


@dataclass
class Stroke:
    """One movement of the pen (or the eraser) while pressed: the points it passed through, in
    canvas pixels (x to the right, y down), and its width in canvas pixels."""
    points: list = field(default_factory=list)
    width: float = PEN_WIDTH
    erase: bool = False


def _oval(centre, radii, steps: int = 48) -> list:
    return [(centre[0] + radii[0] * math.sin(2 * math.pi * i / steps),
             centre[1] - radii[1] * math.cos(2 * math.pi * i / steps)) for i in range(steps + 1)]


# Digits drawn in advance, in canvas pixels: the website's "draw an example" buttons load them,
# so a reader without a mouse or touch screen can still see the views change.
EXAMPLES = {
    "1": [Stroke([(150, 50), (144, 140), (138, 230)])],
    "7": [Stroke([(85, 60), (195, 60), (130, 230)])],
    "0": [Stroke(_oval((140, 140), (60, 90)))],
}


def render_strokes(strokes, size=(CANVAS, CANVAS), background=None) -> np.ndarray:
    """The canvas after `strokes`, as ink (height, width) in [0, 1]: pen strokes add ink,
    eraser strokes remove it, in order, each with round ends and joints. `background`: ink
    already on the canvas (an array of that size), else an empty canvas. Drawn SUPERSAMPLE
    times larger and averaged down, so the edges are grey (anti-aliased), as on a browser canvas."""
    height, width = size
    s = SUPERSAMPLE
    if background is None:
        start = np.zeros((height * s, width * s), dtype=np.uint8)
    else:
        background = _check_ink(background, "background")
        if background.shape != (height, width):
            raise ValueError(f"background must have the canvas size {(height, width)}, "
                             f"got {background.shape}")
        start = np.kron(np.round(background * 255).astype(np.uint8), np.ones((s, s), np.uint8))
    image = Image.fromarray(start)                     # 8-bit grey ("L")
    pen = ImageDraw.Draw(image)
    for stroke in strokes:
        colour = 0 if stroke.erase else 255
        points = [(float(x) * s, float(y) * s) for x, y in stroke.points]
        radius = stroke.width * s / 2
        if len(points) > 1:
            pen.line(points, fill=colour, width=max(1, round(stroke.width * s)))
        for x, y in points:               # round ends and joints: a disc at every point
            pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)
    return np.asarray(image.reduce(s), dtype=np.float32) / 255


def prepare_digit(ink) -> np.ndarray:
    """Ink of any size (2-D, values in [0, 1], 1 = ink) -> a 28x28 float32 digit in [0, 1],
    prepared like MNIST: bounding box scaled into 20x20 (aspect ratio kept, area-averaged grey
    levels), centre of mass at the centre of the frame. The steps are in this module's docstring.
    Raises ValueError("... draw a digit first") when there is no ink."""
    ink = _check_ink(ink, "ink")
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if len(rows) == 0:
        raise ValueError("The canvas is empty: draw a digit first")
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    longest = max(h, w)
    new_h, new_w = max(1, _round(h * BOX / longest)), max(1, _round(w * BOX / longest))
    box = area_resize(crop, new_h, new_w)
    com_row, com_col = centre_of_mass(box)
    top = min(max(_round(FRAME / 2 - com_row), 0), FRAME - new_h)
    left = min(max(_round(FRAME / 2 - com_col), 0), FRAME - new_w)
    digit = np.zeros((FRAME, FRAME), dtype=np.float32)
    digit[top:top + new_h, left:left + new_w] = box
    return np.clip(digit, *PIXEL_RANGE)


def area_resize(image, new_height: int, new_width: int) -> np.ndarray:
    """Resize a 2-D image by area averaging: each new pixel is the mean of the old pixels under
    it, a partly covered old pixel counting by the share of it that is covered."""
    image = np.asarray(image, dtype=np.float64)
    return _area_weights(image.shape[0], new_height) @ image @ _area_weights(image.shape[1], new_width).T


def centre_of_mass(image) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixel indices (0 = the top row, left column)."""
    image = np.asarray(image, dtype=np.float64)
    total = image.sum()
    if total <= 0:
        raise ValueError("The image has no ink, so it has no centre of mass: draw a digit first")
    rows, cols = np.arange(image.shape[0]), np.arange(image.shape[1])
    return float(rows @ image.sum(axis=1) / total), float(cols @ image.sum(axis=0) / total)


def _area_weights(n_old: int, n_new: int) -> np.ndarray:
    """(n_new, n_old): new pixel i covers old coordinates [i * n_old / n_new, (i + 1) * n_old / n_new);
    weight = overlap with old pixel j, divided by the covered length (rows sum to 1)."""
    scale = n_old / n_new
    starts = np.arange(n_new)[:, None] * scale
    j = np.arange(n_old)[None, :]
    overlap = np.clip(np.minimum(starts + scale, j + 1) - np.maximum(starts, j), 0, None)
    return overlap / scale


def _round(x: float) -> int:
    return math.floor(x + 0.5)             # halves go up, as JavaScript's Math.round


def _check_ink(ink, name: str) -> np.ndarray:
    ink = np.asarray(ink, dtype=np.float32)
    if ink.ndim != 2 or min(ink.shape) == 0:
        raise ValueError(f"{name} must be a 2-D image (height, width), got shape {ink.shape}")
    if not np.isfinite(ink).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return np.clip(ink, *PIXEL_RANGE)
