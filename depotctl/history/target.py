"""The history database: its URL, which must not carry a password, and the password
from where the operator keeps it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from depotctl.credentials import read_secret_file
from depotctl.domain.refusal import Refusal

#: The URL schemes libpq reads.
SCHEMES = ("postgresql", "postgres")
#: Seconds to wait for the server to answer a connection.
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class HistoryTarget:
    """Where to ship: ``url`` (a libpq URL without a password) and the password read
    from a variable or a file, if one was named (else libpq's ``PGPASSFILE`` or
    ``~/.pgpass`` applies)."""

    url: str
    password: str | None = None

    @property
    def shown(self) -> str:
        """The database as a person reads it: ``host/dbname``."""
        parts = urlsplit(self.url)
        return f"{parts.hostname or 'localhost'}{parts.path or '/'}"


def history_target(
    url: str, *, password_env: str | None = None, password_file: Path | None = None
) -> HistoryTarget:
    """The target of ``--history-url URL``. Refuses (exit 2, never echoing it) a URL
    with a password, one that is not ``postgresql://``, and both password sources at
    once; a variable that is unset (exit 2) or a file that cannot be read (exit 3)."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise Refusal(
            "--history-url must be a postgresql:// URL, like postgresql://history.example/fleet"
            f" (it starts with {parts.scheme + '://' if parts.scheme else 'no scheme'})",
            2,
        )
    query = parse_qs(parts.query)
    if parts.password is not None or "password" in query:
        raise Refusal(
            "--history-url carries a password; a password is never given on the command"
            " line: remove it from the URL and name a PGPASSFILE, --password-env VAR or"
            " --password-file FILE",
            2,
        )
    if password_env is not None and password_file is not None:
        raise Refusal("give --password-env or --password-file, not both", 2)
    if password_env is not None:
        value = os.environ.get(password_env)
        if not value:
            raise Refusal(
                f"--password-env {password_env}: the variable is not set or empty; export"
                " the history database's password in it",
                2,
            )
        return HistoryTarget(url, value)
    if password_file is not None:
        try:
            secret = read_secret_file(password_file, what="history password file")
        except OSError as error:
            raise Refusal(
                f"--password-file {password_file} cannot be read ({error.strerror or error})",
                3,
            ) from None
        if not secret:
            raise Refusal(
                f"--password-file {password_file} is empty; write the password into it", 2
            )
        return HistoryTarget(url, secret)
    return HistoryTarget(url)
