"""Electrical consistency: phases, child limits, fallback and minimum-current sums,
site-load fallback.

How loads are counted is :mod:`depotctl.config.checks.loading`'s business. Here:

- a node's ``current`` limit is per phase; ``import``/``export`` are totals;
- a transformer's own limits are on its primary side, where
  :meth:`SiteContext.voltage_of` puts it;
- a transformer's kVA rating is compared with kW as if the power factor were 1.
"""

from __future__ import annotations

from collections.abc import Iterator

from depotctl.config.checks.context import SiteContext, describe, site_check
from depotctl.config.checks.loading import (
    Load,
    amps_per_line,
    exceeds,
    phase_currents,
    phases_of_load,
    rotation_of,
    watts,
    worst_phase,
)
from depotctl.config.rules import Finding, Path, error, warning
from depotctl.config.schema import (
    Charger,
    Generation,
    GridConnection,
    Node,
    SiteLoad,
    Storage,
    Transformer,
)
from depotctl.config.schema.nodes import ElectricalNode
from depotctl.domain import Current, Phase, PhaseConnection, Power, format_number

PHASE_MISMATCH = error(
    "electrical/phase-mismatch",
    "a 3-phase charger or node (or a line-to-line load) fed from a single-phase node",
    "feed it from a node with enough phases, or correct its phases:",
)
MISSING_PHASE_ROTATION = warning(
    "electrical/missing-phase-rotation",
    "a single-phase charger under a 3-phase node without phase_rotation "
    "(its load is then assumed on every phase)",
    "add phase_rotation: L1, L2 or L3 (line-to-neutral), or L1-L2, L2-L3 or L3-L1 (line-to-line)",
)
INVALID_PHASE_ROTATION = error(
    "electrical/invalid-phase-rotation",
    "a phase_rotation that does not fit the load's phases, or names a phase its supply lacks",
    "name one phase (L2) or two (L1-L2) for a single-phase load, "
    "all three (L2-L3-L1) for a 3-phase one",
)
CHILD_EXCEEDS_PARENT = warning(
    "electrical/child-exceeds-parent",
    "a node's limit above its parent's; it can never be reached",
    "lower the child's limit to its parent's, or raise the parent's",
)
FALLBACK_EXCEEDS_LIMIT = error(
    "electrical/fallback-exceeds-limit",
    "the chargers' fallbacks under a node add up to more than its limit "
    "(a controller failure would overload it)",
    "lower the chargers' fallbacks until their sum fits the node's limit",
)
MIN_CURRENT_EXCEEDS_LIMIT = warning(
    "electrical/min-current-exceeds-limit",
    "the minimum currents of the AC EVSEs under a node add up to more than its current limit",
    "not every vehicle can charge at once; raise the node's limit if they must",
)
SITE_LOAD_FALLBACK_EXCEEDS_LIMIT = error(
    "electrical/site-load-fallback-exceeds-limit",
    "a site load whose fallback alone is above its grid connection's limit",
    "lower the site load's fallback to what it can really draw",
)
FALLBACK_EXCEEDS_RATING = error(
    "electrical/fallback-exceeds-rating",
    "a charger's fallback above its own rating",
    "lower the fallback to at most the charger's rating, or correct the rating",
)


def _amps(value: float) -> str:
    return f"{format_number(round(value, 2))} A"


def _kw(value_watts: float) -> str:
    return f"{format_number(round(value_watts / 1e3, 2))} kW"


def _node_path(index: int, *rest: str | int) -> Path:
    return ("spec", "nodes", index, *rest)


def _on_phase(ctx: SiteContext, node: Node, phase: Phase) -> str:
    return "" if ctx.phases_of(node) == 1 else f" on {phase}"


# --- phases ---------------------------------------------------------------------------


@site_check
def phase_wiring(ctx: SiteContext) -> Iterator[Finding]:
    for i, node in enumerate(ctx.node_list):
        parent = ctx.nodes.get(node.parent) if node.parent is not None else None
        if parent is None:
            continue
        if isinstance(node, Charger | SiteLoad | Storage | Generation):
            yield from _load_wiring(ctx, i, node, parent)
        elif isinstance(node, ElectricalNode) and node.phases == 3 and ctx.phases_of(parent) == 1:
            yield PHASE_MISMATCH.at(
                _node_path(i, "phases"),
                f"{describe(node)} is 3-phase, but its parent {describe(parent)} is single-phase",
                f"set phases: 1 on {node.id}, or make {parent.id} 3-phase",
            )


def _load_wiring(ctx: SiteContext, i: int, load: Load, parent: Node) -> Iterator[Finding]:
    rotation = rotation_of(load)
    phases = phases_of_load(ctx, load)
    if rotation is not None and load.phases == 3 and not rotation.is_three_phase:
        yield INVALID_PHASE_ROTATION.at(
            _node_path(i, "phase_rotation"),
            f'{describe(load)} is 3-phase, but its phase_rotation "{rotation}" '
            "does not name all three phases",
            "a 3-phase rotation names the site phase of each of its phases, like L1-L2-L3 or "
            "L2-L3-L1; or set phases: 1 if it is a single-phase model",
        )
    elif rotation is not None and load.phases == 1 and rotation.is_three_phase:
        yield INVALID_PHASE_ROTATION.at(
            _node_path(i, "phase_rotation"),
            f'{describe(load)} is single-phase, but its phase_rotation "{rotation}" '
            "names three phases",
            "name the phase it is wired to (L1, L2, L3), or the pair for line-to-line "
            "(L1-L2, L2-L3, L3-L1); or set phases: 3",
        )
    if ctx.phases_of(parent) == 1:
        yield from _on_single_phase(ctx, i, load, parent, phases, rotation)
    elif phases == 1 and rotation is None and isinstance(load, Charger):
        yield MISSING_PHASE_ROTATION.at(
            _node_path(i, "phases"),
            f"{describe(load)} is single-phase, but {describe(parent)} is 3-phase and no "
            "phase_rotation says which phase it draws from; its load is assumed on every phase",
        )


def _on_single_phase(
    ctx: SiteContext,
    i: int,
    load: Load,
    parent: Node,
    phases: int,
    rotation: PhaseConnection | None,
) -> Iterator[Finding]:
    if phases == 3:
        field = "phases" if load.phases == 3 else "phase_rotation"
        yield PHASE_MISMATCH.at(
            _node_path(i, field),
            f"{describe(load)} is 3-phase, but it is fed from {describe(parent)}, "
            "which is single-phase",
            f"feed {load.id} from a 3-phase node, or set phases: 1 if it is wired single-phase",
        )
    elif rotation is not None and rotation.is_line_to_line:
        yield PHASE_MISMATCH.at(
            _node_path(i, "phase_rotation"),
            f'{describe(load)} is wired line-to-line ("{rotation}"), but it is fed from '
            f"{describe(parent)}, which is single-phase",
            f"remove phase_rotation (on a single-phase supply it is line-to-neutral), "
            f"or feed {load.id} from a node with two or three phases",
        )
    elif rotation is not None and not rotation.lines <= _single_phase_lines(ctx, parent):
        yield INVALID_PHASE_ROTATION.at(
            _node_path(i, "phase_rotation"),
            f"{describe(load)} names phase {rotation}, but {describe(parent)} is on a "
            "single-phase supply, which has only L1",
            "remove phase_rotation (a single-phase supply has one phase), or write L1",
        )


def _single_phase_lines(ctx: SiteContext, node: Node) -> frozenset[Phase]:
    """The phases a single-phase node may be on: L1 when the whole supply is
    single-phase; any phase when it branches off a 3-phase node (which one is not
    recorded)."""
    if any(ctx.phases_of(ancestor) == 3 for ancestor in ctx.ancestors(node)):
        return frozenset(Phase)
    return frozenset({Phase.L1})


# --- a child's limits against its parent's --------------------------------------------

#: limit attribute → its key in the site file
_LIMIT_KEYS = {"current": "current", "import_": "import", "export": "export"}


def nearest_limit(ctx: SiteContext, node: Node, kind: str) -> tuple[Node, Current | Power] | None:
    """The nearest ancestor with a limit of ``kind`` (an attribute of ``Limits``), and
    that limit. Current limits are not looked for across a transformer."""
    for ancestor in ctx.ancestors(node):
        if kind == "current" and isinstance(ancestor, Transformer):
            return None
        limits = ancestor.limits if isinstance(ancestor, ElectricalNode) else None
        limit: Current | Power | None = getattr(limits, kind) if limits is not None else None
        if limit is not None:
            return ancestor, limit
    return None


def _relation(node: Node, ancestor: Node) -> str:
    return "parent" if node.parent == ancestor.id else "ancestor"


@site_check
def child_limits(ctx: SiteContext) -> Iterator[Finding]:
    for i, node in enumerate(ctx.node_list):
        if not isinstance(node, ElectricalNode):
            continue
        for kind, key in _LIMIT_KEYS.items():
            own: Current | Power | None = getattr(node.limits, kind) if node.limits else None
            found = nearest_limit(ctx, node, kind) if own is not None else None
            if own is None or found is None:
                continue
            ancestor, limit = found
            if own.base > limit.base:
                yield CHILD_EXCEEDS_PARENT.at(
                    _node_path(i, "limits", key),
                    f"{describe(node)} {key} limit {own} is above its {_relation(node, ancestor)} "
                    f'"{ancestor.id}" ({limit}); it can never be reached',
                    f"lower {node.id} to {limit} or raise {ancestor.id}",
                )
        if isinstance(node, Transformer):
            above = nearest_limit(ctx, node, "import_")
            if above is not None and node.rating.base > above[1].base:
                ancestor, limit = above
                yield CHILD_EXCEEDS_PARENT.at(
                    _node_path(i, "rating"),
                    f"{describe(node)} rating {node.rating} is above the import limit of its "
                    f'{_relation(node, ancestor)} "{ancestor.id}" ({limit}); it can never be '
                    "reached (taking kVA ≈ kW)",
                    f"{ancestor.id} caps {node.id} at {limit}; check the rating, "
                    f"or raise {ancestor.id}",
                )


# --- fallback and minimum-current sums --------------------------------------------------


def charger_fallbacks(ctx: SiteContext, node: Node) -> list[tuple[Charger, Current | Power]]:
    """Every charger below ``node`` that has a fallback, with it."""
    return [
        (load, load.fallback)
        for load in ctx.descendants(node)
        if isinstance(load, Charger) and load.fallback is not None
    ]


def _chargers(count: int) -> str:
    if count == 1:
        return "the fallback of the 1 charger"
    return f"the fallbacks of the {count} chargers"


@site_check
def fallback_sums(ctx: SiteContext) -> Iterator[Finding]:
    for i, node in enumerate(ctx.node_list):
        if not isinstance(node, ElectricalNode):
            continue
        fallbacks = charger_fallbacks(ctx, node)
        if not fallbacks:
            continue
        below = f"{_chargers(len(fallbacks))} below {describe(node)}"
        limits = node.limits
        if limits is not None and limits.current is not None:
            totals = phase_currents(
                ctx, node, ((c, amps_per_line(ctx, c, fb)) for c, fb in fallbacks)
            )
            phase = worst_phase(totals)
            total, limit = totals[phase], limits.current.amps
            if exceeds(total, limit):
                on = _on_phase(ctx, node, phase)
                yield FALLBACK_EXCEEDS_LIMIT.at(
                    _node_path(i, "limits", "current"),
                    f"{below} come to {_amps(total)}{on}, above its current limit of "
                    f"{limits.current}: a controller failure would overload it",
                    f"lower their fallbacks by {_amps(total - limit)} in total{on}, or raise "
                    f"{node.id}'s current limit to at least {_amps(total)}",
                )
        power = sum(watts(ctx, c, fb) for c, fb in fallbacks)
        import_limit = limits.import_ if limits is not None else None
        if import_limit is not None and exceeds(power, import_limit.base):
            yield FALLBACK_EXCEEDS_LIMIT.at(
                _node_path(i, "limits", "import"),
                f"{below} come to {_kw(power)}, above its import limit of {import_limit}: "
                "a controller failure would overload it",
                f"lower their fallbacks by {_kw(power - import_limit.base)} in total, or raise "
                f"{node.id}'s import limit to at least {_kw(power)}",
            )
        if isinstance(node, Transformer) and exceeds(power, node.rating.base):
            yield FALLBACK_EXCEEDS_LIMIT.at(
                _node_path(i, "rating"),
                f"{below} come to {_kw(power)}, above its rating of {node.rating} (taking "
                "kVA ≈ kW): a controller failure would overload it",
                f"lower their fallbacks by {_kw(power - node.rating.base)} in total, or the "
                "transformer must be larger",
            )


@site_check
def minimum_current_sums(ctx: SiteContext) -> Iterator[Finding]:
    """Each AC EVSE at its charger's ``min_current`` or the policy's, on its charger's
    phases. DC EVSEs are left out: IEC 61851 sets no minimum current for them."""
    policy_minimum = ctx.site.spec.policies.charging.min_current
    for i, node in enumerate(ctx.node_list):
        if not isinstance(node, ElectricalNode) or node.limits is None:
            continue
        limit = node.limits.current
        if limit is None:
            continue
        evses = [
            (load, (load.min_current or policy_minimum).amps)
            for load in ctx.descendants(node)
            if isinstance(load, Charger) and load.supply == "ac"
            for _ in load.evses
        ]
        totals = phase_currents(ctx, node, evses)
        phase = worst_phase(totals)
        if evses and exceeds(totals[phase], limit.amps):
            on = _on_phase(ctx, node, phase)
            yield MIN_CURRENT_EXCEEDS_LIMIT.at(
                _node_path(i, "limits", "current"),
                f"the minimum currents of the {len(evses)} AC EVSEs below {describe(node)} come "
                f"to {_amps(totals[phase])}{on}, above its current limit of {limit}: not every "
                "vehicle can charge at once",
                f"some sessions will have to wait; for all to charge together, "
                f"{node.id} needs at least {_amps(totals[phase])}",
            )


# --- single loads --------------------------------------------------------------------


@site_check
def site_load_fallbacks(ctx: SiteContext) -> Iterator[Finding]:
    for i, load in enumerate(ctx.node_list):
        if not isinstance(load, SiteLoad):
            continue
        grid = next((a for a in ctx.ancestors(load) if isinstance(a, GridConnection)), None)
        if grid is None or grid.limits is None:
            continue
        fallback, limits = load.fallback, grid.limits
        alone = f"{describe(load)} fallback {fallback} alone is above"
        power = watts(ctx, load, fallback)
        if limits.import_ is not None and exceeds(power, limits.import_.base):
            yield SITE_LOAD_FALLBACK_EXCEEDS_LIMIT.at(
                _node_path(i, "fallback"),
                f"{alone} the import limit of {describe(grid)} ({limits.import_})",
                f"lower {load.id}'s fallback to what it can really draw (below {limits.import_}), "
                f"or raise {grid.id}'s import limit",
            )
            continue
        if limits.current is None:
            continue
        totals = phase_currents(ctx, grid, [(load, amps_per_line(ctx, load, fallback))])
        phase = worst_phase(totals)
        if exceeds(totals[phase], limits.current.amps):
            yield SITE_LOAD_FALLBACK_EXCEEDS_LIMIT.at(
                _node_path(i, "fallback"),
                f"{alone} the current limit of {describe(grid)} ({limits.current} per phase): "
                f"it comes to {_amps(totals[phase])}{_on_phase(ctx, grid, phase)} there",
                f"lower {load.id}'s fallback to what it can really draw, or raise "
                f"{grid.id}'s current limit",
            )


@site_check
def fallback_ratings(ctx: SiteContext) -> Iterator[Finding]:
    for i, charger in enumerate(ctx.node_list):
        if not isinstance(charger, Charger) or charger.fallback is None:
            continue
        fallback = charger.fallback
        over = _over_rating(ctx, charger, fallback)
        if over is None:
            continue
        converted, limit = over
        yield FALLBACK_EXCEEDS_RATING.at(
            _node_path(i, "fallback"),
            f"{describe(charger)} fallback {fallback}{converted} is above its own rating "
            f"of {limit}",
            f"lower the fallback to at most {limit}, or correct {charger.id}'s rating",
        )


def _over_rating(
    ctx: SiteContext, charger: Charger, fallback: Current | Power
) -> tuple[str, Current | Power] | None:
    """``(conversion shown, rating)`` when the fallback is above the rating: compared in
    its own unit when the rating has it, else converted at the charger's voltage."""
    rating = charger.rating
    if isinstance(fallback, Current):
        if rating.current is not None:
            return ("", rating.current) if exceeds(fallback.amps, rating.current.amps) else None
        if rating.power is not None:
            power = watts(ctx, charger, fallback)
            over = exceeds(power, rating.power.base)
            return (f" (≈ {_kw(power)})", rating.power) if over else None
        return None
    if rating.power is not None:
        return ("", rating.power) if exceeds(fallback.base, rating.power.base) else None
    if rating.current is not None:
        amps = amps_per_line(ctx, charger, fallback)
        return (
            (f" (≈ {_amps(amps)} per line)", rating.current)
            if exceeds(amps, rating.current.amps)
            else None
        )
    return None
