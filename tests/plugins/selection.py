"""Which tests run and in what order: the tests of the built site last (slowest first), and --page."""

import pytest

from plugins.site import SITE_MODULES


def pytest_collection_modifyitems(config, items):
    """Tests that wait for the build (the site's modules, and any test that asks for the built site or
    the build's records) last, slowest first, so that the workers run pages and snippets while the
    background build finishes, instead of waiting for it."""
    if config.getoption("--page"):
        only_page(config, items)

    def uses_site(item):
        return item.nodeid.split("::")[0].endswith(SITE_MODULES) or bool(
            {"site", "build_records", "base_url"} & set(getattr(item, "fixturenames", ())))

    slow_first = {"tests/test_search.py": 0, "tests/test_browser.py": 1}
    items.sort(key=lambda item: (uses_site(item), slow_first.get(item.nodeid.split("::")[0], 2)))


def pytest_configure(config):
    if config.getoption("--page"):
        chosen_page(config)  # a wrong path is refused before anything is collected


def chosen_page(config):
    """The page --page names, or a usage error."""
    from pathlib import Path

    from machinery.pages import ROOT

    page = Path(config.getoption("--page"))
    page = (page if page.is_absolute() else Path(config.invocation_params.dir) / page).resolve()
    if not page.is_file() or not page.is_relative_to(ROOT / "docs"):
        raise pytest.UsageError(f"--page {config.getoption('--page')}: no page under docs/ (docs/<section>/<page>.md)")
    return page


def only_page(config, items):
    """--page docs/x/y.md: keep the tests of that page (ids carry its path), of the snippet files it
    includes (ids carry `snippets/z.py:`), and every test of the built site (test_site.py)."""
    from machinery.pages import ROOT, included_files

    page = chosen_page(config)
    name = page.relative_to(ROOT).as_posix()
    scripts = included_files(page.read_text(encoding="utf-8"))
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

