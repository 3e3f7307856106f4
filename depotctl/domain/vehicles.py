"""The site's vehicles: who a session's OCPP idTag / idToken belongs to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


def token_key(token: str) -> str:
    """An idTag / idToken as the roster compares it: without surrounding blanks, in
    upper case (OCPP 1.6 compares IdTokens case-insensitively; RFID UIDs are hex)."""
    return token.strip().upper()


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One vehicle of the site: its id (``bus-42``), its fleet operator's id, and the
    tokens it authorises with."""

    id: str
    fleet: str | None = None
    id_tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VehicleRoster:
    """The site's vehicles by id, and by token key (:func:`token_key`)."""

    vehicles: Mapping[str, Vehicle] = field(default_factory=dict)
    by_token: Mapping[str, Vehicle] = field(default_factory=dict)

    @classmethod
    def of(cls, vehicles: Iterable[Vehicle]) -> VehicleRoster:
        """The roster of ``vehicles`` (the first one listed wins a repeated id or token;
        validation refuses both)."""
        by_id: dict[str, Vehicle] = {}
        by_token: dict[str, Vehicle] = {}
        for vehicle in vehicles:
            by_id.setdefault(vehicle.id, vehicle)
            for tag in vehicle.id_tags:
                by_token.setdefault(token_key(tag), vehicle)
        return cls(by_id, by_token)

    def of_token(self, token: str | None) -> Vehicle | None:
        """The vehicle a token belongs to; None for no token or one the site does not
        list (never a guess)."""
        if token is None:
            return None
        return self.by_token.get(token_key(token))
