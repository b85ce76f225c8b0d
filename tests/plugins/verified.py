"""--record-verified: what every page and notebook that passed ran and printed, collected on the
controller and written to verified/ after a run with no failure."""

_verified_passed: dict[str, dict] = {}


def pytest_runtest_logreport(report):
    """Collect, on the controller, what every page and notebook that passed ran and printed."""
    if report.when == "call" and report.passed:
        for key, value in report.user_properties:
            if key == "verified":
                page, entry = value
                _verified_passed[page] = entry


def pytest_sessionfinish(session, exitstatus):
    if (session.config.getoption("--record-verified") and not hasattr(session.config, "workerinput")
            and exitstatus == 0 and _verified_passed):
        from machinery.pages import rel
        from machinery.records import write_verified_record

        written = write_verified_record(_verified_passed)
        session.config._notes_verified = f"{rel(written)}: {len(_verified_passed)} pages and notebooks"
