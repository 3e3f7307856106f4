"""Recorded charging sessions: ACN-Data read, mapped onto a site's EVSEs and selected.

One input, two users: the offline replay (:mod:`depotctl.replay`) steps through them,
and the simulated chargers (:mod:`depotctl.sim.chargers`) plug in vehicles that follow
them. Depends on the domain only.
"""

from depotctl.recordings.acn import (
    AcnFormatError,
    AcnSession,
    DemandBasis,
    ReplaySession,
    SessionSelection,
    read_sessions,
    select_sessions,
)

__all__ = [
    "AcnFormatError",
    "AcnSession",
    "DemandBasis",
    "ReplaySession",
    "SessionSelection",
    "read_sessions",
    "select_sessions",
]
