"""Passed checks remembered by everything they looked at, so that a rerun with nothing changed does not
look again.

A check (one browser visit, one half of the search queries) is stored only when it passed, under a key
that hashes every input that could change its verdict: the built files it reads (a page's HTML and every
file of the site that is not a page: scripts, stylesheets, fonts, the search index, the sitemap), the
source of the code that judges (the test module, the fixtures, this file), and the browser's version.
The same key later means the same inputs, so the stored pass is the pass a new run would give; any
changed byte gives another key and the check runs again. Nothing is reused across machines: the cache
lives in .cache/ (ignored by git), so CI, which starts from a clean checkout, always checks everything.
NOTES_FRESH=1 ignores the cache for one run.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "passed"


def digest(*parts: bytes | str | Path) -> str:
    """One hash of the parts, in order; a Path stands for its name and bytes."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            part = part.as_posix().encode() + b"\0" + part.read_bytes()
        elif isinstance(part, str):
            part = part.encode()
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def fingerprint(parts: list[str]) -> str:
    """A short hash of text parts in order: the code a page or notebook runs (its verified records)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: readers (other workers, an interrupted build's next
    run) never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def site_files_digest(site: Path, pages_too: bool = False) -> str:
    """Every file of the built site that is not a page (or every file, pages_too), by path and content:
    what any page may load."""
    files = sorted(p for p in site.rglob("*") if p.is_file() and (pages_too or p.suffix != ".html"))
    return digest(*(p.relative_to(site).as_posix().encode() + b"\0" + p.read_bytes() for p in files))


@lru_cache(maxsize=4)
def built_site_digest(site: Path, pages_too: bool = False) -> str:
    """site_files_digest, once per site folder: the suite builds its site once and never changes it."""
    return site_files_digest(site, pages_too)


def fresh() -> bool:
    return os.environ.get("NOTES_FRESH", "") not in ("", "0")


def _path(check: str, name: str) -> Path:
    return CACHE / check / (hashlib.sha256(name.encode()).hexdigest()[:24] + ".json")


def passed_before(check: str, name: str, key: str) -> dict | None:
    """What the check recorded when it last passed with exactly these inputs, or None."""
    path = _path(check, name)
    if fresh() or not path.is_file():
        return None
    stored = json.loads(path.read_text(encoding="utf-8"))
    return stored["report"] if stored.get("key") == key and stored.get("name") == name else None


def remember_pass(check: str, name: str, key: str, report: dict) -> None:
    write_whole(_path(check, name), json.dumps({"name": name, "key": key, "report": report}))


def build_inputs_digest(root: Path, argv: list[str], env: dict[str, str]) -> str | None:
    """Everything a site build reads: every file of the project that git would commit outside tests/
    (pages, snippets, hooks, this package, settings, records, the npm lock file), the installed Python
    distributions and their versions, the Python version, and the build's command and NOTES_*
    environment. None when git cannot list the files: then there is nothing to compare, and the site is
    built."""
    import subprocess
    import sys
    from importlib import metadata

    try:
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root,
                                capture_output=True, check=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        return None
    files = sorted(name for name in listed if name and not name.startswith("tests/") and (root / name).is_file())
    installed = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    settings = sorted(f"{k}={v}" for k, v in env.items() if k.startswith("NOTES_"))
    return digest(*(name.encode() + b"\0" + (root / name).read_bytes() for name in files),
                  "\n".join(installed), sys.version, "\0".join(argv), "\n".join(settings))
