"""How long the chargers take to answer, in wall time, and so how long to wait for an
answer before calling it lost.

One estimator for the whole endpoint: what makes answers late on a loaded machine —
the controller's event loop, the chargers' (simulated ones share the machine), the
operating system's scheduler — is common to every charger, so every answer teaches
every queue. It is the retransmission timer of TCP (RFC 6298): a smoothed round trip
``srtt`` and its mean deviation ``rttvar`` from each answered call, and a wait of
``srtt + 4 rttvar`` (K = 4: answers later than that are rare, whatever the spread) —
and at least half again the longest of the latest answers (:data:`RECENT`): the
smoothing follows a load that rises fast (the start-up of a fleet) and a heavy tail
(a cycle's burst of commands) too slowly, where the latest answers already show
them. Never below ``floor_s`` (a network's round trip on a fast clock) nor above
``ceiling_s``; before the first answer, ``floor_s``. A call that times out doubles the
wait (up to the ceiling) until an answer is heard again: a machine that has just
become slower is caught up with within a few calls, and a charger that never answers
only costs its own queue a longer wait. So an answer late only because of the load
is not taken for a lost one, and a silent charger is still found out within
``ceiling_s``."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

#: the weights of a new sample in srtt and rttvar (RFC 6298: 1/8 and 1/4)
_ALPHA = 0.125
_BETA = 0.25
#: the deviations added to srtt
_K = 4.0
#: the latest answers whose longest, half again, the wait is at least
RECENT = 100
_RECENT_FACTOR = 1.5


@dataclass(slots=True)
class RoundTrips:
    """Answered round trips (wall seconds) → how long to wait for the next answer."""

    floor_s: float
    ceiling_s: float
    srtt_s: float | None = None
    rttvar_s: float = 0.0
    _recent: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT))
    _backed_off_s: float | None = None

    def answered(self, seconds: float) -> None:
        """A call was answered (a response or a CallError) ``seconds`` after it went."""
        sample = max(0.0, seconds)
        if self.srtt_s is None:
            self.srtt_s, self.rttvar_s = sample, sample / 2
        else:
            self.rttvar_s = (1 - _BETA) * self.rttvar_s + _BETA * abs(self.srtt_s - sample)
            self.srtt_s = (1 - _ALPHA) * self.srtt_s + _ALPHA * sample
        self._recent.append(sample)
        self._backed_off_s = None

    def timed_out(self) -> None:
        """A call went unanswered for :meth:`wait_s`: wait twice as long from now on,
        until an answer is heard."""
        self._backed_off_s = min(self.ceiling_s, 2 * self.wait_s())

    def wait_s(self) -> float:
        """How long (wall) to wait for an answer before the call counts as lost."""
        if self._backed_off_s is not None:
            return self._backed_off_s
        if self.srtt_s is None:
            return self.floor_s
        smoothed = self.srtt_s + _K * self.rttvar_s
        latest = _RECENT_FACTOR * max(self._recent)
        return min(self.ceiling_s, max(self.floor_s, smoothed, latest))
