"""The snapshot document: its version pinned, the rest kept whole, its readings' power
read with the quantity grammar of the site file."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from depotctl.api import SnapshotDocument, json_of


def document(**fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "depotctl/v1",
        "kind": "Snapshot",
        "at": "2026-03-03T01:00:00+11:00",
        **fields,
    }


def test_readings_give_their_power_in_kw() -> None:
    telemetry = [
        {"node": "workshop", "at": "2026-03-03T01:00:00+11:00", "power": "31.4 kW"},
        {"node": "pv-roof", "at": "2026-03-03T01:00:00+11:00", "power": "-0.5 MW"},
        {"node": "m-main", "at": "2026-03-03T01:00:00+11:00", "current": {"L1": "40 A"}},
        {"node": "odd", "at": "2026-03-03T01:00:00+11:00", "power": "40 A"},
    ]
    snapshot = SnapshotDocument.model_validate(document(telemetry=telemetry))
    powers = {r.node: r.power_kw for r in snapshot.readings()}
    assert powers == {"workshop": 31.4, "pv-roof": -500.0, "m-main": None, "odd": None}
    assert snapshot.at == "2026-03-03T01:00:00+11:00"
    assert json_of(snapshot) == document(telemetry=telemetry)


def test_another_version_or_kind_is_not_this_document() -> None:
    with pytest.raises(ValidationError):
        SnapshotDocument.model_validate({**document(), "apiVersion": "depotctl/v2"})
    with pytest.raises(ValidationError):
        SnapshotDocument.model_validate({**document(), "kind": "Site"})


def test_a_snapshot_without_telemetry_has_no_readings() -> None:
    assert SnapshotDocument.model_validate(document()).readings() == []
