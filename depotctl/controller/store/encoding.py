"""How the store writes values: times as fixed-width ISO 8601 UTC text (they compare
as text), JSON as compact sorted text, quantities as finite floats in base units."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def iso(at: datetime) -> str:
    """Fixed-width ISO 8601 UTC text; a naive time is refused (its zone is unknown)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"time {at} has no time zone; the store keeps aware UTC times")
    # isoformat, not strftime: "%Y" drops the leading zeros of a year before 1000
    # ("1-01-01"), which breaks both the fixed width (text order is time order) and
    # fromisoformat when the row is read back.
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def iso_or_none(at: datetime | None) -> str | None:
    return iso(at) if at is not None else None


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def parse_or_none(text: str | None) -> datetime | None:
    return parse(text) if text is not None else None


def utc(at: datetime) -> datetime:
    """``at`` as it reads back from the store (UTC, microseconds)."""
    return parse(iso(at))


def finite(value: float, what: str) -> None:
    """ValueError for a value that is not a finite number."""
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, not {value}")


def to_json(value: Any) -> str:
    """``value`` as stored: compact, sorted, no NaN (compared as text by some readers)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def param(value: Any) -> Any:
    """A query parameter as the store keeps it: a time as :func:`iso`, a mapping or a
    list as JSON text."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return to_json(dict(value))
    if isinstance(value, list | tuple):
        return to_json(value)
    return value
