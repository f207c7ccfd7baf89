"""Fixtures of the browser tests: one JupyterLab server and one headless Chromium per session.

The tests here carry the `browser` marker and run LAST (tests/conftest.py orders them): `make
test` runs the notebooks through nbval first, which fills the model cache data/cache/, so the
notebooks opened in the browser load their models instead of training them again.
"""
import shutil

import pytest

import lab_browser


@pytest.fixture(scope="session")
def chromium():
    """The system's Chromium; without it the browser tests fail and say how to install it."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.fail("The Python package playwright is missing: "
                    "`.venv/bin/pip install -r requirements.txt`. " + lab_browser.INSTALL_HINT,
                    pytrace=False)
    executable = lab_browser.find_chromium()
    if executable is None:
        pytest.fail("Chromium is missing, so the notebooks cannot be opened in a browser. "
                    + lab_browser.INSTALL_HINT, pytrace=False)
    return executable


@pytest.fixture(scope="session")
def lab(tmp_path_factory, chromium):
    """JupyterLab serving an empty temporary folder; each test copies its notebook there, so
    nothing is ever saved into notebooks/. `import helpers` works from any folder (editable
    install), and the kernels use the normal model cache."""
    root = tmp_path_factory.mktemp("lab-root")
    server = lab_browser.start_lab(root, tmp_path_factory.mktemp("lab-home"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_session(chromium):
    """The one Playwright of the session: its sync API cannot be started twice in one process
    while it runs, so every browser of every test module is launched from this one."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory, playwright_session, chromium, lab):
    context = lab_browser.launch_chromium(playwright_session, tmp_path_factory.mktemp("chromium-profile"),
                                          chromium)
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    """A fresh browser tab per notebook; its kernel is shut down afterwards, pass or fail."""
    tab = browser_context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    try:
        tab.evaluate("window.jupyterapp?.shell.currentWidget?.sessionContext?.shutdown()")
    finally:
        tab.close()


@pytest.fixture(scope="session")
def screenshot_dir():
    folder = lab_browser.SCREENSHOT_DIR
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"\nbrowser screenshots: {folder}")
    return folder
