"""The demo's copy of a site: the chargers' passwords in one environment variable the
demo sets, each OSCP envelope source's Capacity Provider on a free loopback port (the
demo's ``sim derms``) with an initial token in a variable of its own, shared tariff and
carbon files referenced by absolute path."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from depotctl.domain.planning import PlannerSettings
from depotctl.domain.policy import Policy
from depotctl.domain.refusal import Refusal
from depotctl.domain.topology import Topology

#: the variable every charger of the demo's site reads its OCPP password from
PASSWORD_ENV = "DEPOTCTL_DEMO_OCPP_PASSWORD"
#: the initial token of the site's n-th OSCP source (from 1) is in this variable + n
OSCP_TOKEN_ENV = "DEPOTCTL_DEMO_OSCP_TOKEN_"

SITES_DIR = Path(__file__).resolve().parents[2] / "sites"
DEFAULT_SITE = "au-bus-depot"


class SiteError(Refusal):
    """A site the demo cannot run, with one line saying why; ``exit_code`` 1 for an
    invalid site, 2 for an unknown name, 3 for a file that cannot be read."""


@dataclass(frozen=True, slots=True)
class OscpPeer:
    """An OSCP envelope source of the demo's copy: where its simulated Capacity
    Provider listens (the ``base_url`` the copy declares) and the variable holding its
    initial token."""

    source: str
    port: int
    token_env: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oscp/cp/2.0"


@dataclass(frozen=True, slots=True)
class DemoSite:
    """The copy the demo runs, and the topology it compiles to."""

    source: Path
    path: Path
    topology: Topology
    chargers_rewritten: int
    #: the site's OSCP sources, by id, in the order the site declares them
    oscp: dict[str, OscpPeer]
    policy: Policy = field(default_factory=Policy)
    planner: PlannerSettings = field(default_factory=PlannerSettings)


def bundled_names() -> list[str]:
    """The bundled sites' names (``sites/*.yaml``)."""
    return sorted(p.stem for p in SITES_DIR.glob("*.yaml"))


def resolve_site(name: str | None) -> Path:
    """A bundled site by name, or a path to a site file."""
    if name is None:
        name = DEFAULT_SITE
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise SiteError(f"no site file {name}", 2)
        return candidate.resolve()
    bundled = SITES_DIR / f"{name}.yaml"
    if not bundled.is_file():
        names = ", ".join(bundled_names())
        raise SiteError(f"no bundled site {name!r} (bundled: {names}; or give a path)", 2)
    return bundled


def prepare_site(source: Path, target_dir: Path) -> DemoSite:
    """Write the demo's copy of ``source`` into ``target_dir`` and compile it."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    try:
        document: Any = yaml.load(source.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise SiteError(f"cannot read {source}: {error.strerror or error}", 3) from None
    except Exception as error:
        raise SiteError(f"{source} is not valid YAML: {error}", 1) from None
    spec = document.get("spec") if isinstance(document, dict) else None
    if not isinstance(spec, dict):
        raise SiteError(f"{source} is not a site file (no spec)", 1)
    rewritten = 0
    for node in spec.get("nodes") or []:
        ocpp = node.get("ocpp") if isinstance(node, dict) else None
        if isinstance(ocpp, dict):
            ocpp.pop("password_file", None)
            ocpp["password_env"] = PASSWORD_ENV
            rewritten += 1
    peers = _point_oscp_sources(spec.get("envelope_sources") or [])
    base = source.parent
    tariff = spec.get("tariff")
    if isinstance(tariff, dict) and isinstance(tariff.get("ref"), str):
        tariff["ref"] = str((base / tariff["ref"]).resolve())
    carbon = spec.get("carbon")
    if isinstance(carbon, dict):
        for key in ("profile", "series"):
            if isinstance(carbon.get(key), str):
                carbon[key] = str((base / carbon[key]).resolve())
    target = target_dir / source.name
    out = io.StringIO()
    yaml.dump(document, out)
    target.write_text(out.getvalue(), encoding="utf-8")
    return _compile(source, target, rewritten, peers)


def add_vehicles(path: Path, fleet: Iterable[tuple[str, str]]) -> None:
    """List ``fleet``'s vehicles (id, idTag) in the copy at ``path`` (``spec.vehicles``),
    so that the sessions of the demo's simulated fleet name their vehicles."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    document: Any = yaml.load(path.read_text(encoding="utf-8"))
    document["spec"]["vehicles"] = [
        {"id": vehicle, "id_tags": [id_tag]} for vehicle, id_tag in fleet
    ]
    out = io.StringIO()
    yaml.dump(document, out)
    path.write_text(out.getvalue(), encoding="utf-8")


def _free_port() -> int:
    """A loopback port free now (the provider binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _point_oscp_sources(sources: list[Any]) -> dict[str, OscpPeer]:
    """Point each OSCP source's ``base_url`` at a free loopback port and its initial
    token at a demo variable (the site's own names a DNSP and secrets this machine
    lacks)."""
    peers: dict[str, OscpPeer] = {}
    for entry in sources:
        if not isinstance(entry, dict) or entry.get("protocol") != "oscp":
            continue
        oscp = entry.get("oscp")
        if not isinstance(oscp, dict):
            continue
        peer = OscpPeer(str(entry["id"]), _free_port(), f"{OSCP_TOKEN_ENV}{len(peers) + 1}")
        oscp["base_url"] = peer.base_url
        oscp.pop("token_file", None)
        oscp["token_env"] = peer.token_env
        peers[peer.source] = peer
    return peers


def _compile(source: Path, path: Path, rewritten: int, peers: dict[str, OscpPeer]) -> DemoSite:
    from depotctl.config import (
        Severity,
        Site,
        compile_planner,
        compile_site,
        load_file,
        validate_file,
    )

    report = validate_file(path)
    if report.errors:
        first = next(d for d in report.diagnostics if d.severity is Severity.ERROR)
        raise SiteError(
            f"{source} is not a valid site: {first.message} [{first.rule}]; "
            f"run depotctl validate {source}",
            1,
        )
    site = next(d.model for d in load_file(path).documents if isinstance(d.model, Site))
    topology, policy = compile_site(site, path.parent)
    return DemoSite(source, path, topology, rewritten, peers, policy, compile_planner(site))
