"""Sites for diff tests: a base site copied to ``old/`` and ``new/`` in a temporary
directory, the new copy's text edited, both read as ``depotctl diff`` reads them."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from depotctl.config.diff import Change, SiteDiff, SiteFile, diff_sites, read_site
from tests.conftest import EXAMPLES

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "diff"

#: ``(old text, new text)``: each occurs in the file, and is replaced everywhere.
Edit = tuple[str, str]
DiffEdits = Callable[..., SiteDiff]


def edited(text: str, edits: Sequence[Edit]) -> str:
    for old, new in edits:
        assert old in text, f"edit does not apply: {old!r}"
        text = text.replace(old, new)
    return text


def copy_base(base: str, into: Path) -> Path:
    """``minimal`` (examples/minimal.yaml) or ``depot`` (tests/fixtures/diff, with its
    referenced tariff); returns the site file."""
    if base == "minimal":
        into.mkdir(parents=True)
        site = into / "site.yaml"
        shutil.copy(EXAMPLES / "minimal.yaml", site)
        return site
    shutil.copytree(FIXTURES, into)
    return into / f"{base}.yaml"


def read(path: Path) -> SiteFile:
    """The site in ``path``, schema-valid; the engine's cases may break a semantic rule
    (an envelope source no node names), so the rules are not run."""
    side = read_site(path, semantic_rules=False)
    assert isinstance(side, SiteFile), [d.message for d in side.diagnostics]
    return side


def lines(diff: SiteDiff) -> list[str]:
    """Each change as the text output shows it: ``~ circuit db-1 …``."""
    return [f"{c.action.symbol} {c.message}" for c in diff.changes]


def only(diff: SiteDiff) -> Change:
    assert len(diff.changes) == 1, lines(diff)
    return diff.changes[0]


def diff_edits(
    tmp_path: Path,
    *edits: Edit,
    base: str = "minimal",
    tariff: Sequence[Edit] = (),
    old: Sequence[Edit] = (),
) -> SiteDiff:
    """Copy ``base`` to ``old/`` and ``new/``, apply ``edits`` to the new site (``old``
    edits to the old one, ``tariff`` edits to the new referenced tariff), and diff."""
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    old_file = copy_base(base, work / "old")
    new_file = copy_base(base, work / "new")
    old_file.write_text(edited(old_file.read_text(), old))
    new_file.write_text(edited(new_file.read_text(), edits))
    if tariff:
        tariff_file = new_file.parent / "tariffs" / "ea-tou.yaml"
        tariff_file.write_text(edited(tariff_file.read_text(), tariff))
    before, after = read(old_file), read(new_file)
    return diff_sites(before.site, after.site, old_tariff=before.tariff, new_tariff=after.tariff)
