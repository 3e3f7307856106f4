"""Secrets: never written inline in a site file (OCPP passwords, OSCP tokens).

A site file goes into git; a secret in it is leaked to everyone who can read the
repository, for ever. Messages never repeat the secret's value, and point at its key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from depotctl.config.checks.context import SiteContext, describe, site_check
from depotctl.config.diagnostics import Severity
from depotctl.config.rules import Finding, rule
from depotctl.config.schema import Charger

INLINE_SECRET = rule(
    "secrets/inline-secret",
    Severity.ERROR,
    "a password or token written in the site file instead of referenced",
    "reference it with password_env / password_file (token_env / token_file), and rotate it: "
    "it may already be in git history",
)


def _env_name(identity: str, suffix: str) -> str:
    """An environment variable name for a secret of ``identity``: ``CP-01`` → ``CP_01_PASSWORD``."""
    stem = re.sub(r"[^A-Z0-9]+", "_", identity.upper()).strip("_") or "DEPOTCTL"
    if stem[0].isdigit():
        stem = f"_{stem}"
    return f"{stem}_{suffix}"


@site_check
def inline_secrets(ctx: SiteContext) -> Iterator[Finding]:
    for i, node in enumerate(ctx.node_list):
        if isinstance(node, Charger) and node.ocpp.password is not None:
            yield INLINE_SECRET.at(
                ("spec", "nodes", i, "ocpp", "password"),
                f"{describe(node)} has its OCPP password written in the site file",
                f"put it in an environment variable and write "
                f"password_env: {_env_name(node.ocpp.id, 'PASSWORD')} (or password_file: PATH); "
                "then change the password on the charger: it may already be in git history",
                at_key=True,
            )
    for i, source in enumerate(ctx.site.spec.envelope_sources):
        if source.oscp is not None and source.oscp.token is not None:
            yield INLINE_SECRET.at(
                ("spec", "envelope_sources", i, "oscp", "token"),
                f'envelope source "{source.id}" has its OSCP token written in the site file',
                f"put it in an environment variable and write "
                f"token_env: {_env_name(source.id, 'OSCP_TOKEN')} (or token_file: PATH); "
                "then ask the provider for a new token: it may already be in git history",
                at_key=True,
            )
