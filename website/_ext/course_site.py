"""Sphinx extension of the course's website: heading anchors as JupyterLab makes them, the
alt text of notebook figures, and the accessible name of folded solutions.

helpers/web.py stores a text alternative for each figure in the output's metadata
({"image/png": {"alt": "..."}}); myst-nb reads only width and height from there, so we pass
the alt text on to the image node. A hand-written alt in the cell's metadata
(mystnb: image: alt: ...) is applied by myst-nb itself and wins."""
from myst_nb.core.render import NbElementRenderer


def jupyterlab_slug(heading: str) -> str:
    """A heading's anchor as JupyterLab makes it (spaces become '-', nothing else changes), so
    the links between notebooks (e.g. 08's take-home links to '#4.-MNIST-compressed-to-two-
    numbers') work on the website too."""
    return heading.strip().replace(" ", "-")

_render_image = NbElementRenderer.render_image


def render_image_with_alt(self, data):
    nodes = _render_image(self, data)
    alt = (data.output_metadata.get(data.mime_type) or {}).get("alt")
    for node in nodes:
        if alt and not node.get("alt"):
            node["alt"] = alt
    return nodes


def name_folds_by_their_text(app, pagename, templatename, context, doctree):
    """myst-nb names every fold "Toggle hidden content" (aria-label) although it shows "Show the
    worked solution": screen readers should hear what is seen (WCAG 2.5.3, label in name)."""
    if "body" in context:
        context["body"] = context["body"].replace('<summary aria-label="Toggle hidden content">', "<summary>")


def setup(app):
    NbElementRenderer.render_image = render_image_with_alt
    app.connect("html-page-context", name_folds_by_their_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
