"""Checks whose verdict depends only on what they are given are not repeated on identical inputs
(machinery/cache.py). @pytest.mark.reusable("site"): the built site's every file, the test's module,
the suite's fixtures and plugins, the harness and the browser version. @pytest.mark.reusable("project"):
every project file outside tests/ and the installed packages (what a scratch build copies and runs),
and the same test code. Only passes are kept; NOTES_FRESH=1, or a clean checkout, runs everything."""

from pathlib import Path

import pytest

from harness import SUITE_SOURCES
from machinery import cache
from plugins.browser import browser_identity

TESTS = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    config.addinivalue_line("markers", 'reusable(kind): a pass is reused on identical inputs; kind "site" or "project"')


def reusable_key(item) -> str | None:
    from harness import build_command
    from machinery.pages import ROOT

    marker = item.get_closest_marker("reusable")
    if marker is None or cache.fresh():
        return None
    judges = [Path(item.path), *SUITE_SOURCES, Path(cache.__file__)]
    if marker.args[0] == "site":
        browser = next((item.funcargs[n] for n in ("page", "tab", "browser") if n in item.funcargs), None)
        version = (browser_identity(browser.context.browser) if hasattr(browser, "context") else
                   browser_identity(browser) if browser is not None else "")
        inputs = cache.built_site_digest(item.funcargs["site"], pages_too=True), version
    else:
        argv, env = build_command(Path("site"))
        inputs = (cache.build_inputs_digest(ROOT, argv, env),)
        judges += sorted(TESTS.glob("*.py")) + sorted(TESTS.glob("*.t*"))
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
