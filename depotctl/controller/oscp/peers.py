"""The OSCP sources of the site in force, as the controller talks to them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from depotctl.config import OscpQuirks, Site
from depotctl.domain.charge_points import PasswordRef
from depotctl.protocols.oscp.quirks import ACKNOWLEDGE_PATH, NO_QUIRKS, PeerQuirks


@dataclass(frozen=True, slots=True)
class OscpPeer:
    """One OSCP envelope source: its Capacity Provider's base URL (where this
    controller registers, until the peer names its own), the group the site is in
    there, where the initial token is kept, how often the controller asks the peer to
    send heartbeats, the nodes its envelopes limit, and the peer's quirks."""

    source: str
    base_url: str
    group_id: str
    initial_token: PasswordRef
    heartbeat_interval_s: float | None
    offline_after_s: float | None
    targets: tuple[str, ...]
    quirks: PeerQuirks = NO_QUIRKS


def oscp_peers(
    site: Site, base_dir: Path, targets: dict[str, tuple[str, ...]]
) -> dict[str, OscpPeer]:
    """The site's OSCP sources by id (``targets``: each source's nodes, from the
    compiled topology); a relative ``token_file`` resolves against ``base_dir``."""
    peers: dict[str, OscpPeer] = {}
    for source in site.spec.envelope_sources:
        settings = source.oscp
        if source.protocol != "oscp" or settings is None:
            continue
        token_file = Path(settings.token_file) if settings.token_file else None
        if token_file is not None and not token_file.is_absolute():
            token_file = base_dir / token_file
        peers[source.id] = OscpPeer(
            source=source.id,
            base_url=settings.base_url,
            group_id=settings.group_id,
            initial_token=PasswordRef(env=settings.token_env, file=token_file),
            heartbeat_interval_s=(
                source.heartbeat_interval.seconds if source.heartbeat_interval else None
            ),
            offline_after_s=source.offline_after.seconds if source.offline_after else None,
            targets=targets.get(source.id, ()),
            quirks=_quirks(settings.quirks),
        )
    return peers


def _quirks(declared: OscpQuirks | None) -> PeerQuirks:
    if declared is None:
        return NO_QUIRKS
    return PeerQuirks(
        acknowledge_path=declared.acknowledge_path or ACKNOWLEDGE_PATH,
        naive_zone=ZoneInfo(declared.naive_times_in) if declared.naive_times_in else None,
        trailing_slash=declared.trailing_slash,
        omits_measurement_configuration=declared.omits_measurement_configuration,
    )
