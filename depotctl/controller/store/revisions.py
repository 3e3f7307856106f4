"""The site revisions and the files bundled with them: never rewritten, only added."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import iso, parse, utc
from depotctl.controller.store.errors import RevisionConflict, UnknownRevision


def site_hash(site_text: str) -> str:
    """The revision hash: SHA-256 (hex) of the site text as UTF-8."""
    return hashlib.sha256(site_text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Revision:
    """An applied site. ``rollback_of`` is the revision whose text a rollback re-applied."""

    number: int
    hash: str
    created_at: datetime
    author: str
    message: str
    site_text: str
    rollback_of: int | None = None


class Revisions:
    """The revisions of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def current(self) -> Revision | None:
        rows = self._store.rows("SELECT * FROM revisions ORDER BY number DESC LIMIT 1")
        return _revision(rows[0]) if rows else None

    def all(self) -> list[Revision]:
        """Every revision, newest first."""
        return [
            _revision(r) for r in self._store.rows("SELECT * FROM revisions ORDER BY number DESC")
        ]

    def get(self, number: int) -> Revision | None:
        rows = self._store.rows("SELECT * FROM revisions WHERE number = ?", (number,))
        return _revision(rows[0]) if rows else None

    def add(
        self,
        site_text: str,
        *,
        author: str,
        message: str,
        at: datetime,
        expected_current: int | None,
        rollback_of: int | None = None,
    ) -> Revision:
        """Store ``site_text`` as the next revision, atomically, if the current revision
        is still ``expected_current`` (None: the store has none yet); otherwise raise
        :class:`RevisionConflict` and store nothing. ``rollback_of``: the revision whose
        text this re-applies."""
        with self._store.transaction():
            rows = self._store.rows("SELECT max(number) AS number FROM revisions")
            current: int | None = rows[0]["number"]
            if current != expected_current:
                raise RevisionConflict(expected_current, current)
            number, hashed = (current or 0) + 1, site_hash(site_text)
            self._store.write(
                "INSERT INTO revisions (number, hash, created_at, author, message, site_text,"
                " rollback_of) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (number, hashed, iso(at), author, message, site_text, rollback_of),
            )
            return Revision(number, hashed, utc(at), author, message, site_text, rollback_of)

    def rollback_to(
        self, number: int, *, author: str, at: datetime, message: str | None = None
    ) -> Revision:
        """A new revision with revision ``number``'s site text and files (history is
        never rewritten). Raises :class:`UnknownRevision`."""
        with self._store.transaction():
            target = self.get(number)
            if target is None:
                raise UnknownRevision(f"there is no revision {number}")
            current = self.current()
            revision = self.add(
                target.site_text,
                author=author,
                message=message or f"rollback to revision {number}",
                at=at,
                expected_current=current.number if current else None,
                rollback_of=number,
            )
            self.put_files(revision.number, self.files(number))
            return revision

    def put_files(self, number: int, files: Mapping[str, str]) -> None:
        """Keep the files revision ``number`` refers to (name relative to the site file
        → text); written once, with the revision."""
        with self._store.transaction():
            self._store.write_many(
                "INSERT INTO revision_files (revision, path, content) VALUES (?, ?, ?)",
                ((number, name, text) for name, text in sorted(files.items())),
            )

    def files(self, number: int) -> dict[str, str]:
        """The files bundled with revision ``number`` (empty for one applied without)."""
        return {
            r["path"]: r["content"]
            for r in self._store.rows(
                "SELECT path, content FROM revision_files WHERE revision = ? ORDER BY path",
                (number,),
            )
        }


def _revision(row: sqlite3.Row) -> Revision:
    return Revision(
        number=row["number"],
        hash=row["hash"],
        created_at=parse(row["created_at"]),
        author=row["author"],
        message=row["message"],
        site_text=row["site_text"],
        rollback_of=row["rollback_of"],
    )
