"""The docs as a newcomer meets them: a README that is a front door, links that lead somewhere,
and an experiments index that names every record kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "experiments" / "README.md", ROOT / "examples" / "README.md",
         *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    headings = re.findall(r"^#+ (.+)$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_readme_is_a_front_door():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; the manual belongs in docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_lead_somewhere(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: links to nothing: {broken}"


def test_experiments_index_names_every_record_and_benchmark():
    index = (ROOT / "experiments" / "README.md").read_text()
    records = sorted(p.name for p in (ROOT / "experiments" / "results").iterdir())
    assert records, "experiments/results is empty"
    unnamed = [name for name in records if f"`{name}`" not in index and f"({'results/' + name})" not in index]
    assert not unnamed, f"experiments/README.md does not name {unnamed}"
    scripts = sorted(p.name for p in (ROOT / "experiments").glob("bench_*.py"))
    missing = [name for name in scripts if f"`{name}`" not in index]
    assert not missing, f"experiments/README.md has no row for {missing}"
