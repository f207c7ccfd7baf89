"""Sphinx extension of the course's website: heading anchors as JupyterLab makes them, the
alt text of notebook figures, sized and lazily loaded images, a meta description per page,
and the accessible name of folded solutions.

website/export.py stores a text alternative for each figure in the output's metadata
({"image/png": {"alt": "..."}}); myst-nb reads only width and height from there, so we pass
the alt text on to the image node. A hand-written alt in the cell's metadata
(mystnb: image: alt: ...) is applied by myst-nb itself and wins."""
import html
import posixpath
import re
from pathlib import Path

from docutils import nodes
from myst_nb.core.render import NbElementRenderer

DESCRIPTION_LIMIT = 300         # characters; search engines show about 160, Lighthouse wants one


def jupyterlab_slug(heading: str) -> str:
    """A heading's anchor as JupyterLab makes it (spaces become '-', nothing else changes), so
    the links between notebooks (e.g. 08's take-home links to '#4.-MNIST-compressed-to-two-
    numbers') work on the website too."""
    return heading.strip().replace(" ", "-")

_render_image = NbElementRenderer.render_image


def render_image_with_alt(self, data):
    nodes_ = _render_image(self, data)
    alt = (data.output_metadata.get(data.mime_type) or {}).get("alt")
    for node in nodes_:
        if alt and not node.get("alt"):
            node["alt"] = alt
    return nodes_


def name_folds_by_their_text(app, pagename, templatename, context, doctree):
    """myst-nb names every fold "Toggle hidden content" (aria-label) although it shows "Show the
    worked solution": screen readers should hear what is seen (WCAG 2.5.3, label in name)."""
    if "body" in context:
        context["body"] = context["body"].replace('<summary aria-label="Toggle hidden content">', "<summary>")


def _shorten(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def page_description(doctree) -> str:
    """A notebook page's learning goals ("Learning goals. After this notebook you can" and its
    list) in one line; a page without them, its first paragraph."""
    paragraphs = list(doctree.findall(nodes.paragraph))
    for paragraph in paragraphs:
        text = paragraph.astext()
        if text.startswith("Learning goals"):
            following = paragraph.next_node(nodes.bullet_list, descend=False, siblings=True)
            goals = [item.astext() for item in following.children] if following is not None else []
            return _shorten(" ".join([text] + ["; ".join(g.rstrip(";.") for g in goals) + "."]))
    for paragraph in paragraphs:
        if len(paragraph.astext()) > 40 and not isinstance(paragraph.parent, (nodes.list_item, nodes.table)):
            return _shorten(paragraph.astext())
    return ""


def describe_page(app, pagename, templatename, context, doctree):
    """<meta name="description"> from the page's learning goals; Sphinx's own pages (the index,
    the search page) say what they are."""
    if doctree is None:
        description = f"{context.get('title') or pagename}: {app.config.html_title}, an interactive " \
                      f"course from the plain autoencoder to the variational autoencoder."
    else:
        description = page_description(doctree)
    if description:
        context["metatags"] = context.get("metatags", "") + \
            f'\n<meta name="description" content="{html.escape(description)}" />'


_IMG = re.compile(r'<img (?P<attributes>[^>]*?)/?>')


def size_images(app, pagename, templatename, context, doctree):
    """Every <img> of the page's body with its width and height (so the page does not jump as
    pictures arrive), and all but the first loaded only when the reader scrolls near them."""
    if doctree is None or "body" not in context:
        return
    sizes = {}
    from PIL import Image
    for node in doctree.findall(nodes.image):
        uri = node.get("uri", "")
        name = app.builder.images.get(uri)
        source = Path(app.srcdir) / uri
        if name and source.is_file():
            with Image.open(source) as image:
                sizes[name] = image.size
    seen = [0]

    def sized(match):
        attributes = match.group("attributes")
        src = re.search(r'src="([^"]*)"', attributes)
        seen[0] += 1
        extra = ""
        if src and "width=" not in attributes:
            size = sizes.get(posixpath.basename(src.group(1)))
            if size:
                extra += f' width="{size[0]}" height="{size[1]}"'
        if "loading=" not in attributes and seen[0] > 1:
            extra += ' loading="lazy" decoding="async"'
        return f"<img {attributes.rstrip()}{extra} />" if extra else match.group(0)

    context["body"] = _IMG.sub(sized, context["body"])


def defer_scripts(app, pagename, templatename, context, doctree):
    """Sphinx's own scripts (and the theme's) with `defer`: the page is shown before they run.
    documentation_options.js and doctools.js (a few kB) stay as they are: inline scripts of the
    pages (and of the search page) use them at once."""
    for script in context.get("script_files", []):
        name = getattr(script, "filename", None) or ""
        attributes = getattr(script, "attributes", None)
        if (name and attributes is not None and "documentation_options" not in name
                and "doctools" not in name and not {"async", "defer", "type"} & set(attributes)):
            attributes["defer"] = "defer"


ICON_FONT = "_static/vendor/fontawesome/webfonts/fa-solid-900.woff2"
ICON_CSS = "_static/styles/pydata-sphinx-theme.css"


def subset_icon_font(app, exception):
    """The theme draws its handful of icons (search, menu, contents, light and dark, download)
    from Font Awesome's solid font, 115 kB for about 2,000 icons: replace it in the site by the
    icons the pages and the theme's scripts name (a few kB). An icon named nowhere in them
    cannot appear."""
    out = Path(app.outdir)
    font, css = out / ICON_FONT, out / ICON_CSS
    if exception is not None or not font.exists() or not css.exists():
        return
    from fontTools import subset
    codes = {}              # .fa-name{--fa:"\f0c9"} (a rule may list aliases: .fa-a,.fa-b{...})
    for names, code in re.findall(r'((?:\.fa-[a-z0-9-]+,?)+)\{--fa:"\\([0-9a-f]+)', css.read_text()):
        for name in re.findall(r"fa-([a-z0-9-]+)", names):
            codes[name] = int(code, 16)
    texts = [p.read_text(errors="ignore") for p in out.rglob("*") if p.suffix in (".html", ".js")
             and p.is_file() and not p.name.endswith(".min.js")]
    used = {codes[name] for text in texts for name in re.findall(r"fa-([a-z0-9-]+)", text) if name in codes}
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    smaller = subset.Subsetter(options)
    loaded = subset.load_font(str(font), options)
    smaller.populate(unicodes=sorted(used))
    smaller.subset(loaded)
    subset.save_font(loaded, str(font), options)


def drop_unused_assets(app, exception):
    """The theme's files no page loads: its icon script (left out of the pages, see
    _templates/static/webpack-macros.html) and the source maps of its scripts and styles (for
    the theme's developers' browser tools): 5 MB of the site."""
    if exception is not None:
        return
    static = Path(app.outdir) / "_static"
    for path in {*static.glob("scripts/fontawesome.js*"), *static.rglob("*.map")}:
        path.unlink(missing_ok=True)


def setup(app):
    app.connect("build-finished", subset_icon_font)
    app.connect("build-finished", drop_unused_assets)
    NbElementRenderer.render_image = render_image_with_alt
    app.connect("html-page-context", defer_scripts)
    app.connect("html-page-context", name_folds_by_their_text)
    app.connect("html-page-context", describe_page)
    app.connect("html-page-context", size_images)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
