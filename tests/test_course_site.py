"""website/_ext/course_site.py's steps after Sphinx's build, on small folders of their own (the
built site itself is tested in tests/browser/test_site.py)."""
import html
import re
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

WEBSITE = Path(__file__).resolve().parents[1] / "website"
sys.path.insert(0, str(WEBSITE / "_ext"))
import course_site  # noqa: E402

KATEX_FONTS = WEBSITE / "node_modules" / "katex" / "dist" / "fonts"


def theme_stylesheet() -> str:
    """pygments.css as the theme writes it for the site (its light and dark styles)."""
    from pydata_sphinx_theme.pygments import get_pygments_stylesheet
    return get_pygments_stylesheet("a11y-high-contrast-light", "a11y-high-contrast-dark")


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", markup))


def test_plain_code_classes_are_those_drawn_in_the_blocks_own_colour():
    plain = course_site.plain_code_classes(theme_stylesheet())
    assert {"n", "p"} <= plain                        # names and punctuation: the text's colour
    assert not {"k", "s2", "mi", "c1", "o", "nf"} & plain   # keywords, strings, numbers, ...
    # a class coloured differently in one theme only is not plain
    one_theme = ('html[data-theme="light"] .highlight { color: #111 }\n'
                 'html[data-theme="dark"] .highlight { color: #eee }\n'
                 'html[data-theme="light"] .highlight .n { color: #111 }\n'
                 'html[data-theme="dark"] .highlight .n { color: #f00 }\n'
                 'html[data-theme="light"] .highlight .p { color: #111 }\n'
                 'html[data-theme="dark"] .highlight .p { color: #EEE }\n'
                 'html[data-theme="light"] .highlight .w { color: #111; font-weight: bold }\n'
                 'html[data-theme="dark"] .highlight .w { color: #eee }\n')
    assert course_site.plain_code_classes(one_theme) == {"p"}


def test_unwrapped_code_keeps_its_text_and_its_coloured_spans(tmp_path):
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "pygments.css").write_text(theme_stylesheet())
    code = ('<div class="highlight"><pre><span></span><span class="kn">import</span> '
            '<span class="nn">torch</span>\n<span class="n">x</span> <span class="o">=</span> '
            '<span class="n">torch</span><span class="o">.</span><span class="n">zeros</span>'
            '<span class="p">(</span><span class="mi">3</span><span class="p">)</span>  '
            '<span class="c1"># a &lt;comment&gt;</span>\n</pre></div>')
    prose = '<p>Outside code a <span class="n">span</span> stays.</p>'
    page = tmp_path / "page.html"
    page.write_text(f"<html><body>{prose}{code}</body></html>")
    course_site.unwrap_plain_code(SimpleNamespace(outdir=str(tmp_path)), None)
    after = page.read_text()
    assert text_of(after) == text_of(f"<html><body>{prose}{code}</body></html>")
    assert prose in after
    assert re.findall(r'<span class="(\w+)"', after) == ["n", "kn", "o", "o", "mi", "c1"]


@pytest.mark.skipif(not KATEX_FONTS.exists(), reason="KaTeX is installed by `npm ci --prefix website`")
def test_math_fonts_keep_every_character_of_the_pages(tmp_path):
    from fontTools.ttLib import TTFont
    fonts = tmp_path / "_static" / "katex" / "fonts"
    fonts.mkdir(parents=True)
    for name in ("KaTeX_Main-Regular.woff2", "KaTeX_Math-Italic.woff2"):
        shutil.copy(KATEX_FONTS / name, fonts / name)
    (tmp_path / "a.html").write_text('<p><span class="katex-html">x &lt; y, σ ≥ 0</span></p>')
    (tmp_path / "b.html").write_text('<p>μ + 2</p>')
    course_site.subset_math_fonts(SimpleNamespace(outdir=str(tmp_path)), None)
    for name in ("KaTeX_Main-Regular.woff2", "KaTeX_Math-Italic.woff2"):
        before = set(TTFont(KATEX_FONTS / name).getBestCmap())
        after = set(TTFont(fonts / name).getBestCmap())
        wanted = {ord(c) for c in "x<y,σ≥0μ+2"} & before
        assert wanted <= after < before
        assert (fonts / name).stat().st_size < (KATEX_FONTS / name).stat().st_size
