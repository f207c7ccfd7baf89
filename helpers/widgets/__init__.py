"""Interactive widgets, one module per notebook, all built on one small base (`base.Widget`),
and `drawing` (the drawing pad of 01, 02, 06, and the views it drives; notebook 09's walk
between two digits, in `beyond`, is one more of those views).

Each widget is an ipywidgets box: display it by leaving it as a cell's last value. Each has
`controls` ({name: control}, each also an attribute: `explorer.z1`), a `picture` (the
ipywidgets.Image it draws into) and `show(...)`, which computes for the controls' values and
draws; the computation (`decode`, `compute`, ...) stays apart from the drawing, so the tests call
it without a browser. Each reuses one matplotlib figure, updating its data instead of building
a new figure on every move. A widget never moves the model it is given to another device.

Figures here are made with matplotlib.figure.Figure, not pyplot, so the notebook does not also
show them as static images: they reach the page only as the widget's PNG. What a widget and a
notebook both draw (filter mosaics, posterior ellipses, the stage diagram) is in helpers.plots.
The drawing views (DrawnCode, DrawnDenoising, DrawnPosterior, DrawnWalk) are built on the same
base: their input is the drawing pad, each lifted pen runs `update`, and their `controls` are
the noise controls of notebook 02's view, the end, path and t of notebook 09's walk (none for
the others).
"""
from .base import Widget  # noqa: F401
from .vanilla import EmbeddingComparison, LatentExplorer  # noqa: F401
from .vae import KLDirectionDemo, KLWeightControl, MonteCarloControl, VAELatentExplorer  # noqa: F401
from .denoising import FilterBrowser, NoiseExplorer  # noqa: F401
from .sparse import KLExplorer, SparsityControl  # noqa: F401
from .contractive import ContractionControl  # noqa: F401
from .stacked import LabelBudgetControl, StageViewer  # noqa: F401
from .summary import ModelComparison  # noqa: F401
from .drawing import DrawingPad, DrawnCode, DrawnDenoising, DrawnPosterior  # noqa: F401
from .beyond import ConditionalExplorer, DrawnWalk  # noqa: F401
