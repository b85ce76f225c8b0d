"""The suite's pytest plugins, one concern each; tests/conftest.py loads them (pytest_plugins)."""
