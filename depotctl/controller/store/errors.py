"""What the store refuses, in the site's terms."""

from __future__ import annotations


class StoreError(Exception):
    """A request the store's state refuses (the message says why, in the site's terms)."""


class RevisionConflict(StoreError):
    """The current revision moved since the caller read it (a stale plan, or a
    concurrent apply)."""

    def __init__(self, expected: int | None, current: int | None) -> None:
        self.expected = expected
        self.current = current
        want = f"revision {expected}" if expected is not None else "no revision yet"
        have = f"revision {current}" if current is not None else "no revision"
        super().__init__(f"expected {want} to be current, but the store has {have}")


class UnknownRevision(StoreError, LookupError):
    pass


class EnvelopeConflict(StoreError):
    """An envelope id is already stored with different content."""


class UnknownEnvelope(StoreError, LookupError):
    pass


class SessionConflict(StoreError):
    """A session cannot start or change: its id is taken, its EVSE already has an open
    session, or it has ended."""


class UnknownSession(StoreError, LookupError):
    pass
