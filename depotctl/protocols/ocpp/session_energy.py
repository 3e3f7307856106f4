"""A transaction's energy, from its EVSE's energy register.

The energy a session has received is the register now less the register at the
transaction's start; both come from the same meter, the EVSE's own. Values for the
charger as a whole (1.6 connector 0, 2.0.1 EVSE 0) measure every EVSE and the
charger's own use, and never count towards a session (the caller's part).

- **The start** is the charger's word when it gives it: 1.6 ``meterStart``, or a
  register read in context ``Transaction.Begin`` (2.0.1 TransactionEvent Started, or
  any later message carrying it). Without it the first read stands in for the start
  (the energy before it is unknown) until the charger's word arrives and replaces it.
  After a controller restart the start is inferred from the first read and the
  energy recorded before it (``recorded_wh``).
- **Reads only ever raise it**: the register only grows, so a read below the highest
  so far (a stale or out-of-order value, a meter reset) never lowers the energy; a
  stop value (1.6 ``meterStop``, ``Transaction.End``) is one more read, so the energy
  at the end is never less than the reads already showed; and it is never less than
  what the controller had recorded before a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SessionEnergy:
    """One transaction's register bookkeeping. ``start_wh`` is the register at its
    start as the charger said it (None: not said); ``recorded_wh`` the energy the
    controller had recorded for it before a restart (None: a new transaction)."""

    start_wh: float | None = None
    recorded_wh: float | None = None
    #: whether ``start_wh`` is the charger's word (else inferred from a read)
    start_said: bool = field(init=False)
    #: the highest register read during the transaction
    highest_wh: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.start_said = self.start_wh is not None

    @property
    def energy_wh(self) -> float | None:
        """The energy delivered so far; None while nothing tells it."""
        if self.start_wh is None or self.highest_wh is None:
            if self.recorded_wh is not None:
                return self.recorded_wh
            return 0.0 if self.start_said else None
        return max(self.recorded_wh or 0.0, self.highest_wh - self.start_wh)

    def record(self, register_wh: float, *, begins: bool = False) -> float | None:
        """A register read of the EVSE (``begins``: the transaction's start, as the
        charger said it); the energy delivered so far."""
        if begins:
            if not self.start_said:
                self.start_wh, self.start_said = register_wh, True
            return self.energy_wh
        if self.start_wh is None:
            self.start_wh = register_wh - (self.recorded_wh or 0.0)
        if self.highest_wh is None or register_wh > self.highest_wh:
            self.highest_wh = register_wh
        return self.energy_wh
