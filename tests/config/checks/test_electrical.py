"""Electrical rules: phases, child limits, and the arithmetic of fallback and
minimum-current sums (per phase, line-to-line, conversions, transformers)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pytest

from depotctl.config.diagnostics import Diagnostic
from depotctl.config.validate import validate_file

HEADER = """\
apiVersion: depotctl/v1
kind: Site
metadata: {{name: test-depot, timezone: Australia/Sydney}}
spec:
  electrical: {electrical}
  nodes:
"""


class Site:
    """A site written to a file, one node per line, and what validate says of it."""

    def __init__(self, tmp_path: Path, nodes: list[str], electrical: str, extra: str) -> None:
        self.text = HEADER.format(electrical=electrical)
        self.text += "".join(f"    - {node}\n" for node in nodes) + extra
        path = tmp_path / "site.yaml"
        path.write_text(self.text)
        self.diagnostics = validate_file(path).diagnostics

    def found(self, rule: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.rule == rule]

    def electrical(self) -> list[str]:
        return [d.rule for d in self.diagnostics if d.rule.startswith("electrical/")]

    def position(self, node_id: str, text: str) -> tuple[int, int]:
        """Line and column of ``text`` on the line of node ``node_id``."""
        for number, line in enumerate(self.text.splitlines(), start=1):
            if f"id: {node_id}," in line:
                return number, line.index(text) + 1
        raise AssertionError(f"no node {node_id}")


class Build(Protocol):
    def __call__(self, *nodes: str, electrical: str = ..., extra: str = ...) -> Site: ...


@pytest.fixture
def site(tmp_path: Path) -> Build:
    def build(
        *nodes: str, electrical: str = "{voltage: 230 V, phases: 3}", extra: str = ""
    ) -> Site:
        return Site(tmp_path, list(nodes), electrical, extra)

    return build


def at(finding: Diagnostic) -> tuple[int, int]:
    assert finding.span is not None
    return finding.span.line, finding.span.column


GC = "{id: gc, type: grid_connection, limits: {import: 400 kW, current: 630 A}}"


def circuit(node_id: str, parent: str, limits: str = "", more: str = "") -> str:
    limit = f", limits: {{{limits}}}" if limits else ""
    return f"{{id: {node_id}, type: circuit, parent: {parent}{limit}{more}}}"


def charger(node_id: str, parent: str, fallback: str | None = "16 A", more: str = "") -> str:
    """A 22 kW 3-phase AC charger unless ``more`` says otherwise (later keys win)."""
    fields = {
        "id": node_id,
        "type": "charger",
        "parent": parent,
        "ocpp": f"{{id: {node_id.upper()}, protocol: ocpp1.6, password_env: PW}}",
        "rating": "{power: 22 kW, current: 32 A}",
        "phases": "3",
        "evses": "[{id: 1}]",
    }
    if fallback is not None:
        fields["fallback"] = fallback
    for item in filter(None, more.split("; ")):
        key, value = item.split(": ", 1)
        fields[key] = value
    return "{" + ", ".join(f"{k}: {v}" for k, v in fields.items()) + "}"


def single_phase(rotation: str | None, rating: str = "{power: 7.4 kW, current: 32 A}") -> str:
    rotation_field = f"; phase_rotation: {rotation}" if rotation else ""
    return f"phases: 1; rating: {rating}{rotation_field}"


# --- fallback sums -------------------------------------------------------------------


def test_fallback_sum_exactly_at_the_limit_is_fine(site: Build) -> None:
    s = site(GC, circuit("db", "gc", "current: 48 A"), *(charger(f"c{i}", "db") for i in range(3)))
    assert s.electrical() == []


def test_fallback_sum_a_tenth_of_an_amp_over_is_an_error(site: Build) -> None:
    s = site(
        GC, circuit("db", "gc", "current: 47.9 A"), *(charger(f"c{i}", "db") for i in range(3))
    )
    [finding] = s.found("electrical/fallback-exceeds-limit")
    assert finding.severity == "error"
    assert 'the 3 chargers below circuit "db" come to 48 A on L1' in finding.message
    assert "current limit of 47.9 A" in finding.message
    assert finding.hint is not None and "by 0.1 A in total on L1" in finding.hint
    assert at(finding) == s.position("db", "47.9 A")


def test_line_to_line_charger_counts_on_both_of_its_lines(site: Build) -> None:
    # L2: 24 A (L1-L2) + 20 A (L2) = 44 A; L1: 24 A; L3: 30 A
    s = site(
        GC,
        circuit("db", "gc", "current: 40 A"),
        charger("ll", "db", "24 A", single_phase("L1-L2")),
        charger("ln2", "db", "20 A", single_phase("L2")),
        charger("ln3", "db", "30 A", single_phase("L3")),
    )
    [finding] = s.found("electrical/fallback-exceeds-limit")
    assert "come to 44 A on L2" in finding.message
    assert "by 4 A in total on L2" in (finding.hint or "")


def test_line_to_line_charger_alone_loads_neither_other_phase(site: Build) -> None:
    # 30 A on L1 and L2 each fits 40 A; were it counted on L3 too, L3 would be 30 + 20 = 50 A
    s = site(
        GC,
        circuit("db", "gc", "current: 40 A"),
        charger("ll", "db", "30 A", single_phase("L1-L2")),
        charger("ln3", "db", "20 A", single_phase("L3")),
    )
    assert s.found("electrical/fallback-exceeds-limit") == []


def test_single_phase_charger_without_rotation_counts_on_every_phase(site: Build) -> None:
    s = site(
        GC,
        circuit("db", "gc", "current: 40 A"),
        charger("unknown", "db", "20 A", single_phase(None)),
        charger("ln3", "db", "25 A", single_phase("L3")),
    )
    [finding] = s.found("electrical/fallback-exceeds-limit")
    assert "come to 45 A on L3" in finding.message
    assert s.found("electrical/missing-phase-rotation") != []


def test_kw_fallback_is_converted_at_the_chargers_208_volts_not_the_sites_230(site: Build) -> None:
    # Behind a 400/208 V transformer: 7.2 kW line-to-line at 208 V is 34.6 A on L1 and L2,
    # so two of them need 69.2 A. At the site's 230 V (400 V line-to-line) it would be 36 A.
    xfmr = (
        "{id: xfmr, type: transformer, parent: gc, rating: 150 kVA, primary: 400 V, "
        "secondary: 208 V}"
    )
    rating = "{power: 7.7 kW, current: 40 A}"
    s = site(
        GC,
        xfmr,
        circuit("db-us", "xfmr", "current: 60 A"),
        charger("us-1", "db-us", "7.2 kW", single_phase("L1-L2", rating)),
        charger("us-2", "db-us", "7.2 kW", single_phase("L1-L2", rating)),
    )
    [finding] = s.found("electrical/fallback-exceeds-limit")
    assert "come to 69.23 A on L1, above its current limit of 60 A" in finding.message
    assert at(finding) == s.position("db-us", "60 A")


def test_current_through_a_transformer_is_stepped_by_its_ratio(site: Build) -> None:
    # 3 × 32 A at 208 V is 96 A per phase there, 96 × 208/400 ≈ 49.92 A above the transformer
    gc = "{id: gc, type: grid_connection, limits: {current: 49 A}}"
    xfmr = (
        "{id: xfmr, type: transformer, parent: gc, rating: 150 kVA, primary: 400 V, "
        "secondary: 208 V}"
    )
    s = site(gc, xfmr, *(charger(f"c{i}", "xfmr", "32 A") for i in range(3)))
    [finding] = s.found("electrical/fallback-exceeds-limit")
    assert 'grid connection "gc" come to 49.92 A on L1' in finding.message


def test_nested_circuits_count_every_charger_below(site: Build) -> None:
    s = site(
        GC,
        circuit("db", "gc", "current: 60 A"),
        circuit("db-a", "db"),
        "{id: bay, type: charger_group, parent: db-a}",
        charger("c1", "db-a"),
        charger("c2", "bay"),
        charger("c3", "bay"),
        charger("c4", "db"),
    )
    [finding] = s.found("electrical/fallback-exceeds-limit")
    assert 'the 4 chargers below circuit "db" come to 64 A' in finding.message


def test_fallback_powers_are_summed_against_the_import_limit(site: Build) -> None:
    # 16 A on three phases at 230 V is 11.04 kW; three of them and a 10 kW one: 43.12 kW
    gc = "{id: gc, type: grid_connection, limits: {import: 40 kW}}"
    s = site(gc, *(charger(f"c{i}", "gc") for i in range(3)), charger("c3", "gc", "10 kW"))
    [finding] = s.found("electrical/fallback-exceeds-limit")
    assert "come to 43.12 kW, above its import limit of 40 kW" in finding.message
    assert "by 3.12 kW" in (finding.hint or "")
    assert at(finding) == s.position("gc", "40 kW")


def test_fallbacks_above_a_transformer_rating(site: Build) -> None:
    # below the transformer the voltage is its secondary's: 400 V / √3 ≈ 230.9 V, so
    # 3 × 16 A × 3 × 230.9 V ≈ 33.25 kW
    xfmr = (
        "{id: xfmr, type: transformer, parent: gc, rating: 30 kVA, primary: 400 V, "
        "secondary: 400 V}"
    )
    s = site(GC, xfmr, *(charger(f"c{i}", "xfmr") for i in range(3)))
    [finding] = s.found("electrical/fallback-exceeds-limit")
    assert "come to 33.26 kW, above its rating of 30 kVA" in finding.message


def test_one_finding_per_node_and_limit_kind(site: Build) -> None:
    gc = "{id: gc, type: grid_connection, limits: {import: 20 kW, current: 20 A}}"
    s = site(gc, *(charger(f"c{i}", "gc") for i in range(3)))
    findings = s.found("electrical/fallback-exceeds-limit")
    assert sorted(f.message.split(", above its ")[1].split(":")[0] for f in findings) == [
        "current limit of 20 A",
        "import limit of 20 kW",
    ]


# --- minimum currents ----------------------------------------------------------------


def test_minimum_currents_count_every_ac_evse_and_leave_dc_out(site: Build) -> None:
    # 2 AC chargers × 2 EVSEs × 6 A = 24 A; the DC charger's 3 EVSEs do not count
    twin = "evses: [{id: 1}, {id: 2}]; fallback: 6 A"
    dc = "supply: dc; evses: [{id: 1}, {id: 2}, {id: 3}]; fallback: 1 A"
    s = site(
        GC,
        circuit("db", "gc", "current: 23 A"),
        charger("a1", "db", more=twin),
        charger("a2", "db", more=twin),
        charger("dc", "db", more=dc),
    )
    [finding] = s.found("electrical/min-current-exceeds-limit")
    assert finding.severity == "warning"
    assert 'the 4 AC EVSEs below circuit "db" come to 24 A on L1' in finding.message


def test_a_chargers_own_minimum_overrides_the_policy(site: Build) -> None:
    s = site(
        GC,
        circuit("db", "gc", "current: 17 A"),
        charger("a1", "db", "6 A", "min_current: 10 A"),
        charger("a2", "db", "6 A"),
        extra="  policies: {charging: {min_current: 8 A}}\n",
    )
    [finding] = s.found("electrical/min-current-exceeds-limit")
    assert "come to 18 A on L1" in finding.message


def test_single_phase_minimums_spread_over_their_phases(site: Build) -> None:
    # three single-phase EVSEs, one per phase: 6 A on each phase fits 6 A
    s = site(
        GC,
        circuit("db", "gc", "current: 6 A"),
        *(charger(f"c{p}", "db", "6 A", single_phase(f"L{p}")) for p in (1, 2, 3)),
    )
    assert s.found("electrical/min-current-exceeds-limit") == []


# --- site loads and ratings ----------------------------------------------------------


def test_site_load_fallback_above_the_import_limit(site: Build) -> None:
    s = site(GC, "{id: wash, type: site_load, parent: gc, fallback: 450 kW}")
    [finding] = s.found("electrical/site-load-fallback-exceeds-limit")
    assert 'fallback 450 kW alone is above the import limit of grid connection "gc" (400 kW)' in (
        finding.message
    )
    assert at(finding) == s.position("wash", "450 kW")


def test_site_load_fallback_in_kw_against_the_current_limit(site: Build) -> None:
    # 120 kW on three phases at 230 V is 173.91 A per phase
    gc = "{id: gc, type: grid_connection, limits: {current: 160 A}}"
    s = site(gc, circuit("db", "gc"), "{id: shop, type: site_load, parent: db, fallback: 120 kW}")
    [finding] = s.found("electrical/site-load-fallback-exceeds-limit")
    assert "(160 A per phase): it comes to 173.91 A on L1 there" in finding.message


def test_site_load_fallback_within_the_limits_is_fine(site: Build) -> None:
    s = site(GC, "{id: shop, type: site_load, parent: gc, fallback: 400 kW}")
    assert s.electrical() == []


@pytest.mark.parametrize(
    ("fallback", "rating", "shown"),
    [
        ("40 A", "{current: 32 A}", "fallback 40 A is above its own rating of 32 A"),
        # 16 A × 3 × 230 V = 11.04 kW
        ("16 A", "{power: 11 kW}", "fallback 16 A (≈ 11.04 kW) is above its own rating of 11 kW"),
        # 11.1 kW / (3 × 230 V) = 16.09 A
        ("11.1 kW", "{current: 16 A}", "fallback 11.1 kW (≈ 16.09 A per line) is above"),
        (
            "25 kW",
            "{power: 22 kW, current: 63 A}",
            "fallback 25 kW is above its own rating of 22 kW",
        ),
    ],
)
def test_fallback_above_the_chargers_rating(
    site: Build, fallback: str, rating: str, shown: str
) -> None:
    s = site(GC, charger("c1", "gc", fallback, f"rating: {rating}"))
    [finding] = s.found("electrical/fallback-exceeds-rating")
    assert shown in finding.message


def test_fallback_at_the_rating_is_fine(site: Build) -> None:
    s = site(GC, charger("c1", "gc", "11.04 kW", "rating: {current: 16 A}"))
    assert s.electrical() == []


# --- child limits ------------------------------------------------------------------


def test_child_limit_above_its_parent(site: Build) -> None:
    gc = "{id: gc-main, type: grid_connection, limits: {current: 200 A}}"
    s = site(gc, circuit("db-1", "gc-main", "current: 250 A"))
    [finding] = s.found("electrical/child-exceeds-parent")
    assert finding.message == (
        'circuit "db-1" current limit 250 A is above its parent "gc-main" (200 A); '
        "it can never be reached"
    )
    assert finding.hint == "lower db-1 to 200 A or raise gc-main"
    assert at(finding) == s.position("db-1", "250 A")


def test_child_import_is_compared_with_the_nearest_ancestor_that_has_one(site: Build) -> None:
    s = site(GC, circuit("db", "gc", "current: 100 A"), circuit("sub", "db", "import: 450 kW"))
    [finding] = s.found("electrical/child-exceeds-parent")
    assert 'import limit 450 kW is above its ancestor "gc" (400 kW)' in finding.message


def test_currents_are_not_compared_across_a_transformer(site: Build) -> None:
    # 400 A at 208 V is about 208 A at 400 V: the grid connection's 630 A says nothing of it
    gc = "{id: gc, type: grid_connection, limits: {current: 300 A}}"
    xfmr = (
        "{id: xfmr, type: transformer, parent: gc, rating: 150 kVA, primary: 400 V, "
        "secondary: 208 V}"
    )
    s = site(gc, xfmr, circuit("db-us", "xfmr", "current: 400 A"))
    assert s.found("electrical/child-exceeds-parent") == []


def test_transformer_rating_above_the_import_limit_above_it(site: Build) -> None:
    xfmr = (
        "{id: xfmr, type: transformer, parent: gc, rating: 500 kVA, primary: 400 V, "
        "secondary: 208 V}"
    )
    s = site(GC, xfmr)
    [finding] = s.found("electrical/child-exceeds-parent")
    assert 'rating 500 kVA is above the import limit of its parent "gc" (400 kW)' in finding.message


# --- phases ------------------------------------------------------------------------


def test_three_phase_charger_under_a_single_phase_board(site: Build) -> None:
    s = site(GC, circuit("db", "gc", more=", phases: 1"), charger("c1", "db"))
    [finding] = s.found("electrical/phase-mismatch")
    assert at(finding) == s.position("c1", "3, evses")


def test_line_to_line_charger_under_a_single_phase_board(site: Build) -> None:
    s = site(
        GC, circuit("db", "gc", more=", phases: 1"), charger("c1", "db", more=single_phase("L1-L2"))
    )
    [finding] = s.found("electrical/phase-mismatch")
    assert 'wired line-to-line ("L1-L2")' in finding.message


def test_three_phase_circuit_under_a_single_phase_connection(site: Build) -> None:
    gc = "{id: gc, type: grid_connection, phases: 1, limits: {current: 63 A}}"
    s = site(gc, circuit("db", "gc", more=", phases: 3"))
    assert s.electrical() == ["electrical/phase-mismatch"]


@pytest.mark.parametrize(
    ("more", "words"),
    [
        ("phase_rotation: L1", 'is 3-phase, but its phase_rotation "L1"'),
        (single_phase("L1-L2-L3"), 'is single-phase, but its phase_rotation "L1-L2-L3"'),
    ],
)
def test_rotation_that_does_not_fit_the_chargers_phases(site: Build, more: str, words: str) -> None:
    s = site(GC, charger("c1", "gc", more=more))
    [finding] = s.found("electrical/invalid-phase-rotation")
    assert words in finding.message


def test_rotation_naming_a_phase_a_single_phase_site_lacks(site: Build) -> None:
    gc = "{id: gc, type: grid_connection, limits: {current: 63 A}}"
    s = site(
        gc, charger("c1", "gc", more=single_phase("L2")), electrical="{voltage: 230 V, phases: 1}"
    )
    assert s.electrical() == ["electrical/invalid-phase-rotation"]


def test_single_phase_branch_of_a_three_phase_site_may_be_on_any_phase(site: Build) -> None:
    s = site(
        GC, circuit("db", "gc", more=", phases: 1"), charger("c1", "db", more=single_phase("L3"))
    )
    assert s.electrical() == []


def test_rotation_alone_makes_a_charger_single_phase(site: Build) -> None:
    # no phases: written; phase_rotation L2 says it is single-phase, so no mismatch
    s = site(
        GC, charger("c1", "gc", more="phases: null; phase_rotation: L2; rating: {current: 32 A}")
    )
    assert s.electrical() == []


def test_missing_rotation_points_at_phases(site: Build) -> None:
    s = site(GC, charger("c1", "gc", more=single_phase(None)))
    [finding] = s.found("electrical/missing-phase-rotation")
    assert finding.severity == "warning"
    assert at(finding) == s.position("c1", "1, evses")
