"""The controller's durable state: one SQLite file in the state directory.

It holds the site revisions, the append-only journal, envelopes (with their last
evaluated state), when each envelope source was last heard from and its last
evaluated health, sessions, charger states, the latest reading per node and its
history, operator overrides and alerts. Secrets never go in here (the journal
refuses data keys that name one).

:class:`Store` opens the file and runs its migrations (:mod:`.database`); one
repository per aggregate reads and writes it (:mod:`.revisions`, :mod:`.journal`,
:mod:`.envelopes`, :mod:`.sources`, :mod:`.sessions`, :mod:`.chargers`,
:mod:`.telemetry`, :mod:`.overrides`, :mod:`.alerts`), all of them over one unit of
work (:mod:`.units`): ``with units() as uow: ...`` is one transaction. Journal
entries are made by :func:`journal_entry`.
"""

from depotctl.controller.migrations import StoreVersionError
from depotctl.controller.store.database import Store
from depotctl.controller.store.errors import (
    EnvelopeConflict,
    RevisionConflict,
    SessionConflict,
    StoreError,
    UnknownEnvelope,
    UnknownRevision,
    UnknownSession,
)
from depotctl.controller.store.journal import (
    JournalEntry,
    JournalKind,
    NewJournalEntry,
    journal_entry,
)
from depotctl.controller.store.revisions import Revision, site_hash
from depotctl.controller.store.sessions import SessionRecord
from depotctl.controller.store.sources import SourceState
from depotctl.controller.store.telemetry import TelemetryMinute, TelemetryQuarter
from depotctl.controller.store.units import UnitOfWork, Units
from depotctl.domain.overrides import EvseOverride

__all__ = [
    "EnvelopeConflict",
    "EvseOverride",
    "JournalEntry",
    "JournalKind",
    "NewJournalEntry",
    "Revision",
    "RevisionConflict",
    "SessionConflict",
    "SessionRecord",
    "SourceState",
    "Store",
    "StoreError",
    "StoreVersionError",
    "TelemetryMinute",
    "TelemetryQuarter",
    "UnitOfWork",
    "Units",
    "UnknownEnvelope",
    "UnknownRevision",
    "UnknownSession",
    "journal_entry",
    "site_hash",
]
