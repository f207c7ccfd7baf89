"""Sphinx configuration of the course's website (built by `make site`, see website/build.py).

Everything the pages use ships inside the site folder: the theme's assets come from its pip
package, MathJax from the pip package sphinx-mathjax-offline, the widgets' player from static/.
No page requests anything from another host."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "Autoencoders, hands-on"
author = "the course's authors"
copyright = "the course's authors"
language = "en"

extensions = [
    "myst_nb",                 # notebooks (.ipynb, executed by build.py) and Markdown pages
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static/mathjax instead of a CDN
    "course_site",             # figures' alt text from the executed notebooks (_ext/)
]
exclude_patterns = ["_extra", "_widgets", "README.md", "**/.ipynb_checkpoints"]  # README: included by index.md

# MyST: $...$ and $$...$$ maths as in JupyterLab.
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
myst_heading_slug_func = "course_site.jupyterlab_slug"   # links between notebooks keep working

# myst-nb: the notebooks come executed; never run them again here. Widgets reach the page
# through our own player (text/html written by helpers/web.py), so the ipywidgets view (a
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
html_static_path = ["static"]
templates_path = ["_templates"]      # the search button, with an accessible name that matches its text
html_css_files = ["aew.css"]
html_js_files = ["aew.js"]
html_last_updated_fmt = None
html_show_sphinx = False
html_copy_source = True
