"""Safety: every charger has a fallback limit and referenced OCPP credentials."""

from __future__ import annotations

import re
from collections.abc import Iterator

from depotctl.config.checks.context import SiteContext, describe, site_check
from depotctl.config.rules import Finding, error
from depotctl.config.schema import Charger

MISSING_FALLBACK = error(
    "safety/missing-fallback",
    "a charger without a fallback limit: a controller failure would leave it unlimited",
    "add fallback: with what it may draw while the controller is gone, e.g. fallback: 16 A",
)
MISSING_CREDENTIALS = error(
    "safety/missing-credentials",
    "a charger whose OCPP settings reference no password (password_env or password_file)",
    "add password_env: (an environment variable) or password_file: to its ocpp settings",
)


@site_check
def fallbacks(ctx: SiteContext) -> Iterator[Finding]:
    for i, charger in enumerate(ctx.node_list):
        if isinstance(charger, Charger) and charger.fallback is None:
            yield MISSING_FALLBACK.at(
                ("spec", "nodes", i),
                f"{describe(charger)} has no fallback: if the controller is lost it charges as "
                "if there were no limit (OCPP 1.6 §3.13.6: a charger without charging profiles "
                "runs unconstrained)",
            )


@site_check
def credentials(ctx: SiteContext) -> Iterator[Finding]:
    for i, charger in enumerate(ctx.node_list):
        if not isinstance(charger, Charger):
            continue
        ocpp = charger.ocpp
        if ocpp.password_env is None and ocpp.password_file is None and ocpp.password is None:
            # an inline password is secrets/inline-secret's to report
            yield MISSING_CREDENTIALS.at(
                ("spec", "nodes", i, "ocpp"),
                f"{describe(charger)} references no OCPP password, so the controller cannot "
                f'tell the real "{ocpp.id}" from anything that claims its id',
                f"add password_env: {password_variable(ocpp.id)} (or password_file:) to its "
                "ocpp settings; the password itself never goes in the site file",
            )


def password_variable(ocpp_id: str) -> str:
    """A conventional environment variable for a charger's password: ``CP-01`` →
    ``CP_01_PASSWORD``."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", ocpp_id).strip("_").upper() or "CHARGER"
    if stem[0].isdigit():
        stem = f"CP_{stem}"
    return f"{stem}_PASSWORD"
