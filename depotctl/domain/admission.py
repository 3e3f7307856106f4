"""Whether an EVSE is switched on or off, and since when: what the minimum on and off
times of fairness rotation (``policies.charging.rotation``) are counted from.

An EVSE is **on** while its limit in force is above 0 A and **off** while it is 0 A.
The controller keeps one record per EVSE from the limits its chargers accept; the
engine reads them in the snapshot. An EVSE without a record has not been seen to
switch: nothing holds it on or off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Admission:
    """An EVSE is on (limit in force above 0 A) or off (0 A) since ``since`` (aware)."""

    on: bool
    since: datetime


def switched(
    record: Admission | None, before_a: float | None, after_a: float, at: datetime
) -> Admission | None:
    """The EVSE's new record when a limit of ``after_a`` accepted at ``at`` switches it
    on or off; None when it does not (keep the record there is, or none). The limit in
    force before is ``before_a`` — None when unknown (then any limit counts as a
    switch, since when it was on or off is not known)."""
    on = after_a > 0
    if record is not None:
        return None if record.on == on else Admission(on, at)
    if before_a is not None and (before_a > 0) == on:
        return None  # no switch seen: since when it holds is not known
    return Admission(on, at)
