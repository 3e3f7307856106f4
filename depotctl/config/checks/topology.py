"""The tree's shape: one parent each, known parents, no cycles, unique ids, every
charger under a grid connection, EVSE, connector and OCPP ids unique."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from depotctl.config.checks.context import SiteContext, describe, site_check
from depotctl.config.rules import Finding, error
from depotctl.config.schema import ALLOWED_PARENTS, GridConnection

DUPLICATE_ID = error(
    "topology/duplicate-id",
    "two nodes (or meters, or envelope sources) share an id",
    "give each node its own id; ids are unique per site",
)
UNKNOWN_PARENT = error(
    "topology/unknown-parent",
    "a node names a parent that does not exist",
    "fix the parent's id or add the parent node",
)
MISSING_PARENT = error(
    "topology/missing-parent",
    "a node other than a grid connection has no parent",
    "add parent: with the id of the node that feeds it",
)
INVALID_PARENT = error(
    "topology/invalid-parent",
    "a node fed from a node type that cannot feed it (a charger under a charger)",
    "move it under a grid connection, transformer, circuit or charger group",
)
CYCLE = error(
    "topology/cycle",
    "parents that form a loop, so the nodes have no path to a grid connection",
    "break the loop: one of these nodes must be fed from outside it",
)
NO_GRID_CONNECTION = error(
    "topology/no-grid-connection",
    "a site without a grid connection",
    "add a node with type: grid_connection at the root of the tree",
)
DUPLICATE_EVSE = error(
    "topology/duplicate-evse",
    "an EVSE id repeated within its charger",
    "number a charger's EVSEs 1, 2, …",
)
DUPLICATE_CONNECTOR = error(
    "topology/duplicate-connector",
    "a connector id repeated within its EVSE",
    "number an EVSE's connectors 1, 2, …",
)
DUPLICATE_OCPP_ID = error(
    "topology/duplicate-ocpp-id",
    "two chargers share an OCPP identity",
    "each charger connects with its own charge point id",
)


@site_check
def unique_ids(ctx: SiteContext) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for i, node in enumerate(ctx.node_list):
        if node.id in first:
            yield DUPLICATE_ID.at(
                ("spec", "nodes", i, "id"),
                f'node id "{node.id}" is already used by the node at spec.nodes[{first[node.id]}]',
            )
        else:
            first[node.id] = i
    for section in ("meters", "envelope_sources"):
        seen: set[str] = set()
        for i, item in enumerate(getattr(ctx.site.spec, section)):
            if item.id in seen:
                yield DUPLICATE_ID.at(
                    ("spec", section, i, "id"),
                    f'{section[:-1].replace("_", " ")} id "{item.id}" is used twice',
                )
            seen.add(item.id)


@site_check
def parents(ctx: SiteContext) -> Iterator[Finding]:
    if not any(isinstance(node, GridConnection) for node in ctx.node_list):
        yield NO_GRID_CONNECTION.at(("spec", "nodes"), "the site has no grid connection")
    for i, node in enumerate(ctx.node_list):
        allowed = ALLOWED_PARENTS[node.type]
        if node.parent is None:
            if allowed:
                yield MISSING_PARENT.at(
                    ("spec", "nodes", i),
                    f"{describe(node)} has no parent, so it is outside every grid connection",
                )
            continue
        if not allowed:
            yield INVALID_PARENT.at(
                ("spec", "nodes", i, "parent"),
                f"{describe(node)} cannot have a parent: a grid connection is the root of its tree",
                "remove parent:, or use type: circuit or transformer for a sub-supply",
            )
            continue
        parent = ctx.nodes.get(node.parent)
        if parent is None:
            yield UNKNOWN_PARENT.at(
                ("spec", "nodes", i, "parent"),
                f'{describe(node)} names parent "{node.parent}", which is not a node of this site',
                _suggest(node.parent, ctx.nodes),
            )
        elif parent.type not in allowed:
            yield INVALID_PARENT.at(
                ("spec", "nodes", i, "parent"),
                f"{describe(node)} cannot be fed from {describe(parent)}",
                f"a {node.type} may be under: {', '.join(allowed)}",
            )


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return f'did you mean "{close[0]}"?'
    return UNKNOWN_PARENT.hint


@site_check
def cycles(ctx: SiteContext) -> Iterator[Finding]:
    reported: set[str] = set()
    for node in ctx.node_list:
        if node.id in reported:
            continue
        trail: list[str] = []
        current = node
        while current.parent is not None and current.parent in ctx.nodes:
            trail.append(current.id)
            if current.parent in trail:
                loop = trail[trail.index(current.parent) :]
                if not reported.intersection(loop):
                    reported.update(loop)
                    start = ctx.nodes[loop[0]]
                    yield CYCLE.at(
                        ctx.path(start, "parent"),
                        "parents form a loop: " + " → ".join([*loop, loop[0]]),
                    )
                break
            current = ctx.nodes[current.parent]


@site_check
def charger_ids(ctx: SiteContext) -> Iterator[Finding]:
    ocpp_ids: dict[str, str] = {}
    for charger in ctx.chargers:
        index = ctx.index[charger.id]
        if ctx.node_list[index] is not charger:
            continue  # a duplicate node id: reported once, by unique_ids
        evse_ids: set[int] = set()
        for e, evse in enumerate(charger.evses):
            if evse.id in evse_ids:
                yield DUPLICATE_EVSE.at(
                    ctx.path(charger, "evses", e, "id"),
                    f'{describe(charger)} has two EVSEs with id {evse.id} ("{charger.id}/{evse.id}")',
                )
            evse_ids.add(evse.id)
            connector_ids: set[int] = set()
            for c, connector in enumerate(evse.connectors):
                if connector.id in connector_ids:
                    yield DUPLICATE_CONNECTOR.at(
                        ctx.path(charger, "evses", e, "connectors", c, "id"),
                        f'EVSE "{charger.id}/{evse.id}" has two connectors with id {connector.id}',
                    )
                connector_ids.add(connector.id)
        other = ocpp_ids.get(charger.ocpp.id)
        if other is not None:
            yield DUPLICATE_OCPP_ID.at(
                ctx.path(charger, "ocpp", "id"),
                f'{describe(charger)} uses OCPP id "{charger.ocpp.id}", already used by charger "{other}"',
            )
        else:
            ocpp_ids[charger.ocpp.id] = charger.id
