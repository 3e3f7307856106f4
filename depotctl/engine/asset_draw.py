"""What storage and generation count as on each limit up their path, at an instant.

Fresh, each counts at its metered net import (the reading's power: above zero it
draws, below zero it feeds the site). Stale — no reading, too old, or one without a
power — each counts at its worst case on an import limit: a battery as charging at its
``max_charge_w`` (never its setpoint, which it may not be following), a generator as
producing nothing.

Feeding frees room on power limits only: real power adds up along a path, so a node's
import is its loads' less what is fed below it. Currents do not: what a battery or a
generator feeds is a phasor at an angle the engine does not know, and a line's current
is the magnitude of the sum, which can be larger than the difference of magnitudes. On
a current limit, an asset that feeds counts as zero; one that draws counts its amps per
line (its measured currents where they exceed what its power makes at nominal voltage).
Relief is bounded by nameplate: a battery frees at most its ``max_discharge_w``, a
generator at most its ``peak_w``, whatever its meter says.
"""

from __future__ import annotations

from depotctl.domain.phases import Phase, load_current
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import GenerationSpec, SiteLoadSpec, StorageSpec

Asset = StorageSpec | GenerationSpec
#: what hangs beside the chargers and reserves (or frees) room up its path
Leaf = SiteLoadSpec | StorageSpec | GenerationSpec
#: a leaf, its amps per line, its watts, and whether that rests on stale telemetry
Draw = tuple[Leaf, dict[Phase, float], float, bool]


def asset_draws(snapshot: Snapshot) -> list[Draw]:
    """Every battery's and generator's draw, in site order (batteries first)."""
    topology = snapshot.topology
    draws: list[Draw] = [(b, *storage_draw(snapshot, b)) for b in topology.storage.values()]
    draws += [(g, *generation_draw(snapshot, g)) for g in topology.generation.values()]
    return draws


def storage_draw(
    snapshot: Snapshot, battery: StorageSpec
) -> tuple[dict[Phase, float], float, bool]:
    """A battery's amps per line and watts, and whether it counts at its stale worst case
    (charging at ``max_charge_w``)."""
    reading = fresh_reading(snapshot, battery)
    if reading is None or reading.power_w is None:
        amps = load_current(battery.max_charge_w, battery.connection, battery.voltage_ln)
        return dict.fromkeys(_lines(battery), amps), battery.max_charge_w, True
    watts = max(reading.power_w, -battery.max_discharge_w)
    return _amps(battery, reading, watts), watts, False


def generation_draw(
    snapshot: Snapshot, generator: GenerationSpec
) -> tuple[dict[Phase, float], float, bool]:
    """A generator's amps per line and watts: its net import when fresh, nothing when
    stale (no reservation rests on stale telemetry then: the flag is False)."""
    reading = fresh_reading(snapshot, generator)
    if reading is None or reading.power_w is None:
        return {}, 0.0, False
    watts = max(reading.power_w, -generator.peak_w)
    return _amps(generator, reading, watts), watts, False


def fresh_reading(snapshot: Snapshot, asset: Asset) -> Reading | None:
    """The asset's reading (by its id, then its meter's) when fresh; else None."""
    telemetry = snapshot.telemetry
    reading = telemetry.get(asset.id) or (telemetry.get(asset.meter) if asset.meter else None)
    if reading is None or reading.is_stale(snapshot.at, snapshot.policy.stale_after_s):
        return None
    return reading


def _amps(asset: Asset, reading: Reading, watts: float) -> dict[Phase, float]:
    """Amps per line of a net import of ``watts``: none while it feeds; while it draws,
    per line the larger of the measured current and what the power makes."""
    if watts <= 0:
        return {}
    amps = load_current(watts, asset.connection, asset.voltage_ln)
    measured = reading.current_a or {}
    return {line: max(amps, measured.get(line, 0.0)) for line in _lines(asset)}


def _lines(asset: Asset) -> frozenset[Phase]:
    return asset.connection.lines if asset.connection is not None else frozenset(Phase)
