"""Envelope sources: known sources, a fallback each, settings for their protocol, timing
that can tell when a source is offline, and credentials referenced.

``offline_after`` must be *longer* than ``heartbeat_interval``: when they are equal, a
heartbeat that arrives a moment late already counts as offline, so equal is an error too.
"""

from __future__ import annotations

from collections.abc import Iterator

from depotctl.config.checks.context import SiteContext, closest, describe, site_check
from depotctl.config.checks.site import likely_zone, zone
from depotctl.config.rules import Finding, Path, error, warning
from depotctl.config.schema import EnvelopeSource, GridConnection

#: Protocols that need a settings block named after them.
PROTOCOL_BLOCKS = ("oscp",)

UNKNOWN_SOURCE = error(
    "envelope/unknown-source",
    "a node names an envelope source that does not exist",
    "fix the id, or add the source under spec.envelope_sources",
)
MISSING_FALLBACK = error(
    "envelope/missing-fallback",
    "an envelope source without a fallback limit: offline, it would leave its nodes unlimited",
    "add fallback: {import: …}, the limit that holds while the source is offline "
    "and sent no fallback of its own (as agreed with the grid operator)",
)
OFFLINE_BEFORE_HEARTBEAT = error(
    "envelope/offline-before-heartbeat",
    "offline_after not longer than heartbeat_interval: the source flaps offline between heartbeats",
    "set offline_after to a few heartbeats, e.g. 5 min for a 60 s heartbeat",
)
MISSING_PROTOCOL_SETTINGS = error(
    "envelope/missing-protocol-settings",
    "a source without the settings block of its protocol (oscp: for protocol: oscp), "
    "or with the block of another protocol",
    "add an oscp: block with base_url, group_id and token_env",
)
MISSING_TIMING = error(
    "envelope/missing-timing",
    "an oscp source without heartbeat_interval or offline_after: "
    "it could never be known to be offline",
    "add heartbeat_interval and offline_after as agreed with the provider, e.g. 60 s and 5 min",
)
MISSING_CREDENTIALS = error(
    "envelope/missing-credentials",
    "an oscp source without token_env or token_file",
    "add token_env: NAME (an environment variable holding the token) or token_file: PATH",
)
INVALID_QUIRK_ZONE = error(
    "envelope/invalid-quirk-zone",
    "an oscp source's naive_times_in quirk is not an IANA time zone",
    "name the zone the provider's naive datetimes are in, e.g. Europe/Berlin",
)
UNUSED_SOURCE = warning(
    "envelope/unused-source",
    "an envelope source that no node names: its envelopes would limit nothing",
    "add envelope_source: ID to the node it limits (usually the grid connection), "
    "or remove the source",
)


def _where(i: int, *rest: str) -> Path:
    return ("spec", "envelope_sources", i, *rest)


def _sources(ctx: SiteContext) -> Iterator[tuple[int, EnvelopeSource]]:
    """Each source with its position; a repeated id (topology/duplicate-id) only once."""
    seen: set[str] = set()
    for i, source in enumerate(ctx.site.spec.envelope_sources):
        if source.id not in seen:
            seen.add(source.id)
            yield i, source


@site_check
def source_references(ctx: SiteContext) -> Iterator[Finding]:
    known = {source.id for source in ctx.site.spec.envelope_sources}
    named: set[str] = set()
    for i, node in enumerate(ctx.node_list):
        name = getattr(node, "envelope_source", None)
        if name is None:
            continue
        named.add(name)
        if name not in known:
            guess = closest(name, known)
            yield UNKNOWN_SOURCE.at(
                ("spec", "nodes", i, "envelope_source"),
                f'{describe(node)} names envelope source "{name}", '
                "which is not in spec.envelope_sources",
                f'did you mean "{guess}"?' if guess else None,
            )
    roots = [node.id for node in ctx.node_list if isinstance(node, GridConnection)]
    for i, source in _sources(ctx):
        if source.id not in named:
            target = f'grid connection "{roots[0]}"' if len(roots) == 1 else "the grid connection"
            yield UNUSED_SOURCE.at(
                _where(i, "id"),
                f'envelope source "{source.id}" is named by no node, '
                "so its envelopes limit nothing",
                f"add envelope_source: {source.id} to the node it limits (usually {target}), "
                "or remove the source",
            )


@site_check
def fallbacks(ctx: SiteContext) -> Iterator[Finding]:
    for i, source in _sources(ctx):
        if source.fallback is None:
            yield MISSING_FALLBACK.at(
                _where(i),
                f'envelope source "{source.id}" has no fallback: while it is offline, '
                "its nodes would have no envelope at all",
            )
        elif all(
            limit is None
            for limit in (source.fallback.import_, source.fallback.export, source.fallback.current)
        ):
            yield MISSING_FALLBACK.at(
                _where(i, "fallback"),
                f'the fallback of envelope source "{source.id}" sets no limit',
            )


@site_check
def protocol_settings(ctx: SiteContext) -> Iterator[Finding]:
    for i, source in _sources(ctx):
        for block in PROTOCOL_BLOCKS:
            present = getattr(source, block) is not None
            if source.protocol == block and not present:
                yield MISSING_PROTOCOL_SETTINGS.at(
                    _where(i, "protocol"),
                    f'envelope source "{source.id}" uses protocol {block} '
                    f"but has no {block}: block",
                )
            elif source.protocol != block and present:
                yield MISSING_PROTOCOL_SETTINGS.at(
                    _where(i, block),
                    f'envelope source "{source.id}" has an {block}: block but uses protocol '
                    f"{source.protocol}",
                    f"set protocol: {block}, or remove the {block}: block",
                    at_key=True,
                )


@site_check
def timing(ctx: SiteContext) -> Iterator[Finding]:
    for i, source in _sources(ctx):
        heartbeat, offline = source.heartbeat_interval, source.offline_after
        if source.protocol == "oscp" and (heartbeat is None or offline is None):
            missing = [
                name
                for name, value in (("heartbeat_interval", heartbeat), ("offline_after", offline))
                if value is None
            ]
            yield MISSING_TIMING.at(
                _where(i),
                f'oscp source "{source.id}" has no {" or ".join(missing)}, '
                "so depotctl could never tell that it went offline",
            )
        if heartbeat is not None and offline is not None and offline <= heartbeat:
            if offline == heartbeat:
                relation, effect = "equal to", "a heartbeat a moment late"
            else:
                relation, effect = "shorter than", "the silence between any two heartbeats"
            yield OFFLINE_BEFORE_HEARTBEAT.at(
                _where(i, "offline_after"),
                f'envelope source "{source.id}" goes offline after {offline}, {relation} its '
                f"heartbeat interval of {heartbeat}: {effect} would switch it to its fallback",
                f"set offline_after to a few heartbeats, e.g. {_suggested_offline(heartbeat.base)}",
            )


def _suggested_offline(heartbeat_seconds: float) -> str:
    seconds = 5 * heartbeat_seconds
    if seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


@site_check
def credentials(ctx: SiteContext) -> Iterator[Finding]:
    for i, source in _sources(ctx):
        oscp = source.oscp
        if source.protocol != "oscp" or oscp is None:
            continue
        if oscp.token is not None:
            continue  # a token is there, written inline: secrets/inline-secret says so
        if oscp.token_env is None and oscp.token_file is None:
            yield MISSING_CREDENTIALS.at(
                _where(i, "oscp"),
                f'oscp source "{source.id}" has no token_env or token_file: it cannot authenticate '
                "to the provider",
            )


@site_check
def quirk_zones(ctx: SiteContext) -> Iterator[Finding]:
    for i, source in _sources(ctx):
        quirks = source.oscp.quirks if source.oscp is not None else None
        name = quirks.naive_times_in if quirks is not None else None
        if name is not None and zone(name) is None:
            guess = likely_zone(name)
            yield INVALID_QUIRK_ZONE.at(
                _where(i, "oscp", "quirks", "naive_times_in"),
                f'oscp source "{source.id}": naive_times_in "{name}" is not an IANA time zone',
                f'did you mean "{guess}"?' if guess else None,
            )
