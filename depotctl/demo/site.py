"""The demo's copy of a site: the chargers' passwords in one environment variable the
demo sets, shared tariff and carbon files referenced by absolute path."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from depotctl.domain.refusal import Refusal
from depotctl.domain.topology import Topology

#: the variable every charger of the demo's site reads its OCPP password from
PASSWORD_ENV = "DEPOTCTL_DEMO_OCPP_PASSWORD"

SITES_DIR = Path(__file__).resolve().parents[2] / "sites"
DEFAULT_SITE = "au-bus-depot"


class SiteError(Refusal):
    """A site the demo cannot run, with one line saying why; ``exit_code`` 1 for an
    invalid site, 2 for an unknown name, 3 for a file that cannot be read."""


@dataclass(frozen=True, slots=True)
class DemoSite:
    """The copy the demo runs, and the topology it compiles to."""

    source: Path
    path: Path
    topology: Topology
    chargers_rewritten: int


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
    return _compile(source, target, rewritten)


def _compile(source: Path, path: Path, rewritten: int) -> DemoSite:
    from depotctl.config import Severity, Site, compile_site, load_file, validate_file

    report = validate_file(path)
    if report.errors:
        first = next(d for d in report.diagnostics if d.severity is Severity.ERROR)
        raise SiteError(
            f"{source} is not a valid site: {first.message} [{first.rule}]; "
            f"run depotctl validate {source}",
            1,
        )
    site = next(d.model for d in load_file(path).documents if isinstance(d.model, Site))
    topology, _ = compile_site(site, path.parent)
    return DemoSite(source, path, topology, rewritten)
