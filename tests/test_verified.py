"""The "verified on" line under each title is the truth: every record in verified/ matches the code
its pages run now, the CPU records cover every page and notebook, and the oldest torch that
pyproject.toml admits is among them (so the range we promise is the range we ran)."""

import re
import tomllib

import pytest

from machinery.pages import code_fingerprint, pages_with_code, rel, ROOT
from machinery.records import VERIFIED, verified_records

RECORDS = verified_records()
REFRESH = "run `make matrix` (see README) to run the pages again on every torch and refresh verified/"


@pytest.fixture(scope="module")
def current():
    return {rel(p): code_fingerprint(p) for p in pages_with_code()}


def torch_floor() -> str:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (spec,) = [d for d in dependencies if re.match(r"torch\b", d)]
    return re.search(r">=\s*([\d.]+)", spec).group(1)


def test_records_exist_for_the_oldest_torch_we_allow_and_two_more():
    cpu = {r["torch"].split("+")[0] for r in RECORDS.values() if r["device"] == "cpu"}
    floor = torch_floor()
    assert any(v == floor or v == floor + ".0" for v in cpu), (
        f"pyproject.toml admits torch>={floor}, but verified/ has no CPU record for it (has {sorted(cpu)}); {REFRESH}")
    assert len(cpu) >= 3, f"verified/ holds CPU records for {sorted(cpu)} only; {REFRESH}"


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_record_matches_the_code_of_every_page_it_names(name, current):
    record = RECORDS[name]
    stale = sorted(page for page, entry in record["pages"].items() if current.get(page) != entry["code"])
    assert not stale, f"{rel(VERIFIED / name)} is older than the code of: {', '.join(stale)}; {REFRESH}"


@pytest.mark.parametrize("name", sorted(n for n, r in RECORDS.items() if r["device"] == "cpu"))
def test_cpu_record_covers_every_page_with_code(name, current):
    missing = sorted(set(current) - set(RECORDS[name]["pages"]))
    assert not missing, f"{rel(VERIFIED / name)} has no entry for: {', '.join(missing)}; {REFRESH}"


def test_a_code_edit_makes_a_record_stale_and_a_prose_edit_does_not(tmp_path):
    """The fingerprint the records carry moves with the page's code (its own blocks and the snippet
    sections it includes), not with its prose."""
    import shutil

    for path in ("docs/optimizers/adam.md", "snippets/adam.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / path, tmp_path / path)
    page, snippet = tmp_path / "docs/optimizers/adam.md", tmp_path / "snippets/adam.py"
    original = code_fingerprint(page, tmp_path)
    assert original == code_fingerprint(ROOT / "docs/optimizers/adam.md")

    page.write_text(page.read_text().replace("# Adam\n", "# Adam\n\nA new sentence.\n", 1))
    assert code_fingerprint(page, tmp_path) == original, "a prose edit made the record stale"
    snippet.write_text(snippet.read_text().replace("eps=1e-8", "eps=1e-7", 1))
    assert code_fingerprint(page, tmp_path) != original, "an edit of included code left the record fresh"
