"""Fairness rotation without churn: the minimum on and off times of admission.

Within a tier, sessions are admitted at their minimum current in the policy's order
(least laxity first by default). As they charge their laxities change, so that order
alone would admit a different set every cycle. The policy's ``min_on_s`` and
``min_off_s`` make admission sticky — only the choice among equals:

- an EVSE switched on less than ``min_on_s`` ago (counted from its session's start if
  that is later: a vehicle that began at its start allowance) is **held on**: it
  comes first in its tier;
- an EVSE switched off during its session less than ``min_off_s`` ago is **held
  off**: it comes last in its tier, after every other EVSE of it that can charge;
- every other EVSE is **free**, in the policy's order between the two.

Admission still goes wherever the minimum fits along the whole path and tiers are
still served strictly in order, so a held-on EVSE is paused at once when a limit
leaves no room for it (a tighter envelope, a higher tier, an uncontrollable
charger), and a held-off one is switched on when room is left over. A paused EVSE's
explanation says when rotation held it back (:mod:`.rotation_words`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from depotctl.domain.admission import Admission
from depotctl.domain.sessions import Session
from depotctl.domain.snapshot import Snapshot
from depotctl.engine.structure import Structure
from depotctl.engine.waterfill import Ints

#: Ranks within a tier, first admitted first.
HELD_ON, FREE, HELD_OFF = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Hold:
    """An EVSE held on (``on``) or off since ``since``, until ``until``."""

    on: bool
    since: datetime
    until: datetime


def hold_of(snapshot: Snapshot, session: Session, record: Admission | None) -> Hold | None:
    """Whether ``session``'s EVSE, switched on or off as ``record`` says, is held on or
    off at ``snapshot.at``; None when it is free."""
    if record is None:
        return None
    policy = snapshot.policy
    if record.on:
        since = max(record.since, session.started)  # on during this session since then
        until = since + timedelta(seconds=policy.min_on_s)
    elif record.since >= session.started:  # switched off during this session
        since = record.since
        until = since + timedelta(seconds=policy.min_off_s)
    else:
        return None  # off since before the session: it was never switched off in it
    return Hold(record.on, since, until) if snapshot.at < until else None


def admission_ranks(snapshot: Snapshot, structure: Structure, sessions: dict[int, Session]) -> Ints:
    """Per EVSE (structure order): HELD_ON, FREE or HELD_OFF — :func:`hold_of`'s rule,
    without building a :class:`Hold` for each (a cycle reads hundreds)."""
    ranks = np.full(len(structure.evse_ids), FREE, dtype=np.intp)
    admission = snapshot.admission
    if not admission:
        return ranks
    at = snapshot.at
    min_on = timedelta(seconds=snapshot.policy.min_on_s)
    min_off = timedelta(seconds=snapshot.policy.min_off_s)
    for index, session in sessions.items():
        record = admission.get(session.evse_id)
        if record is None:
            continue
        since, started = record.since, session.started
        if record.on:
            if at - (since if since > started else started) < min_on:
                ranks[index] = HELD_ON
        elif since >= started and at - since < min_off:
            ranks[index] = HELD_OFF
    return ranks
