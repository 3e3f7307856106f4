"""The profiles a charger has installed, and the rules it installs and clears them by.

``SetChargingProfile`` is checked as a real charger checks it (1.6 §3.13 and §5.16,
2.0.1 K01): a known EVSE, a ``TxProfile`` only on an EVSE with that transaction
running (else ``TxNotFound``, whatever its limit: a transaction that ended or was
lost in a reboot), a supported rate unit, ``ChargingStationMaxProfile`` only on
EVSE 0, a stack level and a number of periods the charger supports, periods in
order from 0. A profile with the same id replaces the old one; 1.6 also replaces one
with the same EVSE, purpose and stack level, where 2.0.1 rejects it when their
validities overlap (K01.FR.06). A reboot keeps only the persistent profiles
(:meth:`ProfileStack.power_cycle`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from depotctl.domain.charge_points import RateUnit
from depotctl.sim.chargers.profiles import Kind, Profile, Purpose

MAX_STACK_LEVEL = 8
MAX_PERIODS = 24
MAX_PROFILES = 32


class ProfileRejected(Exception):
    """Why a profile was not installed; ``reason`` is a 2.0.1 ``reasonCode``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the charger accepts."""

    units: frozenset[RateUnit] = frozenset({RateUnit.AMPS, RateUnit.WATTS})
    tx_profile: bool = True
    v16: bool = True
    max_stack_level: int = MAX_STACK_LEVEL
    max_periods: int = MAX_PERIODS


@dataclass(frozen=True, slots=True)
class ClearCriteria:
    """Which profiles a ClearChargingProfile removes: the one with ``profile_id``
    when given, else those matching every other criterion given (None: any)."""

    profile_id: int | None = None
    evse: int | None = None
    purpose: Purpose | None = None
    stack_level: int | None = None

    def matches(self, profile: Profile) -> bool:
        if self.profile_id is not None:
            return profile.id == self.profile_id
        return (
            (self.evse is None or profile.evse == self.evse)
            and (self.purpose is None or profile.purpose is self.purpose)
            and (self.stack_level is None or profile.stack_level == self.stack_level)
        )


class ProfileStack:
    """The installed profiles of one charger."""

    def __init__(self, capabilities: Capabilities | None = None) -> None:
        self.capabilities = capabilities or Capabilities()
        self.profiles: list[Profile] = []

    def install(
        self,
        profile: Profile,
        evses: Iterable[int],
        transactions: Mapping[int, str | None],
    ) -> Profile:
        """Check and install ``profile``; returns it as installed (a 1.6 ``TxProfile``
        without a transaction id is bound to the running one). Raises
        :class:`ProfileRejected`."""
        profile = self._checked(profile, set(evses), transactions)
        kept = [p for p in self.profiles if p.id != profile.id]
        same_slot = [
            p
            for p in kept
            if p.evse == profile.evse
            and p.purpose is profile.purpose
            and p.stack_level == profile.stack_level
        ]
        if self.capabilities.v16:
            kept = [p for p in kept if p not in same_slot]
        elif any(p.overlaps(profile) for p in same_slot):
            raise ProfileRejected(
                "DuplicateProfile",
                f"profile {same_slot[0].id} already has {profile.purpose.value} at stack "
                f"level {profile.stack_level} on EVSE {profile.evse} for an overlapping period",
            )
        if len(kept) >= MAX_PROFILES:
            raise ProfileRejected("TooManyProfiles", f"{MAX_PROFILES} profiles installed already")
        self.profiles = [*kept, profile]
        return profile

    def clear(self, criteria: ClearCriteria) -> int:
        """Remove the profiles matching ``criteria``; how many were removed."""
        before = len(self.profiles)
        self.profiles = [p for p in self.profiles if not criteria.matches(p)]
        return before - len(self.profiles)

    def power_cycle(self) -> int:
        """The charger rebooted: it keeps only its persistent profiles — stack level 0,
        no ``validTo``, not a ``TxProfile`` (the controller's fallback and the
        charger-wide maximum) — as real chargers keep what they stored; how many went."""
        before = len(self.profiles)
        self.profiles = [p for p in self.profiles if persistent(p)]
        return before - len(self.profiles)

    def end_transaction(self, evse: int) -> None:
        """A transaction ended on ``evse``: its ``TxProfile``s go with it."""
        self.profiles = [
            p for p in self.profiles if not (p.purpose is Purpose.TX and p.evse == evse)
        ]

    def _checked(
        self, profile: Profile, evses: set[int], transactions: Mapping[int, str | None]
    ) -> Profile:
        caps = self.capabilities
        if profile.evse != 0 and profile.evse not in evses:
            raise ProfileRejected("UnknownEvse", f"no EVSE {profile.evse}")
        if profile.purpose is Purpose.TX:  # first: whatever else it says, not for us
            profile = self._bound(profile, transactions)
        if profile.schedule.unit not in caps.units:
            supported = ", ".join(sorted(u.value for u in caps.units))
            raise ProfileRejected(
                "UnsupportedRateUnit",
                f"rate unit {profile.schedule.unit.value} not supported (only {supported})",
            )
        if profile.purpose is Purpose.EXTERNAL:
            raise ProfileRejected("InvalidProfile", "external constraints are set locally")
        if profile.purpose is Purpose.STATION_MAX:
            if profile.evse != 0:
                raise ProfileRejected("InvalidProfile", "a charger-wide maximum belongs on EVSE 0")
            if not caps.v16 and profile.kind is Kind.RELATIVE:
                raise ProfileRejected("InvalidProfile", "a charger-wide maximum cannot be Relative")
        if not 0 <= profile.stack_level <= caps.max_stack_level:
            raise ProfileRejected(
                "InvalidStackLevel",
                f"stack level {profile.stack_level} outside 0..{caps.max_stack_level}",
            )
        self._check_schedule(profile)
        return profile

    def _bound(self, profile: Profile, transactions: Mapping[int, str | None]) -> Profile:
        if not self.capabilities.tx_profile:
            raise ProfileRejected("UnsupportedPurpose", "TxProfile not supported")
        if profile.evse == 0:
            raise ProfileRejected("InvalidProfile", "a TxProfile needs an EVSE")
        running = transactions.get(profile.evse)
        if running is None:
            raise ProfileRejected("TxNotFound", f"no transaction on EVSE {profile.evse}")
        if profile.transaction_id is None:
            if not self.capabilities.v16:
                raise ProfileRejected("InvalidProfile", "a TxProfile needs its transactionId")
            return _with_transaction(profile, running)
        if profile.transaction_id != running:
            raise ProfileRejected(
                "TxNotFound",
                f"transaction {profile.transaction_id} is not the one on EVSE {profile.evse}",
            )
        return profile

    def _check_schedule(self, profile: Profile) -> None:
        schedule = profile.schedule
        periods = schedule.periods
        if not periods:
            raise ProfileRejected("InvalidSchedule", "no charging schedule periods")
        if len(periods) > self.capabilities.max_periods:
            raise ProfileRejected(
                "InvalidSchedule",
                f"{len(periods)} periods, more than {self.capabilities.max_periods}",
            )
        if periods[0].start_s != 0:
            raise ProfileRejected("InvalidSchedule", "the first period must start at 0")
        if any(b.start_s <= a.start_s for a, b in itertools.pairwise(periods)):
            raise ProfileRejected("InvalidSchedule", "periods must start in increasing order")
        if any(p.limit < 0 for p in periods):
            raise ProfileRejected("InvalidSchedule", "a limit below 0")
        if any(p.number_phases is not None and p.number_phases not in (1, 2, 3) for p in periods):
            raise ProfileRejected("InvalidSchedule", "numberPhases must be 1, 2 or 3")
        if schedule.start is None and (
            profile.kind is Kind.RECURRING
            or (profile.kind is Kind.ABSOLUTE and not self.capabilities.v16)
        ):
            # a 1.6 Absolute schedule without a start begins when it arrives
            raise ProfileRejected(
                "InvalidSchedule", f"an {profile.kind.value} schedule needs its startSchedule"
            )
        if (
            profile.kind is Kind.RELATIVE
            and schedule.start is not None
            and not self.capabilities.v16
        ):
            raise ProfileRejected("InvalidSchedule", "a Relative schedule has no startSchedule")
        if profile.kind is Kind.RECURRING and profile.recurrency is None:
            raise ProfileRejected("InvalidSchedule", "a Recurring profile needs its recurrencyKind")
        if schedule.duration_s is not None and schedule.duration_s <= 0:
            raise ProfileRejected("InvalidSchedule", "a duration must be above 0")


def persistent(profile: Profile) -> bool:
    """Whether ``profile`` survives a reboot (see :meth:`ProfileStack.power_cycle`)."""
    return (
        profile.purpose is not Purpose.TX and profile.stack_level == 0 and profile.valid_to is None
    )


def _with_transaction(profile: Profile, transaction_id: str) -> Profile:
    return replace(profile, transaction_id=transaction_id)
