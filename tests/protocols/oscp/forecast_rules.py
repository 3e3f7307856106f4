"""The limits an OSCP source puts in force, as the specification's rules read: a model
written without the domain's envelopes (no supersession, no withdrawals, no states),
for the property tests of the forecasts (pure) and of the controller (stateful).

Times are in one unit throughout (minutes in the pure test, seconds in the
controller's), from the test's own origin. The rules:

- for each forecast type, the forecast received last (by then) whose first block has
  begun governs from that block on: its block covering the instant is in force, or
  nothing — except a block the operator withdrew by then;
- the source is online from a message until the deadline that message named (a
  heartbeat's ``offline_mode_at``), or ``offline_after`` from it (any other message);
  the latest message counts, a refused one is no message;
- while the source is offline, the normal limit still holds, beside its own fallback
  forecast's, or else the site's fallback (import only here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from depotctl.protocols.oscp import CapacityForecastType

#: A block as sent: start, end, capacity and unit (``KW``, ``W`` or ``A``).
Block = tuple[float, float, float, str]
#: One limit in force: target, direction, unit (``W``, ``A``) and value.
Limit = tuple[str, str, str, float]
#: A block on a target: the forecast's position in the sequence sent, the block's index
#: and the target.
BlockOn = tuple[int, int, str]


@dataclass(frozen=True)
class Sent:
    """A forecast received at ``received``: its type and its blocks, one after
    another (as the checks of a forecast's blocks leave them: none overlap)."""

    received: float
    type: CapacityForecastType
    blocks: Sequence[Block]

    @property
    def first(self) -> float:
        return min(start for start, _, _, _ in self.blocks)

    @property
    def acceptable(self) -> bool:
        """Whether it can be taken: some block ends after its receipt."""
        return any(end > self.received for _, end, _, _ in self.blocks)


@dataclass(frozen=True)
class Message:
    """A message heard from the source at ``at``, and the deadline it named
    (None: ``offline_after`` counts from it)."""

    at: float
    deadline: float | None = None


@dataclass(frozen=True)
class Site:
    """What the site says of the source: its nodes, how long a silence may last (in the
    model's unit of time) and its fallback (W, import)."""

    targets: tuple[str, ...]
    offline_after: float
    fallback_w: float


#: Consumption most often, so that forecasts of one type meet.
LIMITING = [
    CapacityForecastType.CONSUMPTION,
    CapacityForecastType.CONSUMPTION,
    CapacityForecastType.CONSUMPTION,
    CapacityForecastType.GENERATION,
    CapacityForecastType.FALLBACK_CONSUMPTION,
    CapacityForecastType.FALLBACK_GENERATION,
]


@st.composite
def sent_forecast(
    draw: st.DrawFn,
    received: float,
    types: Sequence[CapacityForecastType] = LIMITING,
) -> Sent:
    """A forecast received at minute ``received`` whose blocks, one after another (gaps
    between them at times), start from minute -30 to 90."""
    start = draw(st.integers(-30, 90))
    blocks: list[Block] = []
    for _ in range(draw(st.integers(1, 4))):
        start += draw(st.sampled_from([0, 0, 5, 20]))
        end = start + draw(st.integers(5, 60))
        capacity = draw(st.sampled_from([0.0, 50.0, 120.0, 300.0]))
        blocks.append((start, end, capacity, draw(st.sampled_from(["KW", "KW", "W", "A"]))))
        start = end
    return Sent(received, draw(st.sampled_from(types)), tuple(blocks))


def online(heard: Iterable[Message], at: float, offline_after: float) -> bool:
    """Whether the source is online at ``at``: its latest message by then (of two at
    one instant, the one heard later) still holds."""
    last: Message | None = None
    for message in heard:
        if message.at <= at and (last is None or message.at >= last.at):
            last = message
    if last is None:
        return False
    until = last.deadline if last.deadline is not None else last.at + offline_after
    return at <= until


def limits_in_force(
    sent: Sequence[Sent],
    heard: Iterable[Message],
    at: float,
    site: Site,
    withdrawn: Mapping[BlockOn, float] | None = None,
) -> list[Limit]:
    """The limits in force at ``at`` (sorted), given the forecasts taken (``sent``, in
    the order received), the messages heard and the operator's withdrawals (when each
    block on a target was withdrawn)."""
    withdrawals = withdrawn or {}
    is_online = online(heard, at, site.offline_after)

    def governing(type: CapacityForecastType, target: str) -> tuple[str, float] | None:
        known = [
            (one.received, position)
            for position, one in enumerate(sent)
            if one.type is type and one.received <= at and one.first <= at
        ]
        if not known:
            return None
        position = max(known)[1]  # received last; of two at one instant, the later
        latest = sent[position]
        for index, (start, end, capacity, unit) in enumerate(latest.blocks):
            gone = withdrawals.get((position, index, target))
            if start <= at < end and (gone is None or at < gone):
                return _value(capacity, unit)
        return None

    limits: list[Limit] = []
    for target in site.targets:
        for direction, normal, fallback in (
            ("import", CapacityForecastType.CONSUMPTION, CapacityForecastType.FALLBACK_CONSUMPTION),
            ("export", CapacityForecastType.GENERATION, CapacityForecastType.FALLBACK_GENERATION),
        ):
            in_force = governing(normal, target)
            if in_force is not None:
                limits.append((target, direction, *in_force))
            if is_online:
                continue
            own = governing(fallback, target)
            if own is not None:
                limits.append((target, direction, *own))
            elif direction == "import":
                limits.append((target, direction, "W", site.fallback_w))
    return sorted(limits)


def edges(sent: Iterable[Sent], heard: Iterable[Message], offline_after: float) -> set[float]:
    """Where things change: receipts, block starts and ends, silences passing their
    deadline; each with half a unit after (before, for an end)."""
    found: set[float] = set()
    for one in sent:
        found.update((one.received, one.received + 0.5))
        for start, end, _, _ in one.blocks:
            found.update((start, start + 0.5, end - 0.5))
    for message in heard:
        until = message.deadline if message.deadline is not None else message.at + offline_after
        found.update((until, until + 0.5))
    return found


def _value(capacity: float, unit: str) -> tuple[str, float]:
    return ("A", capacity) if unit == "A" else ("W", capacity * (1000.0 if unit == "KW" else 1.0))
