"""The simulated Capacity Provider's script: which capacity forecasts it sends, and
when (``docs/sim-derms.md``).

A profile is YAML (``forecasts:``, each with its blocks) or CSV (one block a row,
rows with the same ``send_at`` and ``type`` one forecast). Times are read as every
depotctl time is (:mod:`depotctl.domain.instants`), looking ahead from the run's
start: ``+2h`` from the start, ``17:00`` the next 17:00 in the site's zone at or
after it, or an ISO time with its offset. A block without ``start`` follows the one
before it. Capacities carry their unit: a power (``600 kW``) or a current per phase
(``800 A``); an energy, a negative or a missing unit is refused at its place.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from depotctl.domain.instants import InstantError, parse_instant
from depotctl.domain.quantity import Current, Dimension, Duration, QuantityError, parse_quantity
from depotctl.domain.refusal import Refusal
from depotctl.protocols.oscp.messages import (
    CapacityForecastType,
    ForecastedBlock,
    ForecastedBlockUnit,
    PhaseIndicator,
    UpdateGroupCapacityForecast,
)

#: The columns of a CSV profile (``phase`` may be left out).
CSV_COLUMNS = ("send_at", "type", "start", "duration", "capacity", "phase")


class ProfileError(Refusal):
    """A profile that cannot be read: where, what is wrong, what to write (exit 1; 3
    when the file cannot be read)."""


@dataclass(frozen=True, slots=True)
class PlannedForecast:
    """One forecast of the profile: when the provider sends it, and what."""

    send_at: datetime
    message: UpdateGroupCapacityForecast

    @property
    def blocks(self) -> Sequence[ForecastedBlock]:
        return self.message.forecasted_blocks


def read_profile(
    path: Path, *, group_id: str, start: datetime, zone: tzinfo
) -> list[PlannedForecast]:
    """The forecasts of the profile at ``path`` for ``group_id`` (YAML, or CSV by its
    ``.csv`` suffix), in the order they are sent; times looking ahead from ``start``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ProfileError(f"cannot read {path}: {error.strerror or error}", 3) from None
    reader = _Reader(path, start, zone)
    raw = (
        _csv_forecasts(text, path) if path.suffix.lower() == ".csv" else _yaml_forecasts(text, path)
    )
    planned = [reader.forecast(where, entry, group_id) for where, entry in raw]
    if not planned:
        raise ProfileError(f"{path}: no forecasts; add one under forecasts: (docs/sim-derms.md)", 1)
    return sorted(planned, key=lambda p: p.send_at)


def _yaml_forecasts(text: str, path: Path) -> list[tuple[str, Mapping[str, Any]]]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        document = YAML(typ="safe").load(text)
    except YAMLError as error:
        raise ProfileError(f"{path} is not YAML: {error}".replace("\n", " "), 1) from None
    if not isinstance(document, Mapping) or not isinstance(document.get("forecasts"), list):
        raise ProfileError(
            f"{path}: expected a mapping with a list under forecasts: (docs/sim-derms.md)", 1
        )
    forecasts: list[tuple[str, Mapping[str, Any]]] = []
    for index, entry in enumerate(document["forecasts"]):
        if not isinstance(entry, Mapping):
            raise ProfileError(f"{path}: forecasts[{index}]: expected a mapping", 1)
        forecasts.append((f"{path}: forecasts[{index}]", entry))
    return forecasts


def _csv_forecasts(text: str, path: Path) -> list[tuple[str, Mapping[str, Any]]]:
    rows = csv.DictReader(text.splitlines())
    missing = [c for c in CSV_COLUMNS[:-1] if c not in (rows.fieldnames or ())]
    if missing:
        raise ProfileError(
            f"{path}: the header lacks {', '.join(missing)}; "
            f"the columns are {','.join(CSV_COLUMNS)}",
            1,
        )
    grouped: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for row in rows:
        where = f"{path}:{rows.line_num}"
        key = (row["send_at"] or "", row["type"] or "")
        block = {k: row[k] for k in ("start", "duration", "capacity", "phase") if row.get(k)}
        block["where"] = where
        if key not in grouped:
            grouped[key] = (where, {"send_at": key[0] or None, "type": key[1], "blocks": []})
        grouped[key][1]["blocks"].append(block)
    return list(grouped.values())


def _field(where: str, name: str) -> str:
    """Where a field is: ``FILE: forecasts[0].blocks[1].capacity`` in YAML,
    ``FILE:3: capacity`` in a CSV row."""
    return f"{where}.{name}" if "forecasts[" in where else f"{where}: {name}"


class _Reader:
    """Reads one forecast's fields, each refusal naming where it is."""

    def __init__(self, path: Path, start: datetime, zone: tzinfo) -> None:
        self.path = path
        self.start = start
        self.zone = zone

    def forecast(self, where: str, entry: Mapping[str, Any], group_id: str) -> PlannedForecast:
        send_at = self.instant(_field(where, "send_at"), entry.get("send_at") or "+0s")
        kind = self.forecast_type(_field(where, "type"), entry.get("type", "CONSUMPTION"))
        raw_blocks = entry.get("blocks")
        if not isinstance(raw_blocks, list) or not raw_blocks:
            raise ProfileError(f"{where}.blocks: expected a list of one block at least", 1)
        blocks: list[ForecastedBlock] = []
        follows: datetime | None = None
        for index, raw in enumerate(raw_blocks):
            if not isinstance(raw, Mapping):
                raise ProfileError(f"{where}.blocks[{index}]: expected a mapping", 1)
            place = str(raw.get("where", f"{where}.blocks[{index}]"))  # a CSV row: its line
            block = self.block(place, raw, follows)
            blocks.append(block)
            follows = block.end_time
        return PlannedForecast(
            send_at,
            UpdateGroupCapacityForecast(group_id=group_id, type=kind, forecasted_blocks=blocks),
        )

    def block(
        self, where: str, raw: Mapping[str, Any], follows: datetime | None
    ) -> ForecastedBlock:
        if raw.get("start") is None and follows is None:
            raise ProfileError(
                f"{_field(where, 'start')}: the first block needs one (+1h, 17:00, an ISO time)",
                1,
            )
        start = self.instant(_field(where, "start"), raw["start"]) if raw.get("start") else follows
        assert start is not None
        try:
            seconds = Duration.parse(str(raw.get("duration", ""))).seconds
        except QuantityError as error:
            raise ProfileError(
                f"{_field(where, 'duration')}: {error.message}; {error.hint}", 1
            ) from None
        if seconds <= 0:
            raise ProfileError(f"{_field(where, 'duration')}: must be longer than 0 s", 1)
        unit, capacity = self.capacity(_field(where, "capacity"), raw.get("capacity"))
        phase_text = str(raw.get("phase", "ALL")).upper()
        if phase_text not in PhaseIndicator.__members__:
            raise ProfileError(
                f"{_field(where, 'phase')}: {phase_text!r} is no OSCP phase; "
                f"write one of {', '.join(PhaseIndicator.__members__)}",
                1,
            )
        return ForecastedBlock(
            capacity=capacity,
            phase=PhaseIndicator(phase_text),
            unit=unit,
            start_time=start,
            end_time=start + timedelta(seconds=seconds),
        )

    def capacity(self, where: str, value: object) -> tuple[ForecastedBlockUnit, float]:
        try:
            quantity = parse_quantity(value, (Dimension.POWER, Dimension.CURRENT))
        except QuantityError as error:
            raise ProfileError(f"{where}: {error.message}; {error.hint}", 1) from None
        if quantity.base < 0:
            raise ProfileError(f"{where}: {quantity} is negative; a capacity is 0 or more", 1)
        if isinstance(quantity, Current):
            return ForecastedBlockUnit.A, quantity.base
        if quantity.unit == "W":
            return ForecastedBlockUnit.W, quantity.base
        return ForecastedBlockUnit.KW, quantity.base / 1e3

    def instant(self, where: str, value: object) -> datetime:
        try:
            return parse_instant(str(value), now=self.start, zone=self.zone, ahead=True)
        except InstantError as error:
            raise ProfileError(f"{where}: {error.message}; {error.hint}", 1) from None

    def forecast_type(self, where: str, value: object) -> CapacityForecastType:
        text = str(value).upper()
        if text not in CapacityForecastType.__members__:
            raise ProfileError(
                f"{where}: {value!r} is no OSCP forecast type; "
                f"write one of {', '.join(CapacityForecastType.__members__)}",
                1,
            )
        return CapacityForecastType(text)
