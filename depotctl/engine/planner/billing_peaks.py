"""The billing window's demand peaks so far, per demand charge, from the site's metered
import minute by minute — what a plan's demand terms start from.

As the bill counts them (:mod:`depotctl.domain.bill`): a charge's peak is the highest
average power over one demand interval (15 min, aligned to the clock), counting only
the energy inside the charge's windows; the billing window is the site's local
calendar month. A minute without a reading counts as nothing drawn.

The quarter hour under way counts too: the energy already drawn in it
(:meth:`BillingPeaks.so_far_wh`) is part of its average, which the plan's import for
the rest of it adds to. The time since the last minute counted is taken as drawn at the
charge's peak so far: a reading not in yet never lets the plan make a new peak.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from depotctl.domain.bill import DEFAULT_DEMAND_INTERVAL, EPOCH
from depotctl.domain.tariff import DemandCharge, Tariff

_MINUTE_H = 1.0 / 60.0


def month_start(instant: datetime, zone: tzinfo) -> datetime:
    """The start of ``instant``'s local calendar month (aware, in ``zone``)."""
    local = instant.astimezone(zone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass
class BillingPeaks:
    """Energy per demand interval per charge over the billing window so far, fed one
    metered minute at a time (:meth:`add`); :meth:`peaks_w` reads the peaks."""

    tariff: Tariff
    zone: tzinfo
    interval: timedelta = DEFAULT_DEMAND_INTERVAL
    #: the local month being counted (its start), None before the first minute
    window: datetime | None = None
    #: the first minute not counted yet (minutes before it are in)
    counted_until: datetime | None = None
    _kwh: dict[DemandCharge, dict[int, float]] = field(default_factory=dict)

    def add(self, minutes: Iterable[tuple[datetime, float]]) -> None:
        """Count ``(minute start, mean import W)``, in time order; a minute of a later
        month starts a new window, one already counted is skipped."""
        for minute, watts in minutes:
            if self.counted_until is not None and minute < self.counted_until:
                continue
            window = month_start(minute, self.zone)
            if window != self.window:
                self.window, self._kwh = window, {}
            self.counted_until = minute + timedelta(minutes=1)
            block = (minute - EPOCH) // self.interval
            for charge in self.tariff.at(minute.astimezone(self.zone)).demand:
                by_block = self._kwh.setdefault(charge, {})
                by_block[block] = by_block.get(block, 0.0) + watts / 1000.0 * _MINUTE_H

    def so_far_wh(self, at: datetime) -> Mapping[DemandCharge, float]:
        """Per charge with a peak in the billing window of ``at``, the energy (Wh) it
        counts in the demand interval holding ``at`` before ``at``: the minutes counted,
        and the time after the last of them (or the interval's start) at the charge's
        peak so far — what a late reading could at most have added without a new peak
        (none in a month not counted yet)."""
        peaks = self.peaks_w(at)
        if not peaks or self.counted_until is None:
            return {}
        block = (at - EPOCH) // self.interval
        begins = EPOCH + block * self.interval
        unread_h = max(0.0, (at - max(begins, self.counted_until)).total_seconds() / 3600.0)
        return {
            charge: self._kwh.get(charge, {}).get(block, 0.0) * 1000.0 + peak * unread_h
            for charge, peak in peaks.items()
        }

    def peaks_w(self, at: datetime) -> Mapping[DemandCharge, float]:
        """Each charge's peak (W) in the billing window of ``at`` (none in a month not
        counted yet)."""
        if self.window is None or month_start(at, self.zone) != self.window:
            return {}
        hours = self.interval.total_seconds() / 3600.0
        return {
            charge: max(by_block.values(), default=0.0) / hours * 1000.0
            for charge, by_block in self._kwh.items()
        }
