"""Misbehaviour on request, per charger: for tests, demos and fault drills.

Written ``MODE`` or ``MODE=VALUE`` (``reject-profiles``, ``offline=2min@10min``,
``reboot@10min``); on the command line ``CHARGER:MODE``, where CHARGER is a node id,
an OCPP id, or ``*`` for every charger. Times are controller seconds after the
simulator started.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from depotctl.domain.charge_points import RateUnit
from depotctl.domain.quantity import Duration, QuantityError, Ratio

#: mode -> what it does (for --help and the docs)
MODES: dict[str, str] = {
    "reject-profiles": "answer every SetChargingProfile with Rejected",
    "reject-tx-profiles": "reject TxProfile (as chargers with the tx_profile_unsupported quirk do)",
    "ignore-profiles": "answer Accepted but keep drawing as before",
    "no-answer": "never answer any request of the controller, from the first one on (they time out)",
    "offline=DURATION[@AFTER]": "drop the connection AFTER the start (default at once) for DURATION, then reconnect",
    "offline=DURATION@random SHARE/WINDOW": "of the chargers the assignment names, SHARE go "
    "offline once each for DURATION, at a random moment in the first WINDOW (from --seed)",
    "reboot@AFTER": "reboot once, AFTER the start: drop the connection, forget every transaction "
    "and every profile but the persistent ones, come back after the boot time as a new connection",
    "reboot=every PERIOD[@FIRST]": "reboot every PERIOD (the first at FIRST, default after PERIOD)",
    "reboot=random SHARE/WINDOW": "of the chargers the assignment names, SHARE (e.g. 10%) reboot once "
    "each, at a random moment in the first WINDOW; which and when follow from --seed",
    "boot-time=DURATION": "how long a reboot keeps the charger away (default 20 s)",
    "reconnect-without-boot": "after a lost connection (not a reboot) reconnect without "
    "BootNotification and answer at once, as OCPP 2.0.1 stations do; transactions go on",
    "stale-meter-values[=AGE]": "time-stamp meter values AGE in the past (default 15 min)",
    "bad-meter-values": "send out-of-schema meter values (1.6 numbers, 2.0.1 strings)",
    "rate-unit=A|W": "support only this charging-rate unit (reject profiles in the other)",
}

DEFAULT_STALE_S = 15 * 60.0
#: controller seconds a rebooting charger stays away, unless boot-time says otherwise
DEFAULT_BOOT_S = 20.0


class MisbehaviourError(ValueError):
    """A mode that does not parse."""


@dataclass(frozen=True, slots=True)
class Outage:
    """Offline from ``after_s`` (controller seconds after the simulator started) for
    ``duration_s``."""

    after_s: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class Periodic:
    """A reboot every ``every_s``, the first at ``first_s``."""

    every_s: float
    first_s: float


@dataclass(frozen=True, slots=True)
class RandomReboots:
    """``share`` of the chargers an assignment names reboot once each, at a random
    moment in the first ``window_s`` (drawn for the fleet: :mod:`drills`)."""

    share: float
    window_s: float


@dataclass(frozen=True, slots=True)
class RandomOutages:
    """``share`` of the chargers an assignment names go offline once each for
    ``duration_s``, at a random moment in the first ``window_s`` (:mod:`drills`)."""

    share: float
    window_s: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class Reboots:
    """When a charger reboots, in controller seconds after the simulator started."""

    at_s: tuple[float, ...] = ()
    periodic: tuple[Periodic, ...] = ()

    def next_after(self, after_s: float) -> float | None:
        """The first reboot strictly after ``after_s``, None if there is none."""
        found = [t for t in self.at_s if t > after_s]
        for p in self.periodic:
            if after_s < p.first_s:
                found.append(p.first_s)
            else:
                found.append(
                    p.first_s + (math.floor((after_s - p.first_s) / p.every_s) + 1) * p.every_s
                )
        return min(found, default=None)

    def merged(self, other: Reboots) -> Reboots:
        return Reboots(
            tuple(sorted({*self.at_s, *other.at_s})),
            (*self.periodic, *(p for p in other.periodic if p not in self.periodic)),
        )


@dataclass(frozen=True, slots=True)
class Misbehaviour:
    reject_profiles: bool = False
    reject_tx_profiles: bool = False
    ignore_profiles: bool = False
    no_answer: bool = False
    reconnect_without_boot: bool = False
    outages: tuple[Outage, ...] = ()
    reboots: Reboots = Reboots()
    random_reboots: tuple[RandomReboots, ...] = ()
    random_outages: tuple[RandomOutages, ...] = ()
    boot_s: float | None = None
    stale_meter_s: float | None = None
    bad_meter_values: bool = False
    rate_units: frozenset[RateUnit] | None = None
    modes: tuple[str, ...] = field(default=())

    @property
    def boot_time_s(self) -> float:
        """How long a reboot keeps the charger away."""
        return DEFAULT_BOOT_S if self.boot_s is None else self.boot_s

    @classmethod
    def parse(cls, text: str) -> Misbehaviour:
        head, _, value = text.strip().partition("=")
        mode, at, after = head.strip().partition("@")
        mode = mode.strip()
        if at and mode != "reboot":
            raise MisbehaviourError(f"{head.strip()!r}: only reboot takes @AFTER before its '='")
        plain = {
            "reject-profiles": cls(reject_profiles=True),
            "reject-tx-profiles": cls(reject_tx_profiles=True),
            "ignore-profiles": cls(ignore_profiles=True),
            "no-answer": cls(no_answer=True),
            "reconnect-without-boot": cls(reconnect_without_boot=True),
            "bad-meter-values": cls(bad_meter_values=True),
        }
        if mode in plain:
            if value:
                raise MisbehaviourError(f"{mode} takes no value")
            found = plain[mode]
        elif mode == "offline" and "@random" in value:
            found = cls(random_outages=(_random_outage(value),))
        elif mode == "offline":
            found = cls(outages=(_outage(value),))
        elif mode == "reboot":
            found = _reboot(after if at else None, value)
        elif mode == "boot-time":
            if not value:
                raise MisbehaviourError("boot-time needs a duration: boot-time=45s")
            found = cls(boot_s=_seconds(value, "boot-time"))
        elif mode == "stale-meter-values":
            age = _seconds(value, "stale-meter-values") if value else DEFAULT_STALE_S
            found = cls(stale_meter_s=age)
        elif mode == "rate-unit":
            try:
                found = cls(rate_units=frozenset({RateUnit(value.strip())}))
            except ValueError:
                raise MisbehaviourError(f"rate-unit={value!r}: expected A or W") from None
        else:
            known = ", ".join(MODES)
            raise MisbehaviourError(f"unknown mode {mode!r}; the modes are: {known}")
        return replace(found, modes=(text.strip(),))

    def merged(self, other: Misbehaviour) -> Misbehaviour:
        return Misbehaviour(
            reject_profiles=self.reject_profiles or other.reject_profiles,
            reject_tx_profiles=self.reject_tx_profiles or other.reject_tx_profiles,
            ignore_profiles=self.ignore_profiles or other.ignore_profiles,
            no_answer=self.no_answer or other.no_answer,
            reconnect_without_boot=self.reconnect_without_boot or other.reconnect_without_boot,
            outages=tuple(sorted({*self.outages, *other.outages}, key=lambda o: o.after_s)),
            reboots=self.reboots.merged(other.reboots),
            random_reboots=(
                *self.random_reboots,
                *(r for r in other.random_reboots if r not in self.random_reboots),
            ),
            random_outages=(
                *self.random_outages,
                *(r for r in other.random_outages if r not in self.random_outages),
            ),
            boot_s=other.boot_s if other.boot_s is not None else self.boot_s,
            stale_meter_s=other.stale_meter_s
            if other.stale_meter_s is not None
            else self.stale_meter_s,
            bad_meter_values=self.bad_meter_values or other.bad_meter_values,
            rate_units=other.rate_units if other.rate_units is not None else self.rate_units,
            modes=(*self.modes, *(m for m in other.modes if m not in self.modes)),
        )


NONE = Misbehaviour()

_REBOOT_FORMS = "reboot@10min, reboot=every 30min[@FIRST] or reboot=random 10%/8h"


def parse_assignment(text: str) -> tuple[str, Misbehaviour]:
    """``CHARGER:MODE`` → (charger, its misbehaviour)."""
    charger, colon, mode = text.partition(":")
    if not colon or not charger.strip() or not mode.strip():
        raise MisbehaviourError(f"{text!r}: expected CHARGER:MODE, e.g. CP-07:reject-profiles")
    return charger.strip(), Misbehaviour.parse(mode)


def _outage(value: str) -> Outage:
    if not value:
        raise MisbehaviourError("offline needs a duration: offline=2min or offline=2min@10min")
    duration_text, _, after_text = value.partition("@")
    duration = _seconds(duration_text, "offline")
    if duration <= 0:
        raise MisbehaviourError("offline: the duration must be above 0")
    after = _seconds(after_text, "offline") if after_text else 0.0
    return Outage(after_s=after, duration_s=duration)


def _random_outage(value: str) -> RandomOutages:
    """``offline=DURATION@random SHARE/WINDOW``."""
    duration_text, _, drill = value.partition("@random")
    duration = _seconds(duration_text, "offline")
    if duration <= 0:
        raise MisbehaviourError("offline: the duration must be above 0")
    share, window = _share_window(drill, "offline=DURATION@random")
    return RandomOutages(share, window, duration)


def _share_window(text: str, mode: str) -> tuple[float, float]:
    """``SHARE/WINDOW`` (``10%/8h``): the share of chargers, the window in seconds."""
    share_text, slash, window_text = text.strip().partition("/")
    if not slash:
        raise MisbehaviourError(f"{mode} needs SHARE/WINDOW, e.g. 10%/8h")
    try:
        share = float(Ratio.parse(share_text.strip()).base)
    except QuantityError as error:
        raise MisbehaviourError(f"{mode}: {error.message} ({error.hint})") from None
    if not 0 <= share <= 1:
        raise MisbehaviourError(f"{mode}: the share must be between 0 % and 100 %")
    window = _seconds(window_text, mode)
    if window <= 0:
        raise MisbehaviourError(f"{mode}: the window must be above 0")
    return share, window


def _reboot(after: str | None, value: str) -> Misbehaviour:
    """``reboot@AFTER``, ``reboot=every PERIOD[@FIRST]``, ``reboot=random SHARE/WINDOW``."""
    if after is not None:
        if value:
            raise MisbehaviourError(f"reboot@{after} takes no value; the forms are {_REBOOT_FORMS}")
        return Misbehaviour(reboots=Reboots(at_s=(_seconds(after, "reboot"),)))
    kind, _, rest = value.strip().partition(" ")
    if kind == "every" and rest.strip():
        period_text, _, first_text = rest.partition("@")
        period = _seconds(period_text, "reboot")
        if period <= 0:
            raise MisbehaviourError("reboot=every: the period must be above 0")
        first = _seconds(first_text, "reboot") if first_text.strip() else period
        return Misbehaviour(reboots=Reboots(periodic=(Periodic(period, first),)))
    if kind == "random" and rest.strip():
        share, window = _share_window(rest, "reboot=random")
        return Misbehaviour(random_reboots=(RandomReboots(share, window),))
    raise MisbehaviourError(f"reboot needs a time: {_REBOOT_FORMS}")


def _seconds(text: str, mode: str) -> float:
    try:
        seconds = Duration.parse(text.strip()).seconds
    except QuantityError as error:
        raise MisbehaviourError(f"{mode}: {error.message} ({error.hint})") from None
    if seconds < 0:
        raise MisbehaviourError(f"{mode}: {text!r} is negative")
    return seconds
