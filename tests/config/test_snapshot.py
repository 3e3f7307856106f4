"""Snapshot files: the bundled examples load and allocate, and a broken snapshot gets
its diagnostic at its line and column, like validate's."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from depotctl.config.diagnostics import Diagnostic, Severity
from depotctl.config.rules import RULES, all_rules
from depotctl.config.snapshot import LoadedSnapshot, SnapshotUsageError, load_snapshot
from depotctl.domain.envelopes import LimitUnit
from depotctl.domain.phases import Phase
from depotctl.engine import BindingKind, EvseState, allocate
from tests.conftest import EXAMPLES, ROOT

SNAPSHOTS = sorted((EXAMPLES / "snapshots").glob("*.yaml"))
MINIMAL = EXAMPLES / "minimal.yaml"
MINIMAL_REVISION = "sha256:" + hashlib.sha256(MINIMAL.read_bytes()).hexdigest()


def write(tmp_path: Path, body: str, *, site: Path = MINIMAL, revision: str | None = None) -> Path:
    """A snapshot of ``site`` (by absolute path) with ``body`` after its header; the
    header is 6 lines, so ``body`` starts on line 7."""
    text = (
        "apiVersion: depotctl/v1\n"
        "kind: Snapshot\n"
        'at: "2024-05-14T22:00:00+10:00"\n'
        "site:\n"
        f"  path: {site}\n"
        f"  revision: {revision or 'sha256:' + hashlib.sha256(site.read_bytes()).hexdigest()}\n"
        + body
    )
    path = tmp_path / "snapshot.yaml"
    path.write_text(text)
    return path


def diagnostics(loaded: LoadedSnapshot) -> list[Diagnostic]:
    return [d for report in loaded.reports for d in report.diagnostics]


def found(loaded: LoadedSnapshot) -> set[tuple[str, int, int]]:
    return {(d.rule, d.span.line, d.span.column) for d in diagnostics(loaded) if d.span}


def only(loaded: LoadedSnapshot, rule: str) -> Diagnostic:
    matching = [d for d in diagnostics(loaded) if d.rule == rule]
    assert len(matching) == 1, diagnostics(loaded)
    return matching[0]


# The bundled examples


@pytest.mark.parametrize("path", SNAPSHOTS, ids=[p.name for p in SNAPSHOTS])
def test_every_example_snapshot_loads_cleanly_and_allocates(path: Path) -> None:
    loaded = load_snapshot(path)
    assert diagnostics(loaded) == []
    assert loaded.snapshot is not None and loaded.exit_code == 0
    allocation = allocate(loaded.snapshot)
    with_session = {s.evse_id for s in loaded.snapshot.sessions}
    assert with_session
    for evse_id, evse in allocation.evses.items():
        assert (evse.state is EvseState.IDLE) == (evse_id not in with_session), evse_id


def _allocated(name: str) -> dict[str, tuple[EvseState, BindingKind, str | None]]:
    loaded = load_snapshot(EXAMPLES / "snapshots" / name)
    assert loaded.snapshot is not None
    return {
        evse_id: (e.state, e.binding.kind, e.binding.ref)
        for evse_id, e in allocate(loaded.snapshot).evses.items()
    }


def test_the_evening_peak_is_bound_by_the_oscp_envelope() -> None:
    evses = _allocated("au-evening-peak.yaml")
    assert evses["dc-03/1"] == (EvseState.CHARGING, BindingKind.ENVELOPE, "E-17")


def test_the_stale_workshop_meter_is_named_beside_the_limit_that_is_full() -> None:
    evses = _allocated("au-stale-workshop-meter.yaml")
    assert evses["dc-13/1"] == (EvseState.CHARGING, BindingKind.NODE_LIMIT, "gc-main")


def test_the_offline_charger_is_uncontrollable() -> None:
    evses = _allocated("au-charger-offline.yaml")
    assert evses["dc-07/1"] == (EvseState.UNCONTROLLABLE, BindingKind.UNCONTROLLABLE, "dc-07")
    assert evses["ac-03/1"][0] is EvseState.UNCONTROLLABLE


def test_the_caltech_morning_is_bound_by_the_av_pod_and_the_primary_fills_last() -> None:
    # bounded by its phasors (engine/phasors.py), the primary carries every charging car:
    # the AV pod's 80 A breaker holds its eight cars, and the idle EVSEs' start allowances
    # fill primary line B (the delta winding puts half of every A-B current on it)
    evses = _allocated("caltech-morning.yaml")
    assert evses["ca-489/1"] == (EvseState.CHARGING, BindingKind.NODE_LIMIT, "av-pod")
    assert evses["ca-318/1"] == (EvseState.IDLE, BindingKind.NODE_LIMIT, "xfmr-acn")
    assert evses["ca-304/1"][1] is BindingKind.VEHICLE_LIMIT
    assert evses["ca-320/1"][1] is BindingKind.ENERGY_SATISFIED


def test_an_embedded_site_needs_no_other_file() -> None:
    loaded = load_snapshot(EXAMPLES / "snapshots" / "minimal-embedded.yaml")
    assert loaded.snapshot is not None
    assert loaded.revision is None
    assert loaded.site_display is not None and loaded.site_display.endswith("(embedded)")
    assert loaded.snapshot.topology.site == "minimal-depot"


# What the loader builds


def test_values_become_base_units_and_utc(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "telemetry:\n"
        '  - {node: gc-main, at: "2024-05-14T21:59:59+10:00", current: {L1: 10 A, L2: 1.5 kA}}\n'
        "sessions:\n"
        '  - {id: S-1, evse: chg-01/1, started: "2024-05-14T12:00:00Z", energy_delivered: 2 kWh,\n'
        '     requirement: {energy: 30 kWh, departure: "2024-05-15T06:00:00+10:00"}}\n'
        "previous_limits: {chg-01/1: 16 A}\n",
    )
    loaded = load_snapshot(path)
    assert diagnostics(loaded) == []
    snapshot = loaded.snapshot
    assert snapshot is not None
    assert snapshot.at == datetime(2024, 5, 14, 12, 0, tzinfo=UTC)
    assert snapshot.at.tzinfo is UTC
    reading = snapshot.telemetry["gc-main"]
    assert reading.current_a == {Phase.L1: 10.0, Phase.L2: 1500.0}
    assert reading.power_w is None
    (session,) = snapshot.sessions
    assert session.energy_delivered_wh == 2000.0
    assert session.requirement is not None and session.requirement.energy_wh == 30000.0
    assert session.requirement.departure == datetime(2024, 5, 14, 20, 0, tzinfo=UTC)
    assert snapshot.previous_limits == {"chg-01/1": 16.0}


def test_an_envelope_limit_keeps_its_unit_and_phases(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        MINIMAL.read_text().replace(
            "      limits: {import: 100 kW, current: 160 A}\n",
            "      limits: {import: 100 kW, current: 160 A}\n      envelope_source: dnsp\n",
        )
        + "  envelope_sources:\n"
        "    - id: dnsp\n"
        "      protocol: local\n"
        "      heartbeat_interval: 60 s\n"
        "      offline_after: 5 min\n"
        "      fallback: {import: 50 kW}\n"
    )
    path = write(
        tmp_path,
        'envelope_sources: [{id: dnsp, last_heard: "2024-05-14T21:59:00+10:00"}]\n'
        "envelopes:\n"
        "  - {id: E-1, source: dnsp, target: gc-main, limit: 40 kW,\n"
        '     start: "2024-05-14T21:00:00+10:00", received_at: "2024-05-14T20:00:00+10:00"}\n'
        "  - {id: E-2, source: dnsp, target: gc-main, limit: 63 A, phases: [L2],\n"
        '     start: "2024-05-14T21:00:00+10:00", end: "2024-05-14T23:00:00+10:00",\n'
        '     received_at: "2024-05-14T20:00:00+10:00"}\n',
        site=site,
    )
    loaded = load_snapshot(path)
    assert diagnostics(loaded) == []
    assert loaded.snapshot is not None
    power, current = loaded.snapshot.envelopes
    assert (power.limit, power.unit, power.phases) == (40_000.0, LimitUnit.W, None)
    assert (current.limit, current.unit, current.phases) == (63.0, LimitUnit.A, {Phase.L2})
    health = loaded.snapshot.sources["dnsp"]
    assert health.offline_after_s == 300.0  # from the site, not the snapshot


# Broken snapshots: the rule, at its line and column


def test_a_limit_without_a_unit_is_reported_at_its_value(tmp_path: Path) -> None:
    path = write(tmp_path, "previous_limits:\n  chg-01/1: 16\n")
    loaded = load_snapshot(path)
    assert loaded.snapshot is None and loaded.exit_code == 1
    assert found(loaded) == {("quantity/missing-unit", 8, 13)}
    assert 'like "16 A"' in (only(loaded, "quantity/missing-unit").hint or "")


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("1e306 kW", "quantity/out-of-range"),  # infinite once the unit multiplies it
        ("1e999 kW", "quantity/out-of-range"),
        ("1001 MW", "quantity/out-of-range"),
        ('"５ kW"', "quantity/malformed"),
        ('" 40 kW"', "quantity/malformed"),
    ],
)
def test_a_reading_beyond_its_bound_is_reported_at_its_value(
    tmp_path: Path, value: str, rule: str
) -> None:
    path = write(
        tmp_path,
        f'telemetry:\n  - {{node: gc-main, at: "2024-05-14T21:59:59+10:00", power: {value}}}\n',
    )
    loaded = load_snapshot(path)
    assert loaded.snapshot is None and loaded.exit_code == 1
    column = path.read_text().splitlines()[7].index(value) + 1
    assert found(loaded) == {(rule, 8, column)}


def test_a_naive_time_is_an_error_that_asks_for_an_offset(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'sessions:\n  - {id: S-1, evse: chg-01/1, started: "2024-05-14T21:00:00"}\n'
    )
    loaded = load_snapshot(path)
    assert found(loaded) == {("snapshot/naive-time", 8, 40)}
    assert "offset" in only(loaded, "snapshot/naive-time").message


def test_the_snapshot_time_itself_must_have_an_offset(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    path.write_text(path.read_text().replace("+10:00", ""))
    assert found(load_snapshot(path)) == {("snapshot/naive-time", 3, 5)}


def test_a_time_that_is_not_iso_8601_is_malformed(tmp_path: Path) -> None:
    path = write(tmp_path, "sessions:\n  - {id: S-1, evse: chg-01/1, started: yesterday 9pm}\n")
    assert found(load_snapshot(path)) == {("snapshot/malformed-time", 8, 40)}


def test_an_unknown_evse_suggests_the_one_meant(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'sessions:\n  - {id: S-1, evse: chg-1/1, started: "2024-05-14T21:00:00+10:00"}\n',
    )
    loaded = load_snapshot(path)
    assert found(loaded) == {("snapshot/unknown-evse", 8, 21)}
    unknown = only(loaded, "snapshot/unknown-evse")
    assert (
        unknown.message
        == 'session S-1 is on EVSE "chg-1/1", which site minimal-depot does not have'
    )
    assert (unknown.hint or "").startswith('did you mean "chg-01/1"?')


def test_an_unknown_evse_in_previous_limits_points_at_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "previous_limits:\n  chg-03/1: 16 A\n")
    loaded = load_snapshot(path)
    assert found(loaded) == {("snapshot/unknown-evse", 8, 3)}
    assert only(loaded, "snapshot/unknown-evse").message == (
        'previous limit for EVSE "chg-03/1", which site minimal-depot does not have'
    )


def test_two_sessions_on_one_evse(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sessions:\n"
        '  - {id: S-1, evse: chg-01/1, started: "2024-05-14T18:00:00+10:00"}\n'
        '  - {id: S-2, evse: chg-01/1, started: "2024-05-14T21:00:00+10:00"}\n',
    )
    loaded = load_snapshot(path)
    assert found(loaded) == {("snapshot/two-sessions", 9, 21)}
    assert "first at line 8" in only(loaded, "snapshot/two-sessions").message


def test_unknown_nodes_chargers_and_duplicates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "telemetry:\n"
        '  - {node: db-2, at: "2024-05-14T21:59:59+10:00", power: 3 kW}\n'
        "chargers:\n"
        "  - {id: chg-01, online: false, last_outcome: offline}\n"
        "  - {id: cp-02, online: true}\n"
        "  - {id: chg-01, online: true}\n",
    )
    loaded = load_snapshot(path)
    assert found(loaded) == {
        ("snapshot/unknown-node", 8, 12),
        ("snapshot/unknown-charger", 11, 10),
        ("snapshot/duplicate-id", 12, 10),
    }
    assert (only(loaded, "snapshot/unknown-node").hint or "").startswith('did you mean "db-1"?')


def test_envelope_problems(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        MINIMAL.read_text().replace(
            "      limits: {import: 100 kW, current: 160 A}\n",
            "      limits: {import: 100 kW, current: 160 A}\n      envelope_source: dnsp\n",
        )
        + "    - id: office\n      type: site_load\n      parent: db-1\n      fallback: 5 kW\n"
        "  envelope_sources:\n"
        "    - {id: dnsp, protocol: local, heartbeat_interval: 60 s, offline_after: 5 min,\n"
        "       fallback: {import: 50 kW}}\n"
    )
    window = 'start: "2024-05-14T21:00:00+10:00", received_at: "2024-05-14T20:00:00+10:00"'
    path = write(
        tmp_path,
        "envelopes:\n"
        f"  - {{id: E-1, source: dnsp, target: office, limit: 40 kW, {window}}}\n"
        f"  - {{id: E-1, source: dsnp, target: gc-main, limit: 40 kW, {window}}}\n"
        f'  - {{id: E-3, source: dnsp, target: gc-main, limit: 40 kW, end: "2024-05-14T20:00:00+10:00", {window}}}\n'
        f"  - {{id: E-4, source: dnsp, target: gc-main, limit: 40 kW, phases: [L1], {window}}}\n",
        site=site,
    )
    loaded = load_snapshot(path)
    assert found(loaded) == {
        ("snapshot/envelope-target", 8, 37),
        ("snapshot/duplicate-id", 9, 10),
        ("snapshot/unknown-source", 9, 23),
        ("snapshot/envelope-window", 10, 65),
        ("schema/invalid-value", 11, 68),
    }


def test_a_time_after_the_snapshot_is_a_warning_only(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'telemetry:\n  - {node: gc-main, at: "2024-05-14T22:00:05+10:00", power: 3 kW}\n',
    )
    loaded = load_snapshot(path)
    warning = only(loaded, "snapshot/after-snapshot")
    assert warning.severity is Severity.WARNING
    assert warning.span is not None and (warning.span.line, warning.span.column) == (8, 25)
    assert loaded.snapshot is not None and loaded.exit_code == 0


# Operator overrides


def test_overrides_become_the_snapshots_pauses_and_caps(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sessions:\n"
        '  - {id: S-1, evse: chg-01/1, started: "2024-05-14T21:00:00+10:00"}\n'
        '  - {id: S-2, evse: chg-02/1, started: "2024-05-14T21:00:00+10:00"}\n'
        "overrides:\n"
        "  - evse: chg-01/1\n"
        "    paused: true\n"
        '    set_at: "2024-05-14T21:30:00+10:00"\n'
        "    author: alice\n"
        "    reason: cable damaged\n"
        "  - {evse: chg-02/1, cap: 0.01 kA}\n",
    )
    loaded = load_snapshot(path)
    assert diagnostics(loaded) == []
    snapshot = loaded.snapshot
    assert snapshot is not None
    pause, cap = snapshot.overrides["chg-01/1"], snapshot.overrides["chg-02/1"]
    assert (pause.paused, pause.cap_a, pause.author, pause.reason) == (
        True,
        None,
        "alice",
        "cable damaged",
    )
    assert pause.set_at == datetime(2024, 5, 14, 11, 30, tzinfo=UTC)
    # left out: set at the snapshot's time, by someone unknown
    assert (cap.paused, cap.cap_a, cap.set_at, cap.author) == (False, 10.0, snapshot.at, "unknown")
    allocation = allocate(snapshot)
    assert allocation.limits_a == {"chg-01/1": 0.0, "chg-02/1": 10.0}
    assert allocation.evses["chg-01/1"].binding.kind is BindingKind.OPERATOR_OVERRIDE
    assert allocation.evses["chg-01/1"].binding.detail == (
        'paused by operator (alice, 2024-05-14 21:30:00+10:00: "cable damaged")'
    )


def test_override_problems_are_reported_at_their_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "overrides:\n"
        "  - {evse: chg-1/1, paused: true}\n"
        "  - {evse: chg-02/1, paused: false}\n"
        "  - {evse: chg-02/1, cap: 16 A}\n",
    )
    loaded = load_snapshot(path)
    assert found(loaded) == {
        ("snapshot/unknown-evse", 8, 12),
        ("schema/invalid-value", 9, 5),
        ("snapshot/duplicate-id", 10, 12),
    }
    unknown = only(loaded, "snapshot/unknown-evse")
    assert unknown.message == 'override on EVSE "chg-1/1", which site minimal-depot does not have'
    assert (unknown.hint or "").startswith('did you mean "chg-01/1"?')
    assert "neither pauses nor caps" in only(loaded, "schema/invalid-value").message
    assert loaded.snapshot is None and loaded.exit_code == 1


def test_an_override_cap_needs_its_unit(tmp_path: Path) -> None:
    path = write(tmp_path, "overrides:\n  - {evse: chg-01/1, cap: 16}\n")
    assert found(load_snapshot(path)) == {("quantity/missing-unit", 8, 27)}


def test_an_override_set_after_the_snapshot_is_a_warning_only(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'overrides:\n  - {evse: chg-01/1, paused: true, set_at: "2024-05-14T22:05:00+10:00"}\n',
    )
    loaded = load_snapshot(path)
    assert only(loaded, "snapshot/after-snapshot").severity is Severity.WARNING
    assert loaded.snapshot is not None and loaded.snapshot.overrides["chg-01/1"].paused


# Rotation: since when each EVSE is switched on or off

#: an operators' envelope leaving db-1 room for one minimum of 6 A, two equal sessions
CONTESTED = (
    'envelope_sources: [{id: local, last_heard: "2024-05-14T21:00:00+10:00"}]\n'
    "envelopes:\n"
    "  - {id: L-1, source: local, target: db-1, limit: 10 A,\n"
    '     start: "2024-05-14T21:00:00+10:00", received_at: "2024-05-14T21:00:00+10:00"}\n'
    "sessions:\n"
    '  - {id: S-1, evse: chg-01/1, started: "2024-05-14T21:00:00+10:00"}\n'
    '  - {id: S-2, evse: chg-02/1, started: "2024-05-14T21:00:00+10:00"}\n'
)


def test_admission_records_hold_an_evse_on_or_off(tmp_path: Path) -> None:
    """Equal sessions: by EVSE id chg-01 has the room; chg-02 switched on two minutes
    ago keeps it, and so does chg-02 when chg-01 was switched off a minute ago."""
    plain = load_snapshot(write(tmp_path, CONTESTED)).snapshot
    assert plain is not None and allocate(plain).limits_a["chg-01/1"] > 0
    held_on = write(
        tmp_path, CONTESTED + 'admission:\n  chg-02/1: {on_since: "2024-05-14T21:58:00+10:00"}\n'
    )
    loaded = load_snapshot(held_on)
    assert diagnostics(loaded) == []
    assert loaded.snapshot is not None
    assert loaded.snapshot.admission["chg-02/1"].on
    assert loaded.snapshot.admission["chg-02/1"].since == datetime(2024, 5, 14, 11, 58, tzinfo=UTC)
    limits = allocate(loaded.snapshot).limits_a
    assert limits["chg-01/1"] == 0 and limits["chg-02/1"] > 0
    held_off = write(
        tmp_path, CONTESTED + 'admission:\n  chg-01/1: {off_since: "2024-05-14T21:59:00+10:00"}\n'
    )
    snapshot = load_snapshot(held_off).snapshot
    assert snapshot is not None and not snapshot.admission["chg-01/1"].on
    limits = allocate(snapshot).limits_a
    assert limits["chg-01/1"] == 0 and limits["chg-02/1"] > 0


def test_admission_problems_are_reported_at_their_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "admission:\n"
        '  chg-1/1: {on_since: "2024-05-14T21:58:00+10:00"}\n'
        "  chg-02/1: {}\n"
        '  chg-01/1: {on_since: "2024-05-14T21:58:00+10:00",'
        ' off_since: "2024-05-14T21:50:00+10:00"}\n',
    )
    loaded = load_snapshot(path)
    assert found(loaded) == {
        ("snapshot/unknown-evse", 8, 3),
        ("schema/invalid-value", 9, 13),
        ("schema/invalid-value", 10, 13),
    }
    unknown = only(loaded, "snapshot/unknown-evse")
    assert unknown.message == 'admission of EVSE "chg-1/1", which site minimal-depot does not have'
    assert (unknown.hint or "").startswith('did you mean "chg-01/1"?')
    assert loaded.snapshot is None and loaded.exit_code == 1


def test_a_switch_after_the_snapshot_is_a_warning_only(tmp_path: Path) -> None:
    path = write(tmp_path, 'admission:\n  chg-01/1: {off_since: "2024-05-14T22:00:01+10:00"}\n')
    loaded = load_snapshot(path)
    warning = only(loaded, "snapshot/after-snapshot")
    assert warning.severity is Severity.WARNING and "switched in the future" in warning.message
    assert loaded.snapshot is not None and loaded.exit_code == 0


def test_a_yaml_error_and_a_foreign_document_are_reported(tmp_path: Path) -> None:
    broken = write(tmp_path, "sessions: [\n")
    assert {d.rule for d in diagnostics(load_snapshot(broken))} == {"yaml/syntax"}
    site_as_snapshot = load_snapshot(MINIMAL)
    assert found(site_as_snapshot) == {("schema/unknown-kind", 4, 7)}


def test_a_json_snapshot_is_read_with_positions(tmp_path: Path) -> None:
    data = {
        "apiVersion": "depotctl/v1",
        "kind": "Snapshot",
        "at": "2024-05-14T22:00:00+10:00",
        "site": {"path": str(MINIMAL), "revision": MINIMAL_REVISION},
        "sessions": [{"id": "S-1", "evse": "chg-01/1", "started": "2024-05-14T21:00:00+10:00"}],
    }
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    loaded = load_snapshot(path)
    assert diagnostics(loaded) == [] and loaded.snapshot is not None
    data["sessions"][0]["evse"] = "chg-09/1"  # type: ignore[index]
    path.write_text(json.dumps(data, indent=2))
    (line,) = [i for i, text in enumerate(path.read_text().splitlines(), 1) if "chg-09" in text]
    assert {(r, ln) for r, ln, _ in found(load_snapshot(path))} == {("snapshot/unknown-evse", line)}


# The site it goes with


def test_a_site_that_changed_since_the_snapshot_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "", revision="sha256:" + "0" * 64)
    loaded = load_snapshot(path)
    assert loaded.snapshot is None and loaded.exit_code == 1
    assert found(loaded) == {("snapshot/site-revision", 6, 13)}
    assert MINIMAL_REVISION in (only(loaded, "snapshot/site-revision").hint or "")


def test_a_site_file_given_instead_must_match_the_revision(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere.yaml"
    copy.write_bytes(MINIMAL.read_bytes())
    path = write(tmp_path, "")
    loaded = load_snapshot(path, site_file=copy)
    assert loaded.snapshot is not None and loaded.site_display == str(copy)
    copy.write_text(MINIMAL.read_text() + "# edited\n")
    assert {d.rule for d in diagnostics(load_snapshot(path, site_file=copy))} == {
        "snapshot/site-revision"
    }


def test_a_revision_that_is_not_a_sha256_is_a_schema_error(tmp_path: Path) -> None:
    path = write(tmp_path, "", revision="4e9d97cc")
    assert found(load_snapshot(path)) == {("schema/invalid-value", 6, 13)}


def test_a_missing_site_file_is_an_io_failure(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    path.write_text(path.read_text().replace(str(MINIMAL), "no-such-site.yaml"))
    loaded = load_snapshot(path)
    assert loaded.exit_code == 3
    assert found(loaded) == {("snapshot/site-not-found", 5, 9)}
    assert load_snapshot(path, site_file=tmp_path / "absent.yaml").exit_code == 3


def test_an_invalid_site_reports_the_site_files_own_diagnostics(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        MINIMAL.read_text().replace("limits: {current: 100 A}", "limits: {current: 100}")
    )
    loaded = load_snapshot(write(tmp_path, "", site=site))
    assert loaded.snapshot is None and loaded.exit_code == 1
    assert [(r.file, [d.rule for d in r.diagnostics]) for r in loaded.reports] == [
        (str(site), ["quantity/missing-unit"])
    ]


def test_an_embedded_site_is_checked_at_its_lines_in_the_snapshot(tmp_path: Path) -> None:
    text = (EXAMPLES / "snapshots" / "minimal-embedded.yaml").read_text()
    path = tmp_path / "snapshot.yaml"
    path.write_text(text.replace("limits: {current: 100 A}", "limits: {current: 100}"))
    loaded = load_snapshot(path)
    (line,) = [i for i, t in enumerate(path.read_text().splitlines(), 1) if "current: 100}" in t]
    assert found(loaded) == {("quantity/missing-unit", line, 27)}


def test_a_site_file_for_a_snapshot_that_embeds_one_is_a_usage_error() -> None:
    with pytest.raises(SnapshotUsageError):
        load_snapshot(EXAMPLES / "snapshots" / "minimal-embedded.yaml", site_file=MINIMAL)


# Rules


def test_snapshot_rules_are_not_validates() -> None:
    snapshot_rules = {r for r in RULES if r.startswith("snapshot/")}
    assert len(snapshot_rules) >= 10
    assert not snapshot_rules & {r.id for r in all_rules()}


def test_docs_list_every_snapshot_rule() -> None:
    documented = set(
        re.findall(r"`(snapshot/[a-z-]+)`", (ROOT / "docs" / "snapshot.md").read_text())
    )
    assert documented == {r for r in RULES if r.startswith("snapshot/")}


def test_a_snapshot_of_a_site_with_an_inline_secret_is_refused_without_printing_it(
    tmp_path: Path,
) -> None:
    secret = "hunter2-in-a-snapshot"
    site = tmp_path / "site.yaml"
    site.write_text(
        MINIMAL.read_text().replace(
            "password_env: CP01_PASSWORD", f"password_env: CP01_PASSWORD, password: {secret}"
        )
    )
    loaded = load_snapshot(write(tmp_path, "", site=site))
    refused = only(loaded, "secrets/inline-secret")
    assert refused.severity is Severity.ERROR
    assert secret not in json.dumps([(d.message, d.hint) for d in diagnostics(loaded)])
