"""Docs stay in step with the code, and with the files they name."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_rules_doc_is_current() -> None:
    spec = importlib.util.spec_from_file_location("rules_doc", ROOT / "scripts" / "rules_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "rules.md").read_text() == module.render(), (
        "docs/rules.md is out of date: run python scripts/rules_doc.py"
    )


def test_readme_links_name_files_and_headings_that_exist() -> None:
    """A new user's first clicks: every relative link of the README opens something."""
    text = (ROOT / "README.md").read_text()
    headings = {
        re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in text.splitlines()
        if line.startswith("#")
    }
    broken = [
        target
        for target in re.findall(r"\]\(([^)\s]+)\)", text)
        if not target.startswith(("http://", "https://", "mailto:"))
        and not (
            target[1:] in headings
            if target.startswith("#")
            else (ROOT / target.split("#")[0]).exists()
        )
    ]
    assert not broken, f"README.md links to what does not exist: {broken}"


def test_every_data_file_is_attributed_and_unchanged() -> None:
    """data/acn/NOTICE.md names each file beside it with its sha256 (copies as published,
    CC BY 4.0, attribution kept): a file added without its attribution, or changed, fails."""
    notice = (ROOT / "data" / "acn" / "NOTICE.md").read_text()
    assert "CC BY 4.0" in notice and "Lee, T. Li, S. H. Low" in notice
    files = sorted((ROOT / "data" / "acn").glob("*.csv.gz"))
    assert files
    for path in files:
        assert f"`{path.name}`" in notice, f"{path.name} is not in data/acn/NOTICE.md"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest in notice, f"{path.name} (sha256 {digest}) is not the file NOTICE.md names"
