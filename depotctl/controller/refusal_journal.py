"""Refused OCPP connections into the journal and the log, in bounded form.

Whoever connects chooses how often they are refused, so what a refusal costs here is
bounded whatever they do: at most :data:`JOURNAL_BURST` ``charger.refused`` entries
in a burst and :data:`JOURNAL_PER_MINUTE` a minute after it, overall, in the
controller's clock; the same identity refused for the same reason again within
``quiet_s`` is not journaled again either. What is not journaled is counted — in
``/metrics`` (``depotctl_ocpp_refusals_unjournaled_total``, beside every refusal by
status in ``depotctl_ocpp_refusals_total``) and in the next entry ("… 312 more
refusals since the last entry"). Memory is fixed: a token bucket, a counter and the
last :data:`RECENT_MAX` (identity, reason) pairs.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime

from depotctl.controller.service import Controller
from depotctl.controller.store import JournalKind, journal_entry
from depotctl.protocols.ocpp.events import Refusal
from depotctl.protocols.ocpp.throttle import TokenBucket

log = logging.getLogger("depotctl.controller")

#: Entries in a burst …
JOURNAL_BURST = 5
#: … and a minute after it, all refusals together.
JOURNAL_PER_MINUTE = 5
#: The recent (identity, reason) pairs remembered to hold back repeats.
RECENT_MAX = 64
#: An identity from the URL is shown up to this many characters (OCPP's are 48 at most).
ID_SHOWN_MAX = 64


class RefusalJournal:
    """Journals refusals (see the module docstring) for one controller."""

    def __init__(self, controller: Controller, *, quiet_s: float = 60.0) -> None:
        self.controller = controller
        self.quiet_s = quiet_s
        self.unjournaled = 0
        self._bucket: TokenBucket | None = None
        self._recent: OrderedDict[tuple[str, str], datetime] = OrderedDict()

    def record(self, refusal: Refusal) -> None:
        """Count a refusal, and journal and log it if the bounds allow."""
        metrics = self.controller.metrics
        metrics.ocpp_refusals.labels(status=str(refusal.status)).inc()
        ocpp_id = _shown(refusal.ocpp_id)
        key = (ocpp_id, refusal.reason)
        if self._is_repeat(key, refusal.at) or not self._may_journal(refusal.at):
            self.unjournaled += 1
            metrics.ocpp_refusals_unjournaled.inc()
            return
        self._recent[key] = refusal.at
        self._recent.move_to_end(key)
        while len(self._recent) > RECENT_MAX:
            self._recent.popitem(last=False)
        more, self.unjournaled = self.unjournaled, 0
        who = f"charge point {ocpp_id!r}" + (
            f" (charger {refusal.charger_id})" if refusal.charger_id else ""
        )
        where = f" from {refusal.remote}" if refusal.remote else ""
        message = (
            f"refused the OCPP connection of {who}{where}: {refusal.reason} "
            f"(HTTP {refusal.status})"
            + (f"; {more} more refusal{'s' * (more != 1)} since the last entry" if more else "")
        )
        log.warning("%s", message, extra={"ocpp_id": ocpp_id, "status": refusal.status})
        at = self.controller.clock.now()  # when the controller heard it
        entry = journal_entry(
            JournalKind.CHARGER_REFUSED,
            message,
            at=at,
            data={
                "ocpp_id": ocpp_id,
                "charger": refusal.charger_id,
                "reason": refusal.reason,
                "status": refusal.status,
                "remote": refusal.remote,
                "unjournaled": more,
            },
        )
        self.controller.units().journal.record([entry])

    def _is_repeat(self, key: tuple[str, str], at: datetime) -> bool:
        last = self._recent.get(key)
        return last is not None and 0 <= (at - last).total_seconds() < self.quiet_s

    def _may_journal(self, at: datetime) -> bool:
        now = at.timestamp()
        if self._bucket is None:
            self._bucket = TokenBucket.full(JOURNAL_BURST, JOURNAL_PER_MINUTE / 60, now)
        return self._bucket.take(now)


def _shown(ocpp_id: str) -> str:
    return ocpp_id if len(ocpp_id) <= ID_SHOWN_MAX else ocpp_id[:ID_SHOWN_MAX] + "…"
