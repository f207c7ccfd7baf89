"""Interactive widgets, one module per notebook, and `drawing` (the drawing pad of 01, 02, 06).

Each widget is an ipywidgets box: display it by leaving it as a cell's last value. Each keeps
its computation (`decode`, `compute`, ...) apart from its drawing (`show`), so the tests call
them without a browser, and each reuses one matplotlib figure, updating its data instead of
building a new figure on every move.

Figures here are made with matplotlib.figure.Figure, not pyplot, so the notebook does not also
show them as static images: they reach the page only as the widget's PNG.
"""
from .vanilla import EmbeddingComparison, LatentExplorer  # noqa: F401
from .vae import KLDirectionDemo, KLWeightControl, MonteCarloControl, VAELatentExplorer  # noqa: F401
from .denoising import FilterBrowser, NoiseExplorer  # noqa: F401
from .sparse import KLExplorer, SparsityControl  # noqa: F401
from .contractive import ContractionControl  # noqa: F401
from .stacked import LabelBudgetControl, StageViewer  # noqa: F401
from .summary import ModelComparison  # noqa: F401
from .drawing import DrawingPad, DrawnCode, DrawnDenoising, DrawnPosterior  # noqa: F401
