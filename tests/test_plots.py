"""The course's figure styles (desk and projector), its colour-blind-safe class colours, and the
helpers that keep figures readable: marked points with a legend entry, distinct model colours,
names in a column that never overlap."""
import itertools

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
import torch

from helpers import plots


@pytest.fixture(autouse=True)
def desk_afterwards():
    yield
    plots.use_course_style("desk")
    plt.close("all")


def test_desk_is_the_default(monkeypatch):
    monkeypatch.delenv("AE_STYLE", raising=False)
    assert plots.use_course_style() == "desk"
    assert plt.rcParams["font.size"] == 10


def test_ae_style_picks_the_projector_style(monkeypatch):
    monkeypatch.setenv("AE_STYLE", "projector")
    assert plots.use_course_style() == "projector"
    assert plots.use_course_style("desk") == "desk"          # the argument wins


def test_unknown_style_is_refused_and_changes_nothing(monkeypatch):
    plots.use_course_style("desk")
    before = dict(plt.rcParams)
    with pytest.raises(ValueError, match=r"style must be one of \['desk', 'projector'\], got 'beamer'"):
        plots.use_course_style("beamer")
    monkeypatch.setenv("AE_STYLE", "Projector")
    with pytest.raises(ValueError, match=r"AE_STYLE must be one of \['desk', 'projector'\], got 'Projector'"):
        plots.use_course_style()
    assert dict(plt.rcParams) == before


def test_projector_is_larger_and_thicker_and_desk_comes_back():
    plots.use_course_style("desk")
    desk = dict(plt.rcParams)
    plots.use_course_style("projector")
    for key in ["font.size", "axes.titlesize", "axes.labelsize", "legend.fontsize",
                "lines.linewidth", "lines.markersize", "axes.linewidth"]:
        assert plt.rcParams[key] > desk[key], key
    plots.use_course_style("desk")
    assert dict(plt.rcParams) == desk


def test_widget_figures_follow_the_style():
    """Widgets build matplotlib.figure.Figure objects directly; rcParams apply at creation."""
    sizes = {}
    for style in ("desk", "projector"):
        plots.use_course_style(style)
        ax = Figure().subplots()
        sizes[style] = (ax.set_title("t").get_fontsize(), ax.plot([0, 1])[0].get_linewidth())
    assert sizes["projector"][0] > sizes["desk"][0]
    assert sizes["projector"][1] > sizes["desk"][1]


def test_digits_and_points_are_bigger_on_the_projector():
    images = np.zeros((10, 784))
    widths, areas = {}, {}
    for style in ("desk", "projector"):
        plots.use_course_style(style)
        widths[style] = plots.digit_rows({"x": images}).get_size_inches()[0]
        fig, ax = plt.subplots()
        areas[style] = plots.code_scatter(ax, np.zeros((3, 2)), [0, 1, 2]).get_sizes()[0]
    assert widths["projector"] > widths["desk"]
    assert areas["projector"] > areas["desk"]


@pytest.mark.parametrize("style", ["desk", "projector"])
def test_scatter_points_take_the_class_colours(style):
    plots.use_course_style(style)
    fig, ax = plt.subplots()
    points = plots.code_scatter(ax, np.arange(20).reshape(10, 2), np.arange(10))
    colours = points.to_rgba(points.get_array())
    assert np.allclose(colours, [mcolors.to_rgba(c) for c in plots.CLASS_PALETTE])
    legend = [mcolors.to_hex(h.get_color()) for h in ax.get_legend().legend_handles]
    assert legend == [c.lower() for c in plots.CLASS_PALETTE]


# Colour-vision deficiency, simulated as in Machado, Oliveira and Fernandes (2009), "A
# physiologically-based model for simulation of color vision deficiency", severity 1.0
# (the full dichromacies), on linear RGB.
DEFICIENCIES = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
    "normal vision": np.eye(3),
}


def closest_pair(colours, matrix) -> float:
    """The smallest CIELAB distance (CIE76 ΔE) between two of `colours` as seen through `matrix`."""
    srgb = np.array([mcolors.to_rgb(c) for c in colours])
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    seen = np.clip(linear @ np.asarray(matrix).T, 0, 1)
    xyz = seen @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                           [0.0193, 0.1192, 0.9505]]).T / [0.95047, 1.0, 1.08883]
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lab = np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)
    return min(np.linalg.norm(a - b) for a, b in itertools.combinations(lab, 2))


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_every_pair_of_classes_stays_apart(deficiency):
    """Every pair at least ΔE 15 apart, over six times a just-noticeable difference (about 2.3),
    so that classes stay apart at a glance, also as small points. tab10, the usual default,
    falls to about 5 for protanopes (orange against green) and would fail."""
    assert len(set(plots.CLASS_PALETTE)) == plots.CLASS_COLOURS.N == 10
    assert closest_pair(plots.CLASS_PALETTE, DEFICIENCIES[deficiency]) > 15
    if deficiency in ("protanopia", "deuteranopia"):
        tab10 = [matplotlib.colormaps["tab10"](i) for i in range(10)]
        assert closest_pair(tab10, DEFICIENCIES[deficiency]) < 10



def test_marked_points_join_the_class_legend_in_a_colour_no_class_uses():
    fig, ax = plt.subplots()
    plots.code_scatter(ax, torch.randn(50, 2), torch.arange(50) % 10)
    marks = plots.mark_points(ax, torch.randn(20, 2), "uniform in the box")
    labels = [t.get_text() for t in ax.get_legend().texts]
    assert labels == [str(i) for i in range(10)] + ["uniform in the box"]
    class_colours = {matplotlib.colors.to_hex(plots.CLASS_COLOURS(i)) for i in range(10)}
    assert matplotlib.colors.to_hex(marks.get_facecolor()[0]) not in class_colours
    plt.close(fig)


def test_distinct_colours_never_repeat():
    colours = plots.distinct_colours(13)
    assert len({matplotlib.colors.to_hex(c) for c in colours}) == 13
    with pytest.raises(ValueError, match="at most 20"):
        plots.distinct_colours(21)


def test_label_column_keeps_names_apart_even_for_points_on_top_of_each_other():
    fig, ax = plt.subplots()
    points = {"a": (1.0, 0.5), "b": (1.1, 0.5), "c": (2.0, 0.50001), "d": (3.0, 0.9)}
    ax.scatter(*np.array(list(points.values())).T)
    plots.label_column(ax, points, gap=0.08)
    fig.canvas.draw()
    heights = sorted(t.xyann[1] for t in ax.texts)
    assert len(heights) == 4 and min(np.diff(heights)) >= 0.08 - 1e-9
    assert max(heights) <= 1.0 + 1e-9
    assert all(t.xyann[0] > 1 for t in ax.texts)           # right of the axes, outside the data
    plt.close(fig)


def test_figures_show_in_a_notebook_even_when_mplbackend_is_agg(tmp_path, monkeypatch):
    """MPLBACKEND=Agg in the environment (servers, hubs): a kernel keeps that backend, and every
    plt.show() showed nothing; after the setup cell's use_course_style the figures appear."""
    import sys

    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    class Kernel(KernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            return [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]

    def figures(setup: str) -> int:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup), nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()")])
        NotebookClient(nb, timeout=300, kernel_manager_class=Kernel,
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        return sum("image/png" in out.get("data", {}) for out in nb.cells[1].outputs)

    monkeypatch.setenv("MPLBACKEND", "Agg")         # the kernels inherit it
    assert figures("import matplotlib") == 0, "the fault this guards against: Agg shows nothing"
    assert figures("from helpers import plots\nplots.use_course_style()") == 1
