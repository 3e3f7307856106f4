"""Where an explained limit comes from: each binding kind named by the line of the site
revision that sets it, or by the envelope's source and its protocol — on the bundled
AU depot's evening peak (a real snapshot, allocated by the real engine) and on the
minimal site's own limits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from depotctl.config import load_snapshot
from depotctl.controller.binding_sources import binding_source
from depotctl.controller.store import Revision
from depotctl.engine import Binding, BindingKind, allocate
from tests.conftest import EXAMPLES

ROOT = EXAMPLES.parent
PEAK = EXAMPLES / "snapshots" / "au-evening-peak.yaml"


def revision_of(path: Path, number: int = 3) -> Revision:
    text = path.read_text()
    return Revision(number, f"test-{path.name}", datetime(2026, 3, 2, tzinfo=UTC), "t", "m", text)


def line_of(revision: Revision, line: int) -> str:
    return revision.site_text.splitlines()[line - 1]


def test_an_envelope_names_its_source_protocol_and_where_the_source_is_declared() -> None:
    loaded = load_snapshot(PEAK)
    assert loaded.snapshot is not None
    binding = allocate(loaded.snapshot).evses["dc-03/1"].binding
    assert (binding.kind, binding.ref) == (BindingKind.ENVELOPE, "E-17")
    revision = revision_of(ROOT / "sites" / "au-bus-depot.yaml", 1)
    source = binding_source(revision, binding, "ausgrid-oscp")
    assert source is not None and source.line is not None
    assert (source.kind, source.source, source.protocol) == ("envelope", "ausgrid-oscp", "oscp")
    assert line_of(revision, source.line).strip() == "- id: ausgrid-oscp"
    assert source.text == (
        "envelope E-17 from the grid operator's OSCP Capacity Provider ausgrid-oscp, "
        f"declared at line {source.line} of site revision 1"
    )


def test_a_node_or_charger_limit_names_the_line_that_sets_it() -> None:
    loaded = load_snapshot(PEAK)
    assert loaded.snapshot is not None
    revision = revision_of(EXAMPLES / "minimal.yaml")
    cases = [
        (BindingKind.NODE_LIMIT, "gc-main", "gc-main import power is full: …", 13, "limits.import: 100 kW"),
        (BindingKind.NODE_LIMIT, "db-1", "db-1 current on L2 is full: …", 17, "limits.current: 100 A"),
        (BindingKind.CHARGER_LIMIT, "chg-02", "chg-02 current on L1 is full: …", 30, "rating.current: 32 A"),
    ]  # fmt: skip
    own = "at the EVSE's own maximum of 32.0 A"  # the charger's rating, whole
    cases.append(
        (BindingKind.CHARGER_LIMIT, "chg-01/1", own, 22, "rating (power 22 kW, current 32 A)")
    )
    for kind, ref, detail, line, words in cases:
        source = binding_source(revision, Binding(kind, ref, detail))
        assert source is not None
        assert (source.kind, source.revision, source.line) == ("site", 3, line)
        assert source.text == f"{ref.split('/')[0]} {words}, at line {line} of site revision 3"


def test_a_policy_names_its_key_and_an_operator_or_the_vehicle_say_so() -> None:
    loaded = load_snapshot(PEAK)
    assert loaded.snapshot is not None
    revision = revision_of(ROOT / "sites" / "au-bus-depot.yaml", 1)
    planned = binding_source(revision, Binding(BindingKind.PLANNED_RATE, "x", ""))
    assert planned is not None and planned.line is not None
    assert line_of(revision, planned.line).strip() == "planner:"
    admission = Binding(BindingKind.MIN_CURRENT_ADMISSION, "gc-main", "")
    minimum = binding_source(revision, admission)
    assert minimum is not None and minimum.line is not None
    assert line_of(revision, minimum.line).strip().startswith("min_current: 6 A")
    fallback = binding_source(revision, Binding(BindingKind.FALLBACK, "ausgrid-oscp", ""))
    assert fallback is not None and fallback.line is not None
    assert "fallback" in line_of(revision, fallback.line)
    assert fallback.text.startswith(
        "the fallback of envelope source ausgrid-oscp while it is offline"
    )
    override = Binding(BindingKind.OPERATOR_OVERRIDE, "dc-03/1", "")
    overridden = binding_source(revision, override)
    assert overridden is not None and overridden.kind == "operator"
    # a policy the site leaves at its default says so, with no line
    unset = binding_source(revision_of(EXAMPLES / "minimal.yaml"), admission)
    assert unset is not None and unset.line is None
    assert unset.text.endswith(
        "(policies.charging.min_current), not set in site revision 3: its default"
    )
    nobody = Binding(BindingKind.NO_SESSION, "dc-03/1", "")
    assert binding_source(revision, nobody) is None
