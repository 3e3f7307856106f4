"""Envelope source rules: known sources, fallbacks, protocol settings, timing, credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from depotctl.config.diagnostics import Diagnostic
from tests.config.checks.validating import diagnostics, only

SITE = """\
apiVersion: depotctl/v1
kind: Site
metadata: {name: depot-north, timezone: Australia/Sydney}
spec:
  electrical: {voltage: 230 V, phases: 3}
  nodes:
    - id: gc-main
      type: grid_connection
      limits: {import: 100 kW, current: 160 A}
      envelope_source: dnsp
    - id: chg-01
      type: charger
      parent: gc-main
      ocpp: {id: CP-01, protocol: ocpp1.6, password_env: CP01_PASSWORD}
      rating: {power: 22 kW, current: 32 A}
      fallback: 16 A
      evses: [{id: 1}]
  envelope_sources:
    - id: dnsp
      protocol: oscp
      oscp:
        base_url: https://derms.example/oscp/cp/2.0
        group_id: GRP-4711
        token_env: DNSP_OSCP_TOKEN
      heartbeat_interval: 60 s
      offline_after: 5 min
      fallback: {import: 60 kW}
"""


def where(d: Diagnostic) -> tuple[int, int]:
    assert d.span is not None
    return d.span.line, d.span.column


def test_an_oscp_source_with_fallback_timing_and_token_is_clean(tmp_path: Path) -> None:
    assert diagnostics(tmp_path, SITE) == []


def test_unknown_source_points_at_the_name_and_suggests_the_close_one(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, SITE.replace("envelope_source: dnsp", "envelope_source: dsnp"))
    unknown = [d for d in found if d.rule == "envelope/unknown-source"]
    assert len(unknown) == 1
    assert where(unknown[0]) == (10, 24)
    assert '"dsnp"' in unknown[0].message and 'grid connection "gc-main"' in unknown[0].message
    assert unknown[0].hint == 'did you mean "dnsp"?'


def test_unknown_source_on_a_site_without_sources_gets_the_default_hint(tmp_path: Path) -> None:
    text = SITE.split("  envelope_sources:")[0]
    d = only(diagnostics(tmp_path, text), "envelope/unknown-source")
    assert "did you mean" not in (d.hint or "")
    assert "spec.envelope_sources" in (d.hint or "")


def test_a_source_without_fallback_is_an_error_at_the_source(tmp_path: Path) -> None:
    d = only(
        diagnostics(tmp_path, SITE.replace("      fallback: {import: 60 kW}\n", "")),
        "envelope/missing-fallback",
    )
    assert where(d) == (19, 7)
    assert '"dnsp"' in d.message


def test_an_empty_fallback_sets_no_limit_and_counts_as_missing(tmp_path: Path) -> None:
    d = only(
        diagnostics(tmp_path, SITE.replace("fallback: {import: 60 kW}", "fallback: {}")),
        "envelope/missing-fallback",
    )
    assert where(d) == (27, 17)
    assert "sets no limit" in d.message


def test_a_local_source_also_needs_a_fallback(tmp_path: Path) -> None:
    nodes = SITE.replace("envelope_source: dnsp", "envelope_source: ems")
    nodes = nodes.split("  envelope_sources:")[0]
    text = nodes + "  envelope_sources:\n    - {id: ems, protocol: local}\n"
    assert [d.rule for d in diagnostics(tmp_path, text)] == ["envelope/missing-fallback"]


@pytest.mark.parametrize(
    ("heartbeat", "offline", "relation"),
    [
        ("60 s", "30 s", "shorter than"),
        ("60 s", "60 s", "equal to"),
        ("2 min", "120 s", "equal to"),
        ("1 min", "59 s", "shorter than"),
    ],
)
def test_offline_after_not_longer_than_the_heartbeat_is_an_error(
    tmp_path: Path, heartbeat: str, offline: str, relation: str
) -> None:
    text = SITE.replace("heartbeat_interval: 60 s", f"heartbeat_interval: {heartbeat}").replace(
        "offline_after: 5 min", f"offline_after: {offline}"
    )
    d = only(diagnostics(tmp_path, text), "envelope/offline-before-heartbeat")
    assert where(d) == (26, 22)
    assert relation in d.message and offline in d.message and heartbeat in d.message


def test_offline_after_just_longer_than_the_heartbeat_is_accepted(tmp_path: Path) -> None:
    text = SITE.replace("offline_after: 5 min", "offline_after: 61 s")
    assert diagnostics(tmp_path, text) == []


def test_the_suggested_offline_after_is_five_heartbeats(tmp_path: Path) -> None:
    text = SITE.replace("heartbeat_interval: 60 s", "heartbeat_interval: 45 s").replace(
        "offline_after: 5 min", "offline_after: 30 s"
    )
    d = only(diagnostics(tmp_path, text), "envelope/offline-before-heartbeat")
    assert "225 s" in (d.hint or "")


def test_an_oscp_source_without_its_oscp_block_is_reported_at_the_protocol(tmp_path: Path) -> None:
    text = SITE.replace(
        "      oscp:\n        base_url: https://derms.example/oscp/cp/2.0\n"
        "        group_id: GRP-4711\n        token_env: DNSP_OSCP_TOKEN\n",
        "",
    )
    d = only(diagnostics(tmp_path, text), "envelope/missing-protocol-settings")
    assert where(d) == (20, 17)


def test_an_oscp_block_on_a_local_source_is_reported_at_its_key(tmp_path: Path) -> None:
    d = only(
        diagnostics(tmp_path, SITE.replace("protocol: oscp", "protocol: local")),
        "envelope/missing-protocol-settings",
    )
    assert where(d) == (21, 7)
    assert "protocol local" in d.message


def test_a_local_source_needs_no_timing_or_token(tmp_path: Path) -> None:
    text = (
        SITE.replace("protocol: oscp", "protocol: local")
        .replace(
            "      oscp:\n        base_url: https://derms.example/oscp/cp/2.0\n"
            "        group_id: GRP-4711\n        token_env: DNSP_OSCP_TOKEN\n",
            "",
        )
        .replace("      heartbeat_interval: 60 s\n      offline_after: 5 min\n", "")
    )
    assert diagnostics(tmp_path, text) == []


def test_an_oscp_source_without_timing_names_what_is_missing(tmp_path: Path) -> None:
    d = only(
        diagnostics(tmp_path, SITE.replace("      offline_after: 5 min\n", "")),
        "envelope/missing-timing",
    )
    assert where(d) == (19, 7)
    assert "offline_after" in d.message and "heartbeat_interval" not in d.message


def test_an_oscp_source_without_a_token_reference_lacks_credentials(tmp_path: Path) -> None:
    d = only(
        diagnostics(tmp_path, SITE.replace("        token_env: DNSP_OSCP_TOKEN\n", "")),
        "envelope/missing-credentials",
    )
    assert where(d) == (22, 9)


def test_a_token_file_is_a_credential(tmp_path: Path) -> None:
    text = SITE.replace("token_env: DNSP_OSCP_TOKEN", "token_file: /etc/depotctl/dnsp.token")
    assert diagnostics(tmp_path, text) == []


def test_an_inline_token_is_an_inline_secret_not_missing_credentials(tmp_path: Path) -> None:
    text = SITE.replace("token_env: DNSP_OSCP_TOKEN", "token: abc123")
    only(diagnostics(tmp_path, text), "secrets/inline-secret")


def test_a_source_no_node_names_is_a_warning_naming_the_grid_connection(tmp_path: Path) -> None:
    d = only(
        diagnostics(tmp_path, SITE.replace("      envelope_source: dnsp\n", "")),
        "envelope/unused-source",
    )
    assert d.severity == "warning"
    assert where(d) == (18, 11)
    assert "envelope_source: dnsp" in (d.hint or "") and '"gc-main"' in (d.hint or "")


def test_a_repeated_source_id_is_reported_once_by_topology(tmp_path: Path) -> None:
    text = SITE + "    - {id: dnsp, protocol: local}\n"
    assert [d.rule for d in diagnostics(tmp_path, text)] == ["topology/duplicate-id"]
