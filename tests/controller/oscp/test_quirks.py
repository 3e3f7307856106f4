"""Peer quirks, each declared per source in the site and off by default: an
acknowledgement at another path (pyoscp's ``handshake_acknowledgment``), naive
datetimes in a stated zone (read and written), endpoint URLs with a trailing slash,
and a required behaviour without ``measurement_configuration`` (pyoscp's
acknowledgement)."""

from __future__ import annotations

from pathlib import Path

from depotctl.controller.store import JournalKind
from tests.controller.oscp.rig import SOURCE, CapacityProvider, oscp_rig

BEHAVIOUR = {"required_behaviour": {"heartbeat_interval": 60, "measurement_configuration": []}}


def test_an_acknowledgement_path_of_the_peers_own_both_ways(tmp_path: Path) -> None:
    quirks = "{acknowledge_path: handshake_acknowledgment}"
    with oscp_rig(tmp_path, quirks=quirks) as rig:
        token = rig.register()
        assert rig.post("handshake", BEHAVIOUR, token=token, request_id="hs-1").status_code == 204
        rig.link_pass()
        [acknowledgement] = rig.provider.of("handshake_acknowledgment")
        assert acknowledgement.headers["x-correlation-id"] == "hs-1"
        assert rig.provider.of("handshake_acknowledge") == []
        # the peer acknowledges this controller's handshake at its own path, too
        answer = rig.post("handshake_acknowledgment", BEHAVIOUR, token=token)
        assert answer.status_code == 204, answer.text
        entries = rig.journal(JournalKind.OSCP_HANDSHAKE)
        assert any("acknowledgement" in e.message for e in entries)


def test_without_the_quirk_the_other_path_is_not_found(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        token = rig.register()
        answer = rig.post("handshake_acknowledgment", BEHAVIOUR, token=token)
        assert answer.status_code == 404


def test_naive_datetimes_are_read_and_written_in_the_stated_zone(tmp_path: Path) -> None:
    # naive datetimes break the schema on purpose: that is the provider's quirk
    provider = CapacityProvider(conformance=False)
    with oscp_rig(tmp_path, provider, quirks="{naive_times_in: Australia/Sydney}") as rig:
        token = rig.register()
        # 17:05 in Sydney (AEDT, +11:00) on 2 March is 06:05 UTC
        beat = rig.post("heartbeat", {"offline_mode_at": "2026-03-02 17:05:00"}, token=token)
        assert beat.status_code == 204, beat.text
        deadline = rig.controller.units().sources.heard()[SOURCE].deadline
        assert deadline is not None and deadline.isoformat() == "2026-03-02T06:05:00+00:00"
        # the peer asks for heartbeats: this controller's are naive Sydney time too
        assert rig.post("handshake", BEHAVIOUR, token=token).status_code == 204
        rig.link_pass()
        [heartbeat] = rig.provider.of("heartbeat")
        assert heartbeat.body == {"offline_mode_at": "2026-03-02 17:03:00"}  # 3 intervals on


def test_without_the_quirk_a_naive_datetime_is_refused(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        token = rig.register()
        beat = rig.post("heartbeat", {"offline_mode_at": "2026-03-02 17:05:00"}, token=token)
        assert beat.status_code == 400
        assert "offline_mode_at" in beat.json()["message"]


def test_a_trailing_slash_on_every_endpoint_url(tmp_path: Path) -> None:
    with oscp_rig(tmp_path, quirks="{trailing_slash: true}") as rig:
        rig.link_pass()
        [register] = rig.provider.of("register")
        assert register.path == "/oscp/cp/2.0/register/"
    with oscp_rig(tmp_path / "plain") as rig:
        rig.link_pass()
        [register] = rig.provider.of("register")
        assert register.path == "/oscp/cp/2.0/register"


def test_a_behaviour_without_measurement_configuration_read_as_none(tmp_path: Path) -> None:
    # pyoscp acknowledges a handshake with {"required_behaviour": {"heartbeat_interval": N}}
    acknowledgement = {"required_behaviour": {"heartbeat_interval": 30}}
    with oscp_rig(tmp_path, quirks="{omits_measurement_configuration: true}") as rig:
        token = rig.register()
        answer = rig.post("handshake_acknowledge", acknowledgement, token=token)
        assert answer.status_code == 204, answer.text
        record = rig.controller.units().oscp.get(SOURCE)
        assert (record.heartbeat_interval_s, record.measurement_configuration) == (30, ())
        # a configuration the peer does send is read as sent
        sent = {"heartbeat_interval": 30, "measurement_configuration": ["CONTINUOUS"]}
        answer = rig.post("handshake", {"required_behaviour": sent}, token=token)
        assert answer.status_code == 204, answer.text
        record = rig.controller.units().oscp.get(SOURCE)
        assert record.measurement_configuration == ("CONTINUOUS",)


def test_without_the_quirk_a_behaviour_without_measurement_configuration_is_refused(
    tmp_path: Path,
) -> None:
    acknowledgement = {"required_behaviour": {"heartbeat_interval": 30}}
    with oscp_rig(tmp_path) as rig:
        token = rig.register()
        answer = rig.post("handshake_acknowledge", acknowledgement, token=token)
        assert answer.status_code == 400
        assert "required_behaviour.measurement_configuration" in answer.json()["message"]
        assert rig.controller.units().oscp.get(SOURCE).heartbeat_interval_s is None
