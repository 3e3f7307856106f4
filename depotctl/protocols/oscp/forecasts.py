"""Capacity forecasts → protocol-neutral envelopes (pure).

A forecast's ``type`` says what its blocks become:

- ``CONSUMPTION`` → import maxima, ``GENERATION`` → export maxima (mode normal);
- ``FALLBACK_CONSUMPTION`` / ``FALLBACK_GENERATION`` → the same in mode fallback: the
  source's own fallback, in force only while the source is offline;
- ``OPTIMUM`` → no envelope: an advised level (:class:`CapacityOptimum`) the planner
  may aim for, never a limit.

Units: ``A`` is current per phase, ``W`` power, ``KW`` power ×1000. ``WH``/``KWH``
are energy: refused, never read as power. Phases: ``ALL`` and ``UNKNOWN`` limit every
phase; ``ONE``/``TWO``/``THREE`` limit L1/L2/L3. A current on one phase limits that
phase's current. A power on one phase is kept with its phase, but the engine reads
every power envelope as the node's total power: the total is held at the per-phase
value, which no phase can then exceed — never looser than meant (tighter by the other
phases' share; several single-phase power blocks at once hold the total at the least).

Each block becomes one envelope per target node of the source, with an id made of the
source, the request id, the block's index and the target (:func:`envelope_id`).

A forecast is refused whole (:class:`ForecastRefused`, each problem naming the block)
for a capacity that is negative or not finite, a block that ends at or before its
start, two blocks of one limit (phase and unit kind) that overlap, an energy unit, no
blocks, or blocks that had all ended by its receipt. A forecast of zeros is a
protective one, and honoured.

Replacement (:func:`replacements`): "a new forecast for the same group and type
replaces the old one from its first block on". The stored envelopes of that source,
direction and mode received before it are withdrawn: those starting at or after the
new first block at once, and one that straddles it from the cut, the first block's
start (or the new forecast's receipt, if later). The domain's supersession would cut a
straddler of the same limit there too; the withdrawal also cuts one of another phase
or unit, and one whose replacing block ended before it was received.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from depotctl.domain.envelopes import Direction, Envelope, EnvelopeMode, LimitUnit
from depotctl.domain.phases import Phase
from depotctl.protocols.oscp.messages import (
    AdjustGroupCapacityForecast,
    CapacityForecastType,
    ForecastedBlock,
    ForecastedBlockUnit,
    PhaseIndicator,
    UpdateGroupCapacityForecast,
)

#: What each limiting forecast type becomes; ``OPTIMUM`` is advice, not a limit.
LIMIT_KINDS: Mapping[CapacityForecastType, tuple[Direction, EnvelopeMode]] = {
    CapacityForecastType.CONSUMPTION: (Direction.IMPORT, EnvelopeMode.NORMAL),
    CapacityForecastType.GENERATION: (Direction.EXPORT, EnvelopeMode.NORMAL),
    CapacityForecastType.FALLBACK_CONSUMPTION: (Direction.IMPORT, EnvelopeMode.FALLBACK),
    CapacityForecastType.FALLBACK_GENERATION: (Direction.EXPORT, EnvelopeMode.FALLBACK),
}

#: Power and current units, as the domain's unit and the factor into it.
_UNITS: Mapping[ForecastedBlockUnit, tuple[LimitUnit, float]] = {
    ForecastedBlockUnit.A: (LimitUnit.A, 1.0),
    ForecastedBlockUnit.W: (LimitUnit.W, 1.0),
    ForecastedBlockUnit.KW: (LimitUnit.W, 1000.0),
}

_PHASES: Mapping[PhaseIndicator, frozenset[Phase] | None] = {
    PhaseIndicator.ALL: None,
    PhaseIndicator.UNKNOWN: None,
    PhaseIndicator.ONE: frozenset({Phase.L1}),
    PhaseIndicator.TWO: frozenset({Phase.L2}),
    PhaseIndicator.THREE: frozenset({Phase.L3}),
}

CapacityForecast = UpdateGroupCapacityForecast | AdjustGroupCapacityForecast


class ForecastRefused(ValueError):
    """A forecast that cannot be honoured as sent; ``problems`` each name the block
    (``forecasted_blocks[2]``) or the forecast, what is wrong and what to send."""

    def __init__(self, forecast: CapacityForecast, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        name = type(forecast).__name__
        super().__init__(
            f"{name} {forecast.type} for group {forecast.group_id} refused: "
            + "; ".join(self.problems)
        )


@dataclass(frozen=True, slots=True)
class CapacityOptimum:
    """An ``OPTIMUM`` block for one target: the level the Capacity Provider would like
    the group to draw over ``[start, end)`` (W total, or A per phase on ``phases``;
    None: every phase). Advice for the planner, never a limit."""

    id: str
    source: str
    target: str
    level: float
    unit: LimitUnit
    phases: frozenset[Phase] | None
    start: datetime
    end: datetime
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ForecastIntake:
    """What one forecast brings: envelopes (a limiting type) or optima (``OPTIMUM``)."""

    type: CapacityForecastType
    envelopes: tuple[Envelope, ...] = ()
    optima: tuple[CapacityOptimum, ...] = ()


def forecast_intake(
    forecast: CapacityForecast,
    *,
    source: str,
    targets: Sequence[str],
    request_id: str,
    received_at: datetime,
) -> ForecastIntake:
    """The envelopes (or optima) of ``forecast`` from ``source``, one per block per
    target, received at ``received_at`` (aware). Raises :class:`ForecastRefused`."""
    problems = forecast_problems(forecast, received_at)
    if problems:
        raise ForecastRefused(forecast, problems)
    kind = LIMIT_KINDS.get(forecast.type)
    envelopes: list[Envelope] = []
    optima: list[CapacityOptimum] = []
    for index, block in enumerate(forecast.forecasted_blocks):
        unit, factor = _UNITS[block.unit]
        value, phases = block.capacity * factor, _PHASES[block.phase]
        start, end = block.start_time, block.end_time
        for target in targets:
            ident = envelope_id(source, request_id, index, target)
            if kind is None:
                optima.append(
                    CapacityOptimum(
                        ident, source, target, value, unit, phases, start, end, received_at
                    )
                )
                continue
            direction, mode = kind
            envelopes.append(
                Envelope(
                    ident,
                    source,
                    target,
                    direction,
                    value,
                    unit,
                    start,
                    end,
                    received_at,
                    mode=mode,
                    phases=phases,
                )
            )
    return ForecastIntake(forecast.type, tuple(envelopes), tuple(optima))


def forecast_problems(forecast: CapacityForecast, received_at: datetime) -> list[str]:
    """Why ``forecast`` cannot be honoured as sent (empty: it can)."""
    blocks = forecast.forecasted_blocks
    if not blocks:
        return ["it has no forecasted_blocks; send at least one block"]
    problems = [
        problem for index, block in enumerate(blocks) for problem in _block_problems(index, block)
    ]
    problems.extend(_overlaps(blocks))
    if all(block.end_time <= received_at for block in blocks):
        last = max(block.end_time for block in blocks)
        problems.append(
            f"every block had ended when it was received at {_when(received_at)} (the last "
            f"at {_when(last)}); send blocks that end in the future"
        )
    return problems


def _block_problems(index: int, block: ForecastedBlock) -> list[str]:
    where = f"forecasted_blocks[{index}]"
    problems: list[str] = []
    if block.unit not in _UNITS:
        problems.append(
            f"{where}: unit {block.unit} is an energy, not a power or a current; a capacity "
            "is a limit in A, W or KW"
        )
    if not math.isfinite(block.capacity):
        problems.append(f"{where}: capacity {block.capacity} is not a number; send a finite one")
    elif block.capacity < 0:
        problems.append(
            f"{where}: capacity {block.capacity:g} {block.unit} is negative; a capacity is the "
            "most the group may draw or feed in, 0 or more"
        )
    if block.end_time <= block.start_time:
        problems.append(
            f"{where}: ends at {_when(block.end_time)}, not after its start at "
            f"{_when(block.start_time)}; a block covers [start_time, end_time)"
        )
    return problems


def _overlaps(blocks: Sequence[ForecastedBlock]) -> list[str]:
    """Blocks of one limit (phases, and power or current) that overlap."""
    by_limit: dict[tuple[frozenset[Phase] | None, bool], list[int]] = defaultdict(list)
    for index, block in enumerate(blocks):
        if block.end_time > block.start_time:
            by_limit[(_PHASES[block.phase], block.unit is ForecastedBlockUnit.A)].append(index)
    problems: list[str] = []
    for indices in by_limit.values():
        indices.sort(key=lambda i: (blocks[i].start_time, i))
        latest = indices[0]
        for index in indices[1:]:
            earlier, block = blocks[latest], blocks[index]
            if block.start_time < earlier.end_time:
                problems.append(
                    f"forecasted_blocks[{index}]: overlaps forecasted_blocks[{latest}] (phase "
                    f"{block.phase}) from {_when(block.start_time)} to "
                    f"{_when(min(block.end_time, earlier.end_time))}; one limit's blocks "
                    "must not overlap"
                )
            if block.end_time > earlier.end_time:
                latest = index
    return problems


_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,48}")
_MAX_ID = 128


def envelope_id(source: str, request_id: str, index: int, target: str) -> str:
    """The id of block ``index`` of request ``request_id`` on ``target``: readable
    (``dnsp:Rq-7:0:gc-main``) where the request id is short and plain, else with a hash
    of it in its place; ids hold letters, digits, ``.``, ``_``, ``:`` and ``-``."""
    request = request_id if _SAFE_REQUEST_ID.fullmatch(request_id) else _digest(request_id)
    text = f"{source}:{request}:{index}:{target}"
    if len(text) <= _MAX_ID:
        return text
    return f"oscp:{_digest(source, request_id, str(index), target)}"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]


def replacements(stored: Iterable[Envelope], new: Sequence[Envelope]) -> dict[str, datetime]:
    """Which ``stored`` envelopes a new forecast's envelopes replace, by id, with the
    instant each is withdrawn from (see the module's "Replacement"). Only envelopes of
    the same source, direction and mode, received before the new ones, and in force
    after the cut; one withdrawn already by then is left as it is."""
    if not new:
        return {}
    received_at = max(envelope.received_at for envelope in new)
    first: dict[tuple[str, Direction, EnvelopeMode], datetime] = {}
    for envelope in new:
        key = (envelope.source, envelope.direction, envelope.mode)
        first[key] = min(first.get(key, envelope.start), envelope.start)
    new_ids = {envelope.id for envelope in new}
    withdrawn: dict[str, datetime] = {}
    for envelope in stored:
        start = first.get((envelope.source, envelope.direction, envelope.mode))
        if start is None or envelope.id in new_ids or envelope.received_at >= received_at:
            continue
        at = received_at if envelope.start >= start else max(start, received_at)
        if envelope.end is not None and envelope.end <= at:
            continue  # over before the cut: nothing to replace
        if envelope.withdrawn_at is not None and envelope.withdrawn_at <= at:
            continue
        withdrawn[envelope.id] = at
    return dict(sorted(withdrawn.items()))


def _when(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
