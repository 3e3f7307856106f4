"""``serve``'s flags, parsed: what the CLI hands the controller process (standard
library only, so that a usage error costs no server imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from depotctl.controller.log_lines import LogFormat
from depotctl.controller.retention import Retention


@dataclass(frozen=True, slots=True)
class Settings:
    """``serve``'s flags, parsed."""

    state_dir: Path
    site_file: Path | None
    listen: tuple[str, int]
    ocpp_listen: tuple[str, int]
    clock: str
    speed: float
    tick_s: float
    #: decide and journal, command no charger
    shadow: bool = False
    log_format: LogFormat = LogFormat.JSON
    #: simulation: every charger's password from this variable, not the site's
    charger_password_env: str | None = None
    #: the OSCP listener, while the site declares an OSCP source
    oscp_listen: tuple[str, int] = ("127.0.0.1", 9100)
    #: the base URL announced at OSCP ``register`` (default: the listener's own)
    oscp_base_url: str | None = None
    #: how long the store keeps each kind of history (--keep-*)
    retention: Retention = field(default_factory=Retention)
