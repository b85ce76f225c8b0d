"""What a run prints of its own: the device line in the header and, at the end, the site reuse, the
verified record and the counts and measurements the tests reported (user_properties)."""


def pytest_report_header(config):
    import torch

    from machinery.pages import chosen_device

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
                if key in {"pages", "snippets", "notebooks", "executed_blocks",
                           "copy_buttons_checked", "pages_reached_full", "pages_reached_instant",
                           "browser_visits_reused", "search_halves_reused", "page_runs_reused",
                           "checks_reused", "notebooks_read_from_the_build",
                           "pages_read_from_the_build"}:
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
