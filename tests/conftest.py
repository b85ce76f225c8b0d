"""Suite-wide switches, the device report and the counts printed at the end of a run."""

import functools
import http.server
import os
import shutil
import threading
from urllib.parse import urlparse

import pytest

from machinery import cache

# OpenMP threads that wait by spinning burn CPU time while idle, which the per-page CPU budget would
# count against an honest page; passive waiting is the honest measure (and kinder to a busy machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pytest_addoption(parser):
    parser.addoption(
        "--cpu",
        action="store_true",
        help="hide every accelerator so pages and snippets run on the CPU (same as CUDA_VISIBLE_DEVICES=)",
    )
    parser.addoption(
        "--record-verified",
        action="store_true",
        help="after a run with no failure, record in verified/ that the pages and notebooks that passed "
        "passed on this torch and device (`make matrix` does this; the site shows it under each title)",
    )
    parser.addoption(
        "--page",
        metavar="docs/SECTION/PAGE.md",
        help="only this page's tests: its blocks and questions, each snippet it includes run alone, its "
        "visit in the browser, and every test of the built site (`make check PAGE=...` does this)",
    )


def pytest_configure(config):
    register_reusable_marker(config)
    from machinery.execute import force_cpu, hide_other_accelerators

    if config.getoption("--cpu"):
        # CUDA reads CUDA_VISIBLE_DEVICES when it initialises, which torch does lazily: in time here.
        force_cpu()
    elif os.environ.get("NOTES_FORCE_CPU") == "1":  # inherited: the workers of a --cpu run
        hide_other_accelerators()
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures render to files, never to a window
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        # Two workers with two threads each on two cores make small ops stall; share the cores.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
    if not hasattr(config, "workerinput") and not os.environ.get(SITE_ENV) and wants_site(config):
        start_site_build(config)  # the controller (or a single process) only


@pytest.fixture(scope="session", autouse=True)
def warm_imports():
    """Pay, once per worker and outside any page's CPU budget, for what the first page would:
    importing torch, matplotlib and scikit-learn's data sets (scipy), and the lazy imports behind
    the first optimizer step (torch._dynamo) and the first assert_close (sympy)."""
    import matplotlib.pyplot  # noqa: F401
    import sklearn.datasets  # noqa: F401
    import torch

    weight = torch.zeros(1, requires_grad=True)
    weight.grad = torch.ones(1)
    torch.optim.SGD([weight], lr=0.1).step()
    torch.testing.assert_close(weight.detach(), weight.detach())


def pytest_runtest_logreport(report):
    """Collect, on the controller, what every page and notebook that passed ran and printed."""
    if report.when == "call" and report.passed:
        for key, value in report.user_properties:
            if key == "verified":
                page, entry = value
                _verified_passed[page] = entry


_verified_passed: dict[str, dict] = {}


def pytest_sessionfinish(session, exitstatus):
    if (session.config.getoption("--record-verified") and not hasattr(session.config, "workerinput")
            and exitstatus == 0 and _verified_passed):
        from harness import rel, write_verified_record

        written = write_verified_record(_verified_passed)
        session.config._notes_verified = f"{rel(written)}: {len(_verified_passed)} pages and notebooks"


def pytest_unconfigure(config):
    stop_site_build(config)


def pytest_report_header(config):
    import torch

    from harness import chosen_device

    device = chosen_device()
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    return f"notes device: {device} ({name}); torch {torch.__version__}"


MAXIMA = {"notes_page_kib": "notes_heaviest_page_kib", "notes_page_cpu_s": "notes_slowest_page_cpu_s"}


def pytest_terminal_summary(terminalreporter):
    counts = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for key, value in getattr(report, "user_properties", []):
                if key in {"pages", "snippets", "notebooks", "executed_blocks", "skipped_blocks",
                           "copy_buttons_checked", "pages_reached_full", "pages_reached_instant",
                           "browser_visits_reused", "search_halves_reused", "page_runs_reused",
                           "checks_reused"}:
                    counts[key] = counts.get(key, 0) + value
                elif key in MAXIMA:  # (page, number): keep the largest
                    largest = counts.get(MAXIMA[key], ("", -1))
                    counts[MAXIMA[key]] = max(largest, value, key=lambda pair: pair[1])
                elif key.startswith("notes_"):  # measurements worth a line of their own
                    counts[key] = value
    if getattr(terminalreporter.config, "_notes_site_reused", False):
        terminalreporter.write_line("site: the last build from the same inputs was reused (NOTES_FRESH=1 builds again)")
    recorded = getattr(terminalreporter.config, "_notes_verified", None)
    if recorded:
        terminalreporter.write_line(f"recorded as verified: {recorded}")
    if counts:
        terminalreporter.write_sep("-", "notes")
        totals = {k: v for k, v in counts.items() if not k.startswith("notes_")}
        terminalreporter.write_line(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(totals.items())))
        for key, value in sorted(counts.items()):
            if key.startswith("notes_"):
                terminalreporter.write_line(f"{key[6:].replace('_', ' ')}: {value}")


@pytest.fixture(scope="session")
def site_port():
    """A free local port for this worker's server."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# The site, built once per run. With xdist the controller starts `mkdocs build --strict` in the
# background as soon as the run begins, so the build (which also executes the notebooks) overlaps
# the page and snippet tests; every worker's `site` fixture waits for that one build.
# ---------------------------------------------------------------------------------------------

SITE_ENV = "NOTES_SUITE_SITE"  # folder holding site/, build.log and, once finished, returncode
SITE_CACHE = cache.CACHE.parent / "site"  # the last successful build, under the digest of its inputs
SITE_MODULES = ("test_site.py", "test_browser.py", "test_search.py")


def pytest_collection_modifyitems(config, items):
    """Tests of the built site last, slowest first, so that the workers run pages, snippets and
    notebooks while the background build finishes, instead of waiting for it."""
    if config.getoption("--page"):
        only_page(config, items)
    uses_site = lambda item: item.nodeid.split("::")[0].endswith(SITE_MODULES)  # noqa: E731
    slow_first = {"tests/test_search.py": 0, "tests/test_browser.py": 1}
    items.sort(key=lambda item: (uses_site(item), slow_first.get(item.nodeid.split("::")[0], 2)))


def only_page(config, items):
    """--page docs/x/y.md: keep the tests of that page (ids carry its path), of the snippet files it
    includes (ids carry `snippets/z.py:`), and every test of the built site (test_site.py)."""
    import re
    from pathlib import Path

    from harness import ROOT

    page = Path(config.getoption("--page"))
    page = (page if page.is_absolute() else Path(config.invocation_params.dir) / page).resolve()
    if not page.is_file() or not page.is_relative_to(ROOT / "docs"):
        raise pytest.UsageError(f"--page {config.getoption('--page')}: no page under docs/ (docs/<section>/<page>.md)")
    name = page.relative_to(ROOT).as_posix()
    scripts = set(re.findall(r'--8<--\s+"(snippets/[\w-]+\.py)', page.read_text(encoding="utf-8")))
    marks = (f"[{name}]", *(f"[{s}:" for s in scripts))
    kept, dropped = [], []
    for item in items:
        whole_module = item.nodeid.startswith("tests/test_site.py::")
        (kept if whole_module or any(m in item.nodeid for m in marks) else dropped).append(item)
    if not any(f"[{name}]" in item.nodeid for item in kept):
        raise pytest.UsageError(f"--page {name}: no test of this page was collected (is it new? then it "
                                "is in docs/ but the run named no test file that covers it)")
    config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def wants_site(config) -> bool:
    """Whether this run will test the built site: no -k/-m filter and a selection that includes
    the site modules (a folder, or one of them named). Otherwise `site` builds when first used."""
    if config.option.keyword or config.option.markexpr:
        return False
    for arg in config.args:
        path = arg.split("::")[0]
        if not path.endswith(".py") or path.endswith(SITE_MODULES):
            return True
    return False


def start_site_build(config):
    import subprocess
    import tempfile
    from pathlib import Path

    from harness import ROOT, build_command

    folder = Path(tempfile.mkdtemp(prefix="notes-site-"))
    argv, env = build_command(folder / "site", NOTES_SITE_URL=BUILT_FOR)
    # A build that succeeded from exactly these inputs is reused (machinery/cache.py): same files, same
    # installed packages, same command. Any change builds again; CI starts without the cache.
    key = None if cache.fresh() else cache.build_inputs_digest(ROOT, [a for a in argv if a != str(folder / "site")], env)
    built = SITE_CACHE / key if key else None
    if built is not None and (built / "returncode").is_file():
        os.environ[SITE_ENV] = str(built)
        config._notes_site_reused = True
        shutil.rmtree(folder, ignore_errors=True)
        return
    log = open(folder / "build.log", "w")
    process = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)

    def record_when_done():
        code = process.wait()
        log.close()
        if code == 0 and built is not None:  # kept for the next run; only the newest build is kept
            shutil.rmtree(SITE_CACHE, ignore_errors=True)
            shutil.copytree(folder, built)
            (built / "returncode").write_text("0")
        (folder / "returncode.tmp").write_text(str(code))
        (folder / "returncode.tmp").rename(folder / "returncode")  # appears whole or not at all

    threading.Thread(target=record_when_done, daemon=True).start()
    os.environ[SITE_ENV] = str(folder)  # inherited by the xdist workers, started after configure
    config._notes_site_build = (process, folder)


def stop_site_build(config):
    started = getattr(config, "_notes_site_build", None)
    if started:
        process, folder = started
        if process.poll() is None:
            process.kill()
        process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_site(folder, timeout=900):
    """The build's site/ once `returncode` says it succeeded; a failed build fails every user."""
    import time
    from pathlib import Path

    folder, deadline = Path(folder), time.monotonic() + timeout
    while not (folder / "returncode").exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the site build did not finish in {timeout} s", pytrace=False)
        time.sleep(0.2)
    code = int((folder / "returncode").read_text())
    if code != 0:
        log = (folder / "build.log").read_text(encoding="utf-8", errors="replace")
        from machinery.build_log import problems as build_problems

        problems = build_problems(log)  # each warning with the lines under it (pages missing from nav)
        pytest.fail("mkdocs build --strict failed:\n" + "\n".join(problems or [log[-3000:]]), pytrace=False)
    return folder / "site"


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The strictly built site (see above); built here, once for all workers, when no build was started."""
    from filelock import FileLock

    folder = os.environ.get(SITE_ENV)
    if not folder:
        base = tmp_path_factory.getbasetemp()
        # the run's folder, common to its xdist workers (each has its own popen-gwN below it); without
        # xdist, the parent would be shared by every run, and a later run would test an old site
        shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
        folder = shared / "notes-site"
        with FileLock(shared / "notes-site.lock"):
            if not (folder / "returncode").exists():
                from harness import ROOT, build_site

                folder.mkdir(exist_ok=True)
                result = build_site(ROOT, folder / "site", NOTES_SITE_URL=BUILT_FOR)
                (folder / "build.log").write_text(result.stdout + result.stderr, encoding="utf-8")
                (folder / "returncode").write_text(str(result.returncode))
    return wait_for_site(folder)


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


BUILT_FOR = "http://127.0.0.1:8000/"  # mkdocs.yml's default site_url


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site. Material's instant navigation follows only links listed in
    sitemap.xml, which carries site_url, so the sitemap is rewritten for the port served on."""

    served_at = BUILT_FOR

    def do_GET(self):
        if self.path.split("?")[0] != "/sitemap.xml":
            return super().do_GET()
        sitemap = os.path.join(self.directory, "sitemap.xml")
        with open(sitemap, "rb") as f:
            body = f.read().replace(BUILT_FOR.encode(), self.served_at.encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def base_url(site, site_port):
    served_at = f"http://127.0.0.1:{site_port}/"
    handler = functools.partial(type("Handler", (SiteHandler,), {"served_at": served_at}), directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", site_port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield served_at
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


def watched_tab(browser, base_url):
    """A new tab (and its context) that records in ``foreign_requests`` every request to another
    host and in ``console_errors`` every console error and uncaught exception."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"], base_url=base_url)
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
    """One watched tab per worker, reused test after test (test_browser's page-by-page visit)."""
    context, page = watched_tab(browser, base_url)
    yield page
    context.close()




# ---------------------------------------------------------------------------------------------
# Checks whose verdict depends only on what they are given are not repeated on identical inputs
# (machinery/cache.py). @pytest.mark.reusable("site"): the built site's every file, the test's module,
# the fixtures, the harness and the browser version. @pytest.mark.reusable("project"): every project
# file outside tests/ and the installed packages (what a scratch build copies and runs), and the same
# test code. Only passes are kept; NOTES_FRESH=1, or a clean checkout, runs everything.
# ---------------------------------------------------------------------------------------------


def register_reusable_marker(config):
    config.addinivalue_line("markers", 'reusable(kind): a pass is reused on identical inputs; kind "site" or "project"')


def reusable_key(item) -> str | None:
    from pathlib import Path

    from harness import ROOT, build_command

    marker = item.get_closest_marker("reusable")
    if marker is None or cache.fresh():
        return None
    judges = [Path(item.path), Path(__file__), Path(__file__).with_name("harness.py"), Path(cache.__file__)]
    if marker.args[0] == "site":
        browser = next((item.funcargs[n] for n in ("page", "tab", "browser") if n in item.funcargs), None)
        version = (browser.context.browser.version if hasattr(browser, "context") else
                   browser.version if browser is not None else "")
        inputs = cache.built_site_digest(item.funcargs["site"], pages_too=True), version
    else:
        argv, env = build_command(Path("site"))
        inputs = (cache.build_inputs_digest(ROOT, argv, env),)
        judges += sorted(Path(__file__).parent.glob("*.py")) + sorted(Path(__file__).parent.glob("*.t*"))
    if None in inputs:
        return None
    return cache.digest(item.nodeid, *inputs, *judges)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    key = reusable_key(pyfuncitem)
    pyfuncitem._notes_reuse_key = key
    if key is not None and cache.passed_before("reusable", pyfuncitem.nodeid, key) is not None:
        pyfuncitem.user_properties.append(("checks_reused", 1))
        return True  # passed before on exactly these inputs: the function is not called again
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    key = getattr(item, "_notes_reuse_key", None)
    if call.when == "call" and report.passed and key is not None:
        cache.remember_pass("reusable", item.nodeid, key, {})
    return report
