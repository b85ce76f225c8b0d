"""What a failed `mkdocs build --strict` says, cut to what a contributor needs to read."""

from __future__ import annotations

import re

NOT_IN_NAV = 'not included in the "nav" configuration'
LISTED = re.compile(r"^\s+- (?P<page>\S+)\s*$")


def problems(log: str) -> list[str]:
    """Each warning or error line of the build's log with the indented lines that continue it (MkDocs
    lists under one warning the pages missing from nav), and for each such page, what to do."""
    found, continuing, nav = [], False, False
    for line in log.splitlines():
        if "WARNING" in line or "ERROR" in line or "Error" in line:
            found.append(line)
            continuing, nav = True, NOT_IN_NAV in line
        elif continuing and line[:1].isspace() and line.strip():
            found.append(line)
            listed = LISTED.match(line)
            if nav and listed:
                found.append(f"docs/{listed['page']} is not in nav: add it to mkdocs.yml (under `nav:`)")
        else:
            continuing = False
    return found
