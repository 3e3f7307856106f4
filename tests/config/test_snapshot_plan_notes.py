"""A snapshot's plan notes read back from its export as they were — the solar margin
too, so that ``explain --snapshot`` says what the controller said."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from depotctl.config.snapshot import load_snapshot
from depotctl.config.snapshot.export import export_document, to_yaml
from depotctl.domain.plan_notes import PlanNote
from tests.conftest import EXAMPLES, SITES


def test_plan_notes_under_forecast_solar_read_back_the_same(tmp_path: Path) -> None:
    loaded = load_snapshot(EXAMPLES / "snapshots" / "au-evening-peak.yaml").snapshot
    assert loaded is not None
    sunny, later, plain = (s.id for s in loaded.sessions[:3])
    departs = loaded.at + timedelta(hours=12)
    notes = {
        sunny: PlanNote(sunny, 0.0, None, None, departs, 9.5, grid_price_now=0.22),
        later: PlanNote(later, 0.22, 0.0, loaded.at + timedelta(hours=2), departs, 4.0, None, True),
        plain: PlanNote(plain, 0.38, 0.12, loaded.at + timedelta(hours=3), departs, 2.5),
    }
    original = replace(loaded, plan_notes=notes)
    document = export_document(original, (SITES / "au-bus-depot.yaml").read_text())
    path = tmp_path / "export.yaml"
    for folder in ("tariffs", "carbon"):
        (tmp_path / folder).symlink_to(SITES / folder, target_is_directory=True)
    path.write_text(to_yaml(document), encoding="utf-8")

    again = load_snapshot(path).snapshot

    assert again is not None
    assert dict(again.plan_notes) == notes
