"""Files that hold credentials, read with the care each deserves.

- A **token file** of depotctl's own API (``STATE_DIR/tokens/*.token``, a
  ``--token-file``, a context's token file) is refused, as OpenSSH refuses a private
  key, when anyone but its owner may read or write it (any of the mode bits 077), or
  when it is empty, too large or not text: :func:`read_private_token` raises
  :class:`TokenFileError` with one line that says what to do.
- A **secret file** a site references (a charger's ``password_file``, an OSCP
  ``token_file``) is often a container secret mounted read-only for all (0444): it is
  read all the same, and :func:`read_secret_file` logs one warning per file while
  group or others may read it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("depotctl.secrets")

#: Mode bits of a token file that let anyone but its owner read or change it.
NOT_OWNERS = 0o077
#: Mode bits of a secret file that let anyone but its owner read it.
READABLE_BY_OTHERS = 0o044
#: A token is a few dozen characters; a bigger "token file" is a mistake.
MAX_TOKEN_BYTES = 64 * 1024

_warned: set[Path] = set()


class TokenFileError(Exception):
    """A token file that must not be used: ``str(error)`` is one line, with the fix."""


def read_private_token(path: Path, *, when_empty: str = "write the token into it") -> str:
    """The token in ``path``, stripped; :class:`TokenFileError` when the file cannot be
    read, is not a regular file, is open to group or others, is empty (``when_empty``
    says what to do then), is over 64 KiB or is not UTF-8 text."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO never blocks
    except OSError as error:
        raise TokenFileError(f"cannot read the token file {path}: {error.strerror}") from None
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        os.close(fd)
        raise TokenFileError(f"the token file {path} is not a regular file")
    with os.fdopen(fd, "rb") as stream:
        mode = stat.S_IMODE(status.st_mode)
        if os.name == "posix" and mode & NOT_OWNERS:
            raise TokenFileError(
                f"the token file {path} is open to {_who(mode)} (mode {mode:04o}); a token "
                f"grants the controller's API, so keep it private: chmod 600 {path}"
            )
        raw = stream.read(MAX_TOKEN_BYTES + 1)
    if len(raw) > MAX_TOKEN_BYTES:
        raise TokenFileError(f"the token file {path} is over 64 KiB: it is not a token file")
    try:
        token = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise TokenFileError(f"the token file {path} is not UTF-8 text") from None
    if not token:
        raise TokenFileError(f"the token file {path} is empty; {when_empty}")
    return token


def read_secret_file(path: Path, *, what: str = "secret file") -> str:
    """The text of a secret file a site references, stripped (``OSError`` when it
    cannot be read). While group or others may read it, one warning per file is
    logged: fine for a container secret mounted read-only, else ``chmod 600`` it."""
    with open(path, "rb") as stream:
        mode = stat.S_IMODE(os.fstat(stream.fileno()).st_mode)
        text = stream.read().decode("utf-8", errors="replace")
    if os.name == "posix" and mode & READABLE_BY_OTHERS and path not in _warned:
        _warned.add(path)
        log.warning(
            "%s %s is readable by %s (mode %04o): fine for a secret mounted read-only into "
            "a container; on a shared host, chmod 600 it",
            what,
            path,
            _who(mode),
            mode,
        )
    return text.strip()


def _who(mode: int) -> str:
    group, others = bool(mode & 0o070), bool(mode & 0o007)
    return "group and others" if group and others else "its group" if group else "others"
