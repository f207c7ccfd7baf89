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
import shutil
import subprocess
import tempfile
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
    pictures arrive), and loaded only when the reader scrolls near it: every page opens with
    its title and text, so a picture fetched at once would only take the bandwidth the text and
    its styles need (the browser still fetches at once those it finds near the screen)."""
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

    def sized(match):
        attributes = match.group("attributes")
        src = re.search(r'src="([^"]*)"', attributes)
        extra = ""
        if src and "width=" not in attributes:
            size = sizes.get(posixpath.basename(src.group(1)))
            if size:
                extra += f' width="{size[0]}" height="{size[1]}"'
        if "loading=" not in attributes:
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


def subset_math_fonts(app, exception):
    """KaTeX's fonts with only the characters the site's pages hold: the maths is rendered at
    build time, so every glyph a formula shows is a character of some page (KaTeX's stylesheet
    draws none). A page fetches a font as soon as a formula of its first screen uses it, on a slow
    connection beside the text it is showing: page 06's five came to 82 kB."""
    out = Path(app.outdir)
    fonts = sorted((out / "_static" / "katex" / "fonts").glob("*.woff2"))
    if exception is not None or not fonts:
        return
    from fontTools import subset
    characters = set()
    for page in out.rglob("*.html"):
        characters |= set(html.unescape(re.sub(r"<[^>]*>", " ", page.read_text())))
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.notdef_outline = True
    for font in fonts:
        loaded = subset.load_font(str(font), options)
        smaller = subset.Subsetter(options)
        smaller.populate(unicodes=sorted(ord(c) for c in characters))
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


_HIGHLIGHT_RULE = re.compile(r'html\[data-theme="(\w+)"\] \.highlight (?:\.(\w+) )?\{([^}]*)\}')
_PRE = re.compile(r'(<div class="highlight"><pre[^>]*>)(.*?)(</pre>)', re.S)


def plain_code_classes(stylesheet: str) -> set[str]:
    """The classes of highlighted code whose every rule, in each colour theme, only gives the
    colour the code block has anyway (Pygments' Name, Punctuation, ...)."""
    block, rules = {}, {}
    for theme, name, body in _HIGHLIGHT_RULE.findall(stylesheet):
        declarations = {d.split(":")[0].strip(): d.split(":", 1)[1].strip()
                        for d in body.split(";") if ":" in d}
        if not name:
            block[theme] = declarations.get("color")
        else:
            rules.setdefault(name, {})[theme] = declarations
    return {name for name, themes in rules.items()
            if block and set(themes) == set(block)
            and all(list(d) == ["color"] and d["color"].lower() == (block[t] or "").lower()
                    for t, d in themes.items())}


def unwrap_plain_code(app, exception):
    """Highlighted code without the <span>s that change nothing a reader sees (plain_code_classes):
    Pygments wraps every name and every bracket, half of a notebook page's elements, and a
    phone styles and lays out each element of a page before it shows it (page 06: 8,550
    elements, 2,450 of them such spans)."""
    if exception is not None:
        return
    out = Path(app.outdir)
    stylesheet = out / "_static" / "pygments.css"
    if not stylesheet.exists():
        return
    plain = plain_code_classes(stylesheet.read_text())
    if not plain:
        return
    span = re.compile(r'<span class="(?:%s)">([^<]*)</span>' % "|".join(sorted(plain)))
    for page in out.rglob("*.html"):
        text = page.read_text()
        unwrapped = _PRE.sub(lambda m: m.group(1) + span.sub(r"\1", m.group(2)) + m.group(3), text)
        if unwrapped != text:
            page.write_text(unwrapped)


PURGECSS = Path(__file__).resolve().parents[1] / "node_modules" / "purgecss" / "bin" / "purgecss.js"
PURGECSS_CONFIG = Path(__file__).resolve().parents[1] / "purgecss.config.js"


def purge_unused_css(app, exception):
    """Every stylesheet of the site without the rules no page uses (PurgeCSS, website/
    purgecss.config.js says what it scans): the theme's stylesheet is Bootstrap's and its own,
    0.38 MB of which the pages use a fifth. A phone parses and matches every rule it is sent
    before it shows the page, on every page."""
    if exception is not None:
        return
    if not PURGECSS.exists():
        raise RuntimeError(f"PurgeCSS is missing ({PURGECSS}): `make site` installs it with "
                           f"`npm ci --prefix website` (needs Node.js and npm)")
    out = Path(app.outdir)
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(["node", str(PURGECSS), "--config", str(PURGECSS_CONFIG), "--output", folder,
                               "--preserve-paths"], cwd=out, capture_output=True, text=True)
        purged = [p for p in Path(folder).rglob("*.css")]
        if done.returncode != 0 or not purged:
            raise RuntimeError(f"PurgeCSS failed: {done.stderr[-2000:]}")
        for path in purged:
            shutil.copyfile(path, out / path.relative_to(folder))


def setup(app):
    app.connect("build-finished", subset_icon_font)
    app.connect("build-finished", subset_math_fonts)
    app.connect("build-finished", drop_unused_assets)
    # after the theme's handlers (priority 500), which write pygments.css anew for its light and
    # dark colours; the pages' code unwrapped before PurgeCSS reads the pages
    app.connect("build-finished", unwrap_plain_code, priority=800)
    app.connect("build-finished", purge_unused_css, priority=900)
    NbElementRenderer.render_image = render_image_with_alt
    app.connect("html-page-context", defer_scripts)
    app.connect("html-page-context", name_folds_by_their_text)
    app.connect("html-page-context", describe_page)
    app.connect("html-page-context", size_images)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
