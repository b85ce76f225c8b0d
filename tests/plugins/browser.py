"""The built site in headless Chromium (tests/test_browser.py, tests/test_search.py): the browser,
and watched tabs that record requests to other hosts and console errors."""

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from harness import SUITE_SOURCES
from machinery.pages import ROOT, url_path
from machinery import cache

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# What judges a visit (tests/test_browser.py), besides the built files: a change to any of these runs
# every visit again.
JUDGES = [ROOT / "tests" / "test_browser.py", *SUITE_SOURCES, AXE, Path(cache.__file__)]


def browser_identity(browser) -> str:
    """Which browser judged: the binary (full Chromium or its headless shell) and its version."""
    return f"{Path(CHROMIUM).name} {browser.version}"


def visit_key(site: Path, source: Path, browser: str, styled: bool) -> str:
    """Everything a visit's verdict depends on: the page as built, every other file of the site it may
    load, the code that judges it, the browser (browser_identity) and whether axe's style rules run on
    it, which other pages decide (machinery/cache.py)."""
    built = site / url_path(source) / "index.html"
    return cache.digest(built.read_bytes(), cache.built_site_digest(site), *JUDGES, browser, f"styled={styled}")


# Chromium's headless shell (Debian's chromium-headless-shell, what Playwright itself drives headless):
# the same Blink as the full browser without its user interface, whose browser process costs about
# 40 CPU seconds over the tour here. A full Chromium works too, in its new headless mode.
CHROMIUM = (os.environ.get("NOTES_CHROMIUM") or shutil.which("chromium-headless-shell")
            or shutil.which("chromium") or "/usr/bin/chromium-headless-shell")
HEADLESS_SHELL = "headless-shell" in Path(CHROMIUM).name
# Without the background-networking switches Chromium phones home at start-up.
CHROMIUM_ARGS = [
    *([] if HEADLESS_SHELL else ["--headless=new"]), "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-domain-reliability",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make setup` installs Debian's chromium-headless-shell, "
                    "or set NOTES_CHROMIUM to a Chromium binary", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def watched_tab(browser, base_url, **options):
    """A new tab (and its context) that records in ``foreign_requests`` every request to another
    host and in ``console_errors`` every console error and uncaught exception."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"], base_url=base_url, **options)
    page = context.new_page()
    page.foreign_requests = []
    page.full_loads = set()  # kinds of page loaded in full in this tab (test_browser.reach)
    page.console_errors = []
    local = urlparse(base_url).netloc

    def on_request(request):
        url = urlparse(request.url)
        if url.scheme in {"http", "https", "ws", "wss"} and url.netloc != local:
            page.foreign_requests.append(request.url)

    page.on("request", on_request)
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    return context, page


@pytest.fixture
def page(browser, base_url):
    """A fresh tab for one test (see watched_tab)."""
    context, page = watched_tab(browser, base_url)
    yield page
    context.close()


@pytest.fixture(scope="session")
def tab(browser, base_url):
    """One watched tab per worker, reused test after test (test_browser's page-by-page visit). It asks
    for reduced motion, as some readers' systems do: Material then skips its transitions, and the tour
    does not wait for fades to end before judging a page (the other browser tests keep the motion)."""
    context, page = watched_tab(browser, base_url, reduced_motion="reduce")
    yield page
    context.close()
