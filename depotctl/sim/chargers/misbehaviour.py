"""Misbehaviour on request, per charger: for tests, demos and fault drills.

Written ``MODE`` or ``MODE=VALUE`` (``reject-profiles``, ``offline=2min@10min``);
on the command line ``CHARGER:MODE``, where CHARGER is a node id, an OCPP id, or
``*`` for every charger.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from depotctl.domain.charge_points import RateUnit
from depotctl.domain.quantity import Duration, QuantityError

#: mode -> what it does (for --help and the docs)
MODES: dict[str, str] = {
    "reject-profiles": "answer every SetChargingProfile with Rejected",
    "reject-tx-profiles": "reject TxProfile (as chargers with the tx_profile_unsupported quirk do)",
    "ignore-profiles": "answer Accepted but keep drawing as before",
    "no-answer": "never answer the controller's requests (they time out)",
    "offline=DURATION[@AFTER]": "drop the connection AFTER the start (default at once) for DURATION, then reconnect",
    "stale-meter-values[=AGE]": "time-stamp meter values AGE in the past (default 15 min)",
    "bad-meter-values": "send out-of-schema meter values (1.6 numbers, 2.0.1 strings)",
    "rate-unit=A|W": "support only this charging-rate unit (reject profiles in the other)",
}

DEFAULT_STALE_S = 15 * 60.0


class MisbehaviourError(ValueError):
    """A mode that does not parse."""


@dataclass(frozen=True, slots=True)
class Outage:
    """Offline from ``after_s`` (controller seconds after the simulator started) for
    ``duration_s``."""

    after_s: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class Misbehaviour:
    reject_profiles: bool = False
    reject_tx_profiles: bool = False
    ignore_profiles: bool = False
    no_answer: bool = False
    outages: tuple[Outage, ...] = ()
    stale_meter_s: float | None = None
    bad_meter_values: bool = False
    rate_units: frozenset[RateUnit] | None = None
    modes: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, text: str) -> Misbehaviour:
        mode, _, value = text.strip().partition("=")
        mode = mode.strip()
        plain = {
            "reject-profiles": cls(reject_profiles=True),
            "reject-tx-profiles": cls(reject_tx_profiles=True),
            "ignore-profiles": cls(ignore_profiles=True),
            "no-answer": cls(no_answer=True),
            "bad-meter-values": cls(bad_meter_values=True),
        }
        if mode in plain:
            if value:
                raise MisbehaviourError(f"{mode} takes no value")
            found = plain[mode]
        elif mode == "offline":
            found = cls(outages=(_outage(value),))
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
            outages=tuple(sorted({*self.outages, *other.outages}, key=lambda o: o.after_s)),
            stale_meter_s=other.stale_meter_s
            if other.stale_meter_s is not None
            else self.stale_meter_s,
            bad_meter_values=self.bad_meter_values or other.bad_meter_values,
            rate_units=other.rate_units if other.rate_units is not None else self.rate_units,
            modes=(*self.modes, *(m for m in other.modes if m not in self.modes)),
        )


NONE = Misbehaviour()


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


def _seconds(text: str, mode: str) -> float:
    try:
        seconds = Duration.parse(text.strip()).seconds
    except QuantityError as error:
        raise MisbehaviourError(f"{mode}: {error.message} ({error.hint})") from None
    if seconds < 0:
        raise MisbehaviourError(f"{mode}: {text!r} is negative")
    return seconds
