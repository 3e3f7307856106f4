"""The unit of work: every repository over one store, and one transaction.

::

    with units() as uow:
        uow.envelopes.put(envelope)
        uow.journal.record([journal_entry(JournalKind.ENVELOPE_RECEIVED, ..., at=now)])

commits both on success and neither on an exception (the store's read cache is then
forgotten). A unit inside another is a savepoint of it. A unit used without ``with``
reads, and writes each call in a transaction of its own — what a read-only service or
a test needs.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from depotctl.controller.store.alerts import Alerts
from depotctl.controller.store.chargers import Chargers
from depotctl.controller.store.cycle_inputs import CycleInputs
from depotctl.controller.store.database import Store
from depotctl.controller.store.envelopes import Envelopes
from depotctl.controller.store.journal import Journal
from depotctl.controller.store.oscp import OscpPeers
from depotctl.controller.store.overrides import Overrides
from depotctl.controller.store.revisions import Revisions
from depotctl.controller.store.sessions import Sessions
from depotctl.controller.store.sources import Sources
from depotctl.controller.store.telemetry import Telemetry


class UnitOfWork:
    """The repositories of one store; each ``with`` it is one transaction (inside
    another: a savepoint of it)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.revisions = Revisions(store)
        self.journal = Journal(store)
        self.envelopes = Envelopes(store)
        self.sources = Sources(store)
        self.sessions = Sessions(store)
        self.chargers = Chargers(store)
        self.telemetry = Telemetry(store)
        self.overrides = Overrides(store)
        self.alerts = Alerts(store)
        self.oscp = OscpPeers(store)
        self.cycle_inputs = CycleInputs(store)
        self._transactions: list[AbstractContextManager[None]] = []

    def __enter__(self) -> UnitOfWork:
        transaction = self.store.transaction()
        transaction.__enter__()
        self._transactions.append(transaction)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._transactions.pop().__exit__(*exc)


class Units:
    """The unit-of-work factory of one store: ``units()`` is a new unit of work."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.store)
