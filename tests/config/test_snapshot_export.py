"""Snapshot export: the engine's snapshot and its site text → a snapshot file that the
loader reads back, without a diagnostic, as the same snapshot (and so the same
allocation)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from depotctl.config.snapshot import load_snapshot
from depotctl.config.snapshot.export import (
    SiteTextError,
    amps,
    embedded_site,
    export_document,
    to_json,
    to_yaml,
    watt_hours,
    watts,
)
from depotctl.domain import Energy, EvseOverride, Power
from depotctl.domain.admission import Admission
from depotctl.domain.snapshot import Snapshot
from depotctl.engine import allocate
from tests.conftest import EXAMPLES, SITES

EXAMPLE_SNAPSHOTS = {
    "au-evening-peak.yaml": SITES / "au-bus-depot.yaml",
    "au-stale-workshop-meter.yaml": SITES / "au-bus-depot.yaml",
    "au-charger-offline.yaml": SITES / "au-bus-depot.yaml",
    "caltech-morning.yaml": SITES / "caltech-acn.yaml",
}


def _loaded(path: Path) -> Snapshot:
    loaded = load_snapshot(path)
    assert [d for r in loaded.reports for d in r.diagnostics] == []
    assert loaded.snapshot is not None
    return loaded.snapshot


def _exported(tmp_path: Path, name: str, text: str) -> Path:
    """Write an export where the site's relative files (tariffs, carbon) resolve."""
    for folder in ("tariffs", "carbon"):
        link = tmp_path / folder
        if not link.exists():
            link.symlink_to(SITES / folder, target_is_directory=True)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(EXAMPLE_SNAPSHOTS))
@pytest.mark.parametrize("render", [to_yaml, to_json], ids=["yaml", "json"])
def test_an_export_reads_back_as_the_same_snapshot(tmp_path: Path, name: str, render: Any) -> None:
    original = _loaded(EXAMPLES / "snapshots" / name)
    site_text = EXAMPLE_SNAPSHOTS[name].read_text(encoding="utf-8")
    path = _exported(tmp_path, "export", render(export_document(original, site_text)))

    again = _loaded(path)

    assert again.at == original.at
    assert again.envelopes == original.envelopes
    assert dict(again.sources) == dict(original.sources)
    assert dict(again.telemetry) == dict(original.telemetry)
    assert again.sessions == original.sessions
    assert dict(again.chargers) == dict(original.chargers)
    assert dict(again.previous_limits) == dict(original.previous_limits)
    assert dict(again.overrides) == dict(original.overrides)
    assert again.topology.site == original.topology.site
    before, after = allocate(original), allocate(again)
    assert {k: (e.limit_a, e.state, e.binding) for k, e in after.evses.items()} == {
        k: (e.limit_a, e.state, e.binding) for k, e in before.evses.items()
    }


def test_overrides_read_back_as_the_same_pauses_and_caps(tmp_path: Path) -> None:
    original = _loaded(EXAMPLES / "snapshots" / "au-evening-peak.yaml")
    at = original.at - timedelta(minutes=12, microseconds=250)
    original = replace(
        original,
        overrides={
            "dc-03/1": EvseOverride("dc-03/1", True, None, at, "alice", "cable damaged"),
            "dc-04/1": EvseOverride("dc-04/1", False, 20.25, at, "bob"),
            "dc-05/1": EvseOverride("dc-05/1", True, 16.0, at, "carol", "both"),
        },
    )
    document = export_document(original, (SITES / "au-bus-depot.yaml").read_text())
    assert document["overrides"][1] == {
        "evse": "dc-04/1",
        "paused": False,
        "cap": "20.25 A",
        "set_at": "2024-05-14T18:17:59.999750+10:00",
        "author": "bob",
    }
    path = _exported(tmp_path, "export.yaml", to_yaml(document))

    again = _loaded(path)

    assert dict(again.overrides) == dict(original.overrides)
    before, after = allocate(original), allocate(again)
    assert {k: (e.limit_a, e.state, e.binding) for k, e in after.evses.items()} == {
        k: (e.limit_a, e.state, e.binding) for k, e in before.evses.items()
    }
    assert after.evses["dc-04/1"].limit_a <= 20.25


def test_times_carry_the_site_time_zone_offset() -> None:
    snapshot = _loaded(EXAMPLES / "snapshots" / "au-evening-peak.yaml")
    document = export_document(snapshot, (SITES / "au-bus-depot.yaml").read_text())
    assert document["at"] == "2024-05-14T18:30:00+10:00"
    assert document["sessions"][0]["started"].endswith("+10:00")
    assert document["envelopes"][0]["start"].endswith("+10:00")


def test_the_site_is_embedded_as_its_parsed_document() -> None:
    snapshot = _loaded(EXAMPLES / "snapshots" / "au-evening-peak.yaml")
    document = export_document(snapshot, (SITES / "au-bus-depot.yaml").read_text())
    site = document["site"]
    assert (site["kind"], site["metadata"]["name"]) == ("Site", "au-bus-depot")
    assert "path" not in site and "revision" not in site


def test_an_embedded_sites_forecast_files_resolve_where_the_site_was(tmp_path: Path) -> None:
    """The planner example's PV and bus-wash forecasts are CSVs beside the site: an
    export made elsewhere must still find them (it said: forecast file does not exist)."""
    site_file = EXAMPLES / "valid" / "planner" / "storage-solar-depot.yaml"
    site = embedded_site(site_file.read_text(), site_file.parent)
    series = [
        n["forecast"]["series"] for n in site["spec"]["nodes"] if "series" in n.get("forecast", {})
    ]
    assert len(series) == 2 and all(Path(s).is_absolute() and Path(s).is_file() for s in series)
    snapshot = "apiVersion: depotctl/v1\nkind: Snapshot\nat: 2026-12-07T18:00:00+11:00\n"
    path = tmp_path / "snap.yaml"
    path.write_text(snapshot + to_yaml({"site": site}), encoding="utf-8")
    _loaded(path)


def test_the_yaml_quotes_times_and_keeps_units() -> None:
    snapshot = _loaded(EXAMPLES / "snapshots" / "au-evening-peak.yaml")
    text = to_yaml(export_document(snapshot, (SITES / "au-bus-depot.yaml").read_text()))
    assert "at: '2024-05-14T18:30:00+10:00'\n" in text
    assert "limit: 600 kW\n" in text
    assert YAML(typ="safe").load(text)["kind"] == "Snapshot"


@pytest.mark.parametrize(
    ("base", "write", "text"),
    [
        (600_000.0, watts, "600 kW"),
        (31_400.0, watts, "31.4 kW"),
        (-1_234.5, watts, "-1.2345 kW"),
        (22_000.0, watt_hours, "22 kWh"),
        (1.5, watt_hours, "0.0015 kWh"),
    ],
)
def test_quantities_are_written_in_the_usual_unit(base: float, write: Any, text: str) -> None:
    assert write(base) == text


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))  # the bounds of a power
def test_a_power_reads_back_to_exactly_the_same_watts(value: float) -> None:
    assert Power.parse(watts(value)).base == value


@given(st.floats(min_value=0, max_value=1e10, allow_nan=False))  # and of an energy
def test_an_energy_reads_back_to_exactly_the_same_watt_hours(value: float) -> None:
    assert Energy.parse(watt_hours(value)).base == value


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 1e308])
def test_a_value_beyond_every_bound_is_still_written(value: float) -> None:
    """A store from before non-finite values were refused may hold them: an export
    writes them rather than failing (loading it back then names the value)."""
    assert watts(value).endswith(" W") or watts(value).endswith(" kW")
    assert amps(value) == f"{value!r} A"


def test_a_site_text_without_one_site_document_is_refused() -> None:
    text = (SITES / "au-bus-depot.yaml").read_text()
    with pytest.raises(SiteTextError):
        embedded_site(text + "\n---\n" + text)
    with pytest.raises(SiteTextError):
        embedded_site("apiVersion: depotctl/v1\nkind: Tariff\n")


def test_admission_reads_back_and_replays_the_same_decision(tmp_path: Path) -> None:
    """Who keeps a contested room depends on since when each EVSE is on or off; the
    export carries it, so the file replays the controller's choice."""
    original = _loaded(EXAMPLES / "snapshots" / "au-evening-peak.yaml")
    site_text = (SITES / "au-bus-depot.yaml").read_text(encoding="utf-8")
    # the DC buses share tier 1 under envelope E-17: narrow it so that four must pause
    tight = replace(
        original,
        envelopes=tuple(replace(e, limit=e.limit * 0.65) for e in original.envelopes),
    )
    before = allocate(tight)
    paused = sorted(e for e, v in before.evses.items() if v.tier == 1 and v.limit_a == 0)
    charging = sorted(e for e, v in before.evses.items() if v.tier == 1 and v.limit_a > 0)
    assert paused and charging
    started = {s.evse_id: s.started for s in tight.sessions}
    switched = replace(
        tight,
        admission={
            paused[0]: Admission(True, tight.at - timedelta(minutes=1)),
            charging[0]: Admission(
                False, max(tight.at - timedelta(minutes=2), started[charging[0]])
            ),
            charging[-1]: Admission(True, tight.at - timedelta(hours=3)),
        },
    )
    decided = allocate(switched)
    assert decided.limits_a != before.limits_a  # the records change who charges
    document = export_document(switched, site_text)
    assert document["admission"][paused[0]] == {
        "on_since": (tight.at - timedelta(minutes=1))
        .astimezone(ZoneInfo("Australia/Sydney"))
        .isoformat()
    }
    path = _exported(tmp_path, "export.yaml", to_yaml(document))

    again = _loaded(path)

    assert dict(again.admission) == dict(switched.admission)
    replayed = allocate(again)
    assert {k: (e.limit_a, e.state, e.binding) for k, e in replayed.evses.items()} == {
        k: (e.limit_a, e.state, e.binding) for k, e in decided.evses.items()
    }


def test_a_sources_deadline_reads_back_and_decides_its_health(tmp_path: Path) -> None:
    original = _loaded(EXAMPLES / "snapshots" / "au-evening-peak.yaml")
    [source_id] = [s for s in original.sources if s != "local"]
    health = original.sources[source_id]
    assert health.last_heard is not None
    # the provider's heartbeat named a deadline before offline_after would have passed
    deadline = health.last_heard + timedelta(seconds=30)
    sources = {**original.sources, source_id: replace(health, deadline=deadline)}
    snapshot = replace(original, sources=sources, at=deadline + timedelta(seconds=1))
    site_text = (SITES / "au-bus-depot.yaml").read_text(encoding="utf-8")
    path = _exported(tmp_path, "export", to_yaml(export_document(snapshot, site_text)))

    again = _loaded(path)
    assert again.sources[source_id].deadline == deadline
    assert not again.sources[source_id].is_online(again.at)
    assert allocate(again).evses == allocate(snapshot).evses
