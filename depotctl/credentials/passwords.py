"""A charger's OCPP password, read from where its reference says it is kept."""

from __future__ import annotations

import os

from depotctl.credentials.files import read_secret_file
from depotctl.domain.charge_points import PasswordRef


class CredentialMissing(Exception):
    """The environment variable or file a charger's password is kept in is unset or
    unreadable."""


def read_password(ref: PasswordRef) -> str:
    """The password now, from its environment variable or file (read each time, never
    kept); ``CredentialMissing`` when it cannot be read."""
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if not value:
            raise CredentialMissing(f"environment variable {ref.env} is not set")
        return value
    if ref.file is not None:
        try:
            return read_secret_file(ref.file, what="password file")
        except OSError as error:
            raise CredentialMissing(f"cannot read {ref.file}: {error.strerror}") from None
    raise CredentialMissing("no password_env or password_file")
