"""The cycle inputs' codec: every field of every part of a snapshot reads back equal
(optional fields set and not, nested held limits, phase sets and per-phase currents,
enums, infinite figures), through JSON text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from depotctl.controller.inputs_codec import SECTION_TYPES, decode_item, encode_item
from depotctl.domain.admission import Admission
from depotctl.domain.chargers import ChargerState, CommandOutcome, HeldLimit
from depotctl.domain.envelopes import Direction, Envelope, EnvelopeMode, LimitUnit, SourceHealth
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.phases import Phase
from depotctl.domain.plan_notes import PlanNote
from depotctl.domain.sessions import EnergyRequirement, RequirementSource, Session
from depotctl.domain.telemetry import Reading

AT = datetime(2026, 12, 6, 15, 14, 5, 120_007, tzinfo=UTC)

ITEMS: list[tuple[str, object]] = [
    ("envelopes", Envelope("E-17", "dnsp", "gc-main", Direction.IMPORT, 120_000.5, LimitUnit.W,
                           AT, None, AT)),
    ("envelopes", Envelope("E-18", "local", "db-1", Direction.EXPORT, 63.0, LimitUnit.A, AT,
                           AT + timedelta(hours=1), AT, EnvelopeMode.FALLBACK,
                           frozenset({Phase.L3, Phase.L1}), 2, AT + timedelta(minutes=5))),
    ("sources", SourceHealth("dnsp", None, None)),
    ("sources", SourceHealth("dnsp", AT, 300.0, AT + timedelta(minutes=5))),
    ("telemetry", Reading("gc-main", AT, 31_400.25, {Phase.L1: 45.5, Phase.L2: 0.0})),
    ("telemetry", Reading("db-1", AT)),
    ("sessions", Session("S-1", "chg-01/1", AT)),
    ("sessions", Session("S-2", "chg-02/1", AT, 1234.5,
                         EnergyRequirement(40e3, AT + timedelta(hours=8), RequirementSource.VEHICLE),
                         16.0, 8.0, 2)),
    ("chargers", ChargerState("chg-01")),
    ("chargers", ChargerState("chg-02", False, CommandOutcome.TIMEOUT, 31.8, AT, "offline: gone",
                              False, {"chg-02/1": (HeldLimit(31.8, AT), HeldLimit(16.0, None))})),
    ("previous_limits", 31.8),
    ("previous_limits", 0),
    ("pending", float("inf")),
    ("overrides", EvseOverride("chg-01/1", True, None, AT, "alice@depot-ops")),
    ("overrides", EvseOverride("chg-02/1", False, 10.0, AT, "bob", "cable check")),
    ("admission", Admission(False, AT)),
    ("plan_notes", PlanNote("S-2", 0.21, 0.06, AT + timedelta(hours=2), AT, 10.3)),
    ("plan_notes", PlanNote("S-2", 0.06, None, None, AT, -0.5)),
]  # fmt: skip


@pytest.mark.parametrize(("section", "item"), ITEMS, ids=lambda v: str(v)[:30])
def test_every_item_reads_back_equal_through_json(section: str, item: object) -> None:
    text = json.dumps(encode_item(section, item))
    back = decode_item(section, json.loads(text))
    assert back == item
    assert type(back) is (type(item) if SECTION_TYPES[section] is not float else float)


def test_every_section_is_tried() -> None:
    assert {section for section, _ in ITEMS} == set(SECTION_TYPES)
