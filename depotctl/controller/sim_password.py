"""Simulation only: every charger authenticates with one password, from one environment
variable (``serve --clock sim --charger-password-env VAR``) — the one ``sim chargers
--password-env VAR`` sends — instead of the site's ``password_env``/``password_file``.
So a site whose secrets this machine does not have (a bundled one names
``/run/secrets/…``) runs against simulated chargers as shipped, and no real charger's
secret is ever needed for it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from depotctl.domain.charge_points import ChargePoint, PasswordRef

Roster = Callable[[], Mapping[str, ChargePoint]]


def sharing_password(roster: Roster, variable: str) -> Roster:
    """``roster``, each charge point's password read from ``variable`` (the same
    mapping back while ``roster`` gives the same one: a revision applied changes it)."""
    ref = PasswordRef(env=variable)
    last: list[tuple[Mapping[str, ChargePoint], Mapping[str, ChargePoint]]] = []

    def shared() -> Mapping[str, ChargePoint]:
        charge_points = roster()
        if not last or last[0][0] is not charge_points:
            last[:] = [
                (
                    charge_points,
                    {key: replace(cp, password=ref) for key, cp in charge_points.items()},
                )
            ]
        return last[0][1]

    return shared
