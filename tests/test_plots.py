"""The figure helpers that keep figures readable: marked points with a legend entry, distinct
model colours, and names in a column that never overlap."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers import plots  # noqa: E402


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
