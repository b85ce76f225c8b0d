"""The built site in a real browser (headless Chromium): math rendered, copy buttons, instant
navigation, search, and not one request to a host other than the local server."""

import functools
import http.server
import os
import shutil
import threading
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.xdist_group("site")  # shares the build with test_site.py

CHROMIUM = os.environ.get("NOTES_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking switches Chromium phones home at start-up.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-domain-reliability",
]
CONCEPT_PAGES = ["tensors/broadcasting/", "tensors/matrix-multiplication/", "optimizers/adam/"]


@pytest.fixture(scope="module")
def base_url(site, site_port):
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", site_port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make setup` installs Debian's chromium, "
                    "or set NOTES_CHROMIUM to a Chromium binary", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context()
    page = context.new_page()
    page.foreign_requests = []
    page.console_errors = []
    local = urlparse(base_url).netloc

    def on_request(request):
        url = urlparse(request.url)
        if url.scheme in {"http", "https", "ws", "wss"} and url.netloc != local:
            page.foreign_requests.append(request.url)

    page.on("request", on_request)
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()


def math_state(page):
    return page.evaluate("""() => ({
        formulas: document.querySelectorAll('.arithmatex').length,
        rendered: document.querySelectorAll('.arithmatex .katex').length,
        errors: document.querySelectorAll('.katex-error').length,
    })""")


@pytest.mark.parametrize("path", CONCEPT_PAGES)
def test_concept_page_renders_math_and_copy_buttons_with_only_local_requests(page, base_url, path):
    page.goto(base_url + path, wait_until="networkidle")
    state = math_state(page)
    assert state["formulas"] > 0, f"{path}: no math on a concept page"
    assert state["rendered"] == state["formulas"] and state["errors"] == 0, f"{path}: {state}"
    code_blocks = page.locator(".md-typeset pre > code").count()
    assert code_blocks > 0
    copy_buttons = page.locator(".md-typeset pre button[data-md-type='copy']").count()
    assert copy_buttons == code_blocks, f"{path}: {code_blocks} code blocks but {copy_buttons} copy buttons"
    assert not page.foreign_requests, f"{path} requested other hosts: {page.foreign_requests}"
    assert not page.console_errors, f"{path}: console errors {page.console_errors}"


def test_math_is_rendered_again_after_instant_navigation(page, base_url):
    page.goto(base_url, wait_until="networkidle")
    page.evaluate("window.__sameDocument = true")  # survives instant navigation, not a full reload
    page.locator(".md-content a[href$='optimizers/adam/']").first.click()
    page.wait_for_url("**/optimizers/adam/")
    page.wait_for_function("document.querySelectorAll('.arithmatex .katex').length > 0")
    assert page.evaluate("window.__sameDocument === true"), "navigation reloaded the page: instant is off"
    state = math_state(page)
    assert state["rendered"] == state["formulas"] and state["errors"] == 0, state
    assert not page.foreign_requests, page.foreign_requests


def test_search_finds_adam_by_a_code_identifier(page, base_url):
    page.goto(base_url, wait_until="networkidle")
    page.keyboard.press("/")  # Material's shortcut focuses the search box
    page.locator(".md-search__input").press_sequentially("optim", delay=30)  # search listens to key events
    page.wait_for_selector(".md-search-result__item")
    titles = page.locator(".md-search-result__item h1").all_inner_texts()
    assert "Adam" in titles, titles
    assert not page.foreign_requests, page.foreign_requests
