"""Suite-wide switches, the device report and the counts printed at the end of a run."""

import functools
import http.server
import os
import shutil
import threading
from urllib.parse import urlparse

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--cpu",
        action="store_true",
        help="hide every accelerator so pages and snippets run on the CPU (same as CUDA_VISIBLE_DEVICES=)",
    )


def pytest_configure(config):
    if config.getoption("--cpu"):
        # CUDA reads this when it initialises, which torch does lazily: setting it here is in time.
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        os.environ["NOTES_FORCE_CPU"] = "1"
    if os.environ.get("NOTES_FORCE_CPU") == "1":
        import torch

        # For accelerators that CUDA_VISIBLE_DEVICES does not hide (Apple's MPS, XPU, ...).
        torch.accelerator.current_accelerator = lambda check_available=False: None
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures render to files, never to a window
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        # Two workers with two threads each on two cores make small ops stall; share the cores.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def pytest_report_header(config):
    import torch

    device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    return f"notes device: {device} ({name}); torch {torch.__version__}"


def pytest_terminal_summary(terminalreporter):
    counts = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for key, value in getattr(report, "user_properties", []):
                if key in {"pages", "snippets", "notebooks", "executed_blocks", "skipped_blocks"}:
                    counts[key] = counts.get(key, 0) + value
                elif key.startswith("notes_"):  # measurements worth a line of their own
                    counts[key] = value
    if counts:
        terminalreporter.write_sep("-", "notes")
        totals = {k: v for k, v in counts.items() if not k.startswith("notes_")}
        terminalreporter.write_line(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(totals.items())))
        for key, value in sorted(counts.items()):
            if key.startswith("notes_"):
                terminalreporter.write_line(f"{key[6:].replace('_', ' ')}: {value}")


@pytest.fixture(scope="session")
def site_port():
    """A free local port. Material's instant navigation follows only links listed in sitemap.xml,
    which carries site_url, so the site is built for the port the browser tests serve it on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def site(tmp_path_factory, site_port):
    """The site built once per worker with `mkdocs build --strict`; a failed build fails every user."""
    from harness import ROOT, build_site

    out = tmp_path_factory.mktemp("site")
    result = build_site(ROOT, out, NOTES_SITE_URL=f"http://127.0.0.1:{site_port}/")
    if result.returncode != 0:
        problems = [line for line in (result.stdout + result.stderr).splitlines()
                    if "WARNING" in line or "ERROR" in line or "Error" in line]
        pytest.fail("mkdocs build --strict failed:\n" + "\n".join(problems or [result.stderr[-3000:]]),
                    pytrace=False)
    return out


# ---------------------------------------------------------------------------------------------
# The built site in headless Chromium (tests/test_browser.py, tests/test_search.py)
# ---------------------------------------------------------------------------------------------

CHROMIUM = os.environ.get("NOTES_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking switches Chromium phones home at start-up.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-domain-reliability",
]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def base_url(site, site_port):
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", site_port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{site_port}/"
    server.shutdown()


@pytest.fixture(scope="session")
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
    """A fresh tab that records every request to another host and every console error."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"], base_url=base_url)
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


