"""Sphinx configuration of the course's website (built by `make site`, see website/build.py).

Everything the pages use ships inside the site folder: the theme's assets come from its pip
package, the maths is rendered into the pages at build time by KaTeX (from npm, website/
package.json; its stylesheet and fonts are copied into the site), the widgets' player comes
from static/. No page requests anything from another host, and no page loads a script it does
not use: the theme's 1.6 MB icon script is left out (_templates/static/webpack-macros.html)."""
import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import sphinxcontrib.katex

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))
KATEX = HERE / "node_modules" / "katex" / "dist"
if not (KATEX / "katex.min.js").exists():
    raise RuntimeError(f"KaTeX is missing ({KATEX}): `make site` installs it with "
                       f"`npm ci --prefix website` (needs Node.js and npm)")

project = "Autoencoders, hands-on"
author = "the course's authors"
copyright = "the course's authors"
language = "en"

extensions = [
    "myst_nb",                 # notebooks (.ipynb, executed by build.py) and Markdown pages
    "sphinxcontrib.katex",     # maths rendered into the pages at build time (KaTeX, in Node)
    "course_site",             # alt text, sized and lazy images, meta descriptions (_ext/)
]

# KaTeX: every formula becomes HTML (with MathML for screen readers) while the pages are
# written; the pages need only KaTeX's stylesheet and the fonts it uses. A formula KaTeX cannot
# read stops the build (the extension would otherwise print it in red on the page).
katex_prerender = True
katex_js_path = str(KATEX / "katex.min.js")
katex_css_path = "katex/katex.min.css"
sphinxcontrib.katex.KATEX_DEFAULT_OPTIONS["throwOnError"] = True
# Its server (Node) is reached through a TCP socket on 127.0.0.1, whose connection it retries
# until the server listens: through a Unix socket it connects once, as soon as the socket file
# exists, which on a busy machine is before Node listens on it ("Connection refused"). Timeouts
# for a busy machine too (its defaults: 5 s).
sphinxcontrib.katex.KaTeXServer.start_server_process = classmethod(
    lambda cls, rundir, timeout: cls.start_network_socket(rundir, timeout))
sphinxcontrib.katex.STARTUP_TIMEOUT = sphinxcontrib.katex.RENDER_TIMEOUT = 120.0
_katex_static = Path(tempfile.mkdtemp(prefix="katex-static-"))    # becomes _static/katex/
atexit.register(shutil.rmtree, _katex_static, ignore_errors=True)
(_katex_static / "katex" / "fonts").mkdir(parents=True)
shutil.copy(KATEX / "katex.min.css", _katex_static / "katex" / "katex.min.css")
for font in KATEX.glob("fonts/*.woff2"):          # every browser that reads the site reads woff2
    shutil.copy(font, _katex_static / "katex" / "fonts" / font.name)

exclude_patterns = ["_extra", "_widgets", "README.md", "**/.ipynb_checkpoints"]  # README: included by index.md

# MyST: $...$ and $$...$$ maths as in JupyterLab.
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
myst_heading_slug_func = "course_site.jupyterlab_slug"   # links between notebooks keep working

# myst-nb: the notebooks come executed; never run them again here. Widgets reach the page
# through our own player (text/html written by website/export.py), so the ipywidgets view (a
# kernel-less page cannot render it) and its CDN scripts are left out.
nb_execution_mode = "off"
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_merge_streams = True

html_theme = "sphinx_book_theme"
html_title = "Autoencoders, hands-on"
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
}
html_context = {"default_mode": "light"}    # the figures are drawn on white
html_static_path = ["static", str(_katex_static)]
html_favicon = "static/favicon.svg"
templates_path = ["_templates"]      # the search button named by its text; the theme's assets without its icon script
html_css_files = ["aew.css"]
html_js_files = [("aew.js", {"defer": "defer"})]
html_last_updated_fmt = None
html_show_sphinx = False
html_copy_source = True
