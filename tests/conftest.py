"""The suite's pytest set-up, one plugin module per concern (tests/plugins/):

- options.py: the options (--cpu, --record-verified, --page), the device (--cpu forces the CPU),
  the plotting backend, torch's threads under xdist, and the imports paid once per worker;
- verified.py: --record-verified, collecting what passed and writing verified/;
- summary.py: the device line of the header and the notes printed at the end of a run;
- selection.py: the order of the tests (the built site's last) and --page;
- site.py: the one site build (started by the controller or by the first `site` fixture), the
  cache of the last good build, and the local server (`base_url`) with the sitemap rewritten;
- browser.py: headless Chromium, and the `page` and `tab` fixtures;
- reuse.py: @pytest.mark.reusable, passes reused on identical inputs.

A change to any of them (or to this file) invalidates the cached passes they judge (harness.EXECUTOR_SOURCES,
plugins/browser.JUDGES, test_search.JUDGES and plugins/reuse.py all include harness.SUITE_SOURCES)."""

pytest_plugins = [
    "plugins.options",
    "plugins.verified",
    "plugins.summary",
    "plugins.site",
    "plugins.selection",
    "plugins.browser",
    "plugins.reuse",
]
