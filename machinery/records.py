"""The "verified on" records: the torch versions and devices each page's code passed on.

`make matrix` runs the pages once per torch (pytest --record-verified) and writes one record per
(torch, device) in verified/; the site shows them under each title (hooks/verified.py) and
tests/test_verified.py refuses a record older than the code it vouches for (pages.code_fingerprint).
"""

from __future__ import annotations

from pathlib import Path

from machinery.pages import ROOT, chosen_device, code_fingerprint, pages_with_code, rel

VERIFIED = ROOT / "verified"


def verified_records(folder: Path = VERIFIED) -> dict[str, dict]:
    """File name -> record, for every record in verified/."""
    import json

    return {f.name: json.loads(f.read_text(encoding="utf-8")) for f in sorted(folder.glob("*.json"))}


def write_verified_record(passed: dict[str, dict], folder: Path = VERIFIED) -> Path:
    """Record that the pages in ``passed`` (page -> {"code": fingerprint, "blocks": [{"output",
    "uses"}, ...] for Markdown pages}) passed on this torch and device today; the site shows each
    block's output and what it takes from the blocks above from the newest torch's record. Entries
    of this record for other pages stay while their code is unchanged; in every other record,
    entries whose code changed since are dropped (a CUDA record this machine cannot refresh then
    stops claiming them)."""
    import datetime
    import json
    import platform

    import torch

    device = chosen_device()
    version = torch.__version__
    name = f"torch-{version.split('+')[0]}-{device.type}.json"
    folder.mkdir(exist_ok=True)
    current = {rel(p): code_fingerprint(p) for p in pages_with_code()}
    today = datetime.date.today().isoformat()
    records = verified_records(folder)
    for other, record in records.items():
        if other != name:
            fresh = {page: e for page, e in record["pages"].items() if current.get(page) == e["code"]}
            if fresh != record["pages"]:
                record["pages"] = fresh
                (folder / other).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    kept = records.get(name, {}).get("pages", {})
    pages = {page: e for page, e in kept.items() if current.get(page) == e["code"]}
    pages.update({page: dict(entry, date=today) for page, entry in passed.items() if current.get(page) == entry["code"]})
    record = {
        "torch": version,
        "device": device.type,
        "device_name": torch.cuda.get_device_name() if device.type == "cuda" else "CPU",
        "python": platform.python_version(),
        "pages": pages,
    }
    (folder / name).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return folder / name


# What the site build ran, for the suite to read instead of running it again: with this variable set
# to 1 (the suite's own build sets it), the build writes one JSON record per page and notebook it ran
# into records/ beside the site it built (hooks/runs.py, hooks/notebooks.py; tests/test_pages.py and
# tests/test_notebooks.py read them).
BUILD_RECORDS_ENV = "NOTES_BUILD_RECORDS"


def recording() -> bool:
    """Whether this build writes records, whose CPU seconds the suite checks: then the build imports
    what the first page or notebook would before running any (machinery.execute.warm_imports), so
    that those seconds are the code's own. Other builds (`mkdocs serve`, the planted builds) skip it."""
    import os

    return os.environ.get(BUILD_RECORDS_ENV) == "1"


def build_record_path(folder: Path, src_uri: str) -> Path:
    """Where the record of the page (notebook) docs/<src_uri> is kept in a build's records/ folder."""
    return Path(folder) / (src_uri.replace("/", "--") + ".json")


def write_build_records(site_dir: str, records: dict[str, dict]) -> None:
    """The build's records (src_uri -> record), beside ``site_dir``, when the suite asked for them."""
    import json

    if not recording():
        return
    folder = Path(site_dir).parent / "records"
    folder.mkdir(exist_ok=True)
    for src_uri, record in records.items():
        build_record_path(folder, src_uri).write_text(json.dumps(record), encoding="utf-8")
