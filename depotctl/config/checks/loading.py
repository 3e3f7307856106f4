"""How a load is counted at a node: its phases, its current per line, its power.

- a load (charger or site load) draws from the site phases of :func:`connection_of`;
  a line-to-line load counts its full current on both lines, and a single-phase load
  whose phase is unknown counts on every phase (conservative);
- a single-phase node has one phase, which carries every load below it;
- currents compare only on one side of a transformer: a load's current is stepped by
  each transformer between it and the node (secondary/primary).
"""

from __future__ import annotations

from collections.abc import Iterable

from depotctl.config.checks.context import SiteContext
from depotctl.config.schema import Charger, Generation, Node, SiteLoad, Storage, Transformer
from depotctl.domain import THREE_PHASE, Current, Phase, PhaseConnection, Power
from depotctl.domain.phases import line_currents, load_current, load_power

#: what draws (or feeds) at its own phases: chargers, site loads, batteries, generators
Load = Charger | SiteLoad | Storage | Generation

# --- how a load is wired -------------------------------------------------------------


def rotation_of(load: Load) -> PhaseConnection | None:
    return PhaseConnection.parse(load.phase_rotation) if load.phase_rotation else None


def phases_of_load(ctx: SiteContext, load: Load) -> int:
    """A load's phase count: its own ``phases``; else what its rotation names (three
    phases: 3, else 1); else its supply's."""
    if load.phases is not None:
        return int(load.phases)
    rotation = rotation_of(load)
    if rotation is not None:
        return 3 if rotation.is_three_phase else 1
    return ctx.phases_of(load)


def connection_of(ctx: SiteContext, load: Load) -> PhaseConnection | None:
    """The site phases a load draws from; None for a single-phase load whose phase is
    not known."""
    rotation = rotation_of(load)
    if rotation is not None:
        return rotation
    return THREE_PHASE if phases_of_load(ctx, load) == 3 else None


def current_ratio(ctx: SiteContext, load: Node, node: Node) -> float:
    """Amps at ``node`` per amp drawn by ``load``: each transformer on the way up,
    ``node`` included, steps current down by secondary/primary."""
    ratio = 1.0
    for ancestor in ctx.ancestors(load):
        if isinstance(ancestor, Transformer):
            ratio *= ancestor.secondary.volts / ancestor.primary.volts
        if ancestor.id == node.id:
            break
    return ratio


def amps_per_line(ctx: SiteContext, load: Load, value: Current | Power) -> float:
    """A load's current or power as amps per line, at its own voltage."""
    if isinstance(value, Current):
        return value.amps
    return load_current(value.base, connection_of(ctx, load), ctx.voltage_of(load).volts)


def watts(ctx: SiteContext, load: Load, value: Current | Power) -> float:
    """A load's current (per line) or power as watts, at its own voltage."""
    if isinstance(value, Power):
        return value.base
    return load_power(value.amps, connection_of(ctx, load), ctx.voltage_of(load).volts)


def phase_currents(
    ctx: SiteContext, node: Node, loads: Iterable[tuple[Load, float]]
) -> dict[Phase, float]:
    """Per-phase current at ``node`` of loads drawing the given amps per line. A
    single-phase node's one phase is reported as L1."""
    totals = dict.fromkeys(Phase, 0.0)
    single_phase = ctx.phases_of(node) == 1
    for load, amps in loads:
        lines = line_currents(amps * current_ratio(ctx, load, node), connection_of(ctx, load))
        if single_phase:
            totals[Phase.L1] += max(lines.values())
        else:
            for phase, line_amps in lines.items():
                totals[phase] += line_amps
    return totals


def worst_phase(totals: dict[Phase, float]) -> Phase:
    """The most loaded phase (the first, on a tie)."""
    return max(totals, key=totals.__getitem__)


def exceeds(value: float, limit: float) -> bool:
    """Above the limit by more than float noise: exactly at the limit is fine."""
    return value > limit * (1 + 1e-9) + 1e-9
