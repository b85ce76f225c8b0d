"""The site, built once per run (`mkdocs build --strict`), the cache of the last good build, and the
local HTTP server the browser tests read it from.

One path builds it, site_build: whoever needs the site first starts the build. With xdist the
controller starts it in the background as soon as the run begins (pytest_configure), so the build
(which also executes the notebooks) overlaps the page and snippet tests; the workers inherit its
folder (NOTES_SUITE_SITE). When the run did not start it (a -k or -m filter, a selection without the
site modules), the first `site` fixture does, under a file lock in the folder the run's xdist workers
share, so that they still build once. Every user of `site` waits for that one build."""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from harness import SITE_ENV  # the folder holding site/, build.log and, once finished, returncode
from machinery import cache
from machinery.records import BUILD_RECORDS_ENV

SITE_CACHE = cache.CACHE.parent / "site"  # the last successful build, under the digest of its inputs
SITE_MODULES = ("test_site.py", "test_browser.py", "test_search.py")
BUILT_FOR = "http://127.0.0.1:8000/"  # mkdocs.yml's default site_url


@pytest.hookimpl(trylast=True)  # after the device is chosen (plugins/options.py): the build inherits it
def pytest_configure(config):
    if not hasattr(config, "workerinput") and wants_site(config):
        site_build(config)  # the controller (or a single process) only


def pytest_unconfigure(config):
    stop_site_build(config)


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


def site_build(config, shared: Path | None = None) -> Path:
    """This run's one build: its folder (site/, build.log and, once finished, returncode), started
    here unless it was already. ``shared``: a folder common to the run's processes (the `site`
    fixture's); under its lock the first process starts the build and the others find its folder.
    Without it (the controller, before any worker exists) the build goes to a folder of its own,
    removed at the end of the run."""
    if os.environ.get(SITE_ENV):
        return Path(os.environ[SITE_ENV])
    if shared is None:
        folder = start_site_build(config)
    else:
        from filelock import FileLock

        with FileLock(shared / "notes-site.lock"):
            named = shared / "notes-site.folder"  # names the build's folder to the other workers
            if named.is_file():
                folder = Path(named.read_text(encoding="utf-8"))
            else:
                folder = start_site_build(config, shared / "notes-site")
                named.write_text(str(folder), encoding="utf-8")
    os.environ[SITE_ENV] = str(folder)  # inherited by the xdist workers, started after configure
    return folder


def start_site_build(config, folder: Path | None = None) -> Path:
    """Start `mkdocs build --strict` in the background into ``folder`` (a new temporary folder, removed
    at the end of the run, when None), or reuse the last good build from the same inputs; the folder
    that holds, or will hold, the build."""
    import subprocess
    import tempfile

    from harness import build_command
    from machinery.pages import ROOT

    owned = folder is None
    if owned:
        folder = Path(tempfile.mkdtemp(prefix="notes-site-"))
    else:
        folder.mkdir(parents=True, exist_ok=True)
    # the build writes what it ran (every page and notebook) to records/ beside site/ (machinery.records)
    argv, env = build_command(folder / "site", NOTES_SITE_URL=BUILT_FOR, **{BUILD_RECORDS_ENV: "1"})
    # A build that succeeded from exactly these inputs is reused (machinery/cache.py): same files, same
    # installed packages, same command. Any change builds again; CI starts without the cache.
    key = None if cache.fresh() else cache.build_inputs_digest(ROOT, [a for a in argv if a != str(folder / "site")], env)
    built = SITE_CACHE / key if key else None
    if built is not None and (built / "returncode").is_file():
        config._notes_site_reused = True
        shutil.rmtree(folder, ignore_errors=True)
        return built
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
    config._notes_site_build = (process, folder if owned else None)
    return folder


def stop_site_build(config):
    """At the end of the run: stop a build still running, and remove its folder if it was its own
    (a folder shared with the workers stays: another may still be serving it)."""
    started = getattr(config, "_notes_site_build", None)
    if started:
        process, owned_folder = started
        if process.poll() is None:
            process.kill()
        process.wait()
        if owned_folder is not None:
            shutil.rmtree(owned_folder, ignore_errors=True)


def wait_for_site(folder, timeout=900, fail=True):
    """The build's site/ once `returncode` says it succeeded; a failed build fails every user (with
    ``fail``; else the site/ folder is returned whatever the outcome)."""
    import time

    folder, deadline = Path(folder), time.monotonic() + timeout
    while not (folder / "returncode").exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the site build did not finish in {timeout} s", pytrace=False)
        time.sleep(0.2)
    code = int((folder / "returncode").read_text())
    if code != 0 and fail:
        log = (folder / "build.log").read_text(encoding="utf-8", errors="replace")
        from machinery.build_log import problems as build_problems

        problems = build_problems(log)  # each warning with the lines under it (pages missing from nav)
        pytest.fail("mkdocs build --strict failed:\n" + "\n".join(problems or [log[-3000:]]), pytrace=False)
    return folder / "site"


@pytest.fixture(scope="session")
def site(pytestconfig, tmp_path_factory):
    """The strictly built site (site_build): the run's build, started here if the run did not start one."""
    base = tmp_path_factory.getbasetemp()
    # the run's folder, common to its xdist workers (each has its own popen-gwN below it); without
    # xdist, the parent would be shared by every run, and a later run would test an old site
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return wait_for_site(site_build(pytestconfig, shared))


@pytest.fixture(scope="session")
def build_records(pytestconfig):
    """What this run's site build ran, its records/ folder (hooks/runs.py, hooks/notebooks.py), once the
    build has finished; None when this run builds no site (a run of some test modules only) or the build
    failed: then a test that would read a record runs the code itself."""
    folder = os.environ.get(SITE_ENV)
    if not folder:
        return None
    wait_for_site(folder, fail=False)
    # a failed build: each test runs its page itself, and says precisely what fails (the site's tests
    # report the build's own log)
    return Path(folder) / "records" if (Path(folder) / "returncode").read_text().strip() == "0" else None


@pytest.fixture(scope="session")
def site_port():
    """A free local port for this worker's server."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
