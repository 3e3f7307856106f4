"""What ``depotctl serve`` checks before it creates anything: the state directory (a
directory it may write, not held by another controller, its token files private), the
site file (readable, and valid when it will seed an empty store) and both addresses
(bound and listening). A refusal is one sentence, with the fix, and the contract's
exit code; nothing is left behind by it — no directory, no store, no lock file.
"""

from __future__ import annotations

import errno
import fcntl
import getpass
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from depotctl.api.state_dir import TOKEN_ROLES, StateDir
from depotctl.controller.settings import Settings
from depotctl.controller.state_lock import read_holder
from depotctl.credentials import TokenFileError, read_private_token
from depotctl.domain.refusal import Refusal

#: Connections waiting to be accepted, per listening socket (uvicorn's default).
BACKLOG = 2048


class StartRefused(Refusal):
    """``serve`` cannot start: ``sentence`` says what, where and what to do; ``details``
    (a site's diagnostics) go before it; ``exit_code`` is the contract's (1 invalid site,
    3 I/O, 4 the state directory is in use)."""

    @property
    def sentence(self) -> str:
        return self.message


@dataclass(slots=True)
class Listeners:
    """The API's and the chargers' sockets, bound and listening."""

    api: socket.socket
    ocpp: socket.socket

    def close(self) -> None:
        self.api.close()
        self.ocpp.close()


def check_state_dir(state_dir: Path) -> bool:
    """Refuse a state directory ``serve`` cannot use, without creating it: a path that
    is (or lies under) a file, one this user may not write or create, one another live
    controller holds, a token file open to others. Whether it holds a store already."""
    existing = state_dir
    while not existing.exists():
        if existing.is_symlink():
            raise StartRefused(
                f"the state directory {state_dir} cannot be created: {existing} is a broken "
                "symbolic link; remove it or give --state-dir another path",
                3,
            )
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == state_dir else f"lies under {existing}, which is a file"
        raise StartRefused(
            f"the state directory {state_dir} {where}, not a directory; give --state-dir "
            "a directory (it is created if missing)",
            3,
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        what = (
            f"the state directory {state_dir} is not writable"
            if existing == state_dir
            else f"the state directory {state_dir} cannot be created: {existing} is not writable"
        )
        raise StartRefused(
            f"{what} by user {_user()}; change its owner or mode, or give --state-dir another path",
            3,
        )
    if existing != state_dir:
        return False
    paths = StateDir(state_dir)
    _refuse_a_held_lock(paths)
    for role in TOKEN_ROLES:
        token = paths.token(role)
        if token.exists() or token.is_symlink():
            try:
                read_private_token(token, when_empty="delete it to have a new one made")
            except TokenFileError as error:
                raise StartRefused(str(error), 3) from None
    return paths.store.exists()


def read_site_file(path: Path, *, seeds: bool) -> str:
    """The site file's text; when it will seed an empty store (``seeds``), validated
    first (an invalid one refused with its diagnostics, exit 1)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise StartRefused(
            f"the site file {path} (--site) is not UTF-8 text; save it as UTF-8", 3
        ) from None
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise StartRefused(
            f"cannot read the site file {path} (--site): {reason}; check the path", 3
        ) from None
    if seeds:
        from depotctl.controller.service import SiteInvalid, checked_site

        try:
            checked_site(text, path=path, display=str(path))
        except SiteInvalid as invalid:
            from depotctl.config import ValidationRun, render_diagnostics

            count = invalid.report.errors
            raise StartRefused(
                f"the site file {path} (--site) is invalid ({count} "
                f"error{'s' if count != 1 else ''} above); fix it (depotctl validate "
                f"{path}) and start again",
                1,
                render_diagnostics(ValidationRun([invalid.report])),
            ) from None
    return text


@dataclass(frozen=True, slots=True)
class Prechecked:
    """What the checks before anything is created found: whether the state directory
    holds a store, the site file's text (validated when it seeds), both listeners."""

    has_store: bool
    site_text: str | None
    listeners: Listeners


def precheck(settings: Settings) -> Prechecked:
    """Check the state directory, the site file and both addresses, creating nothing;
    :class:`StartRefused` with the sentence and exit code when one cannot be used."""
    has_store = check_state_dir(settings.state_dir)
    site_text = (
        read_site_file(settings.site_file, seeds=not has_store)
        if settings.site_file is not None
        else None
    )
    listeners = bind_listeners(settings.listen, settings.ocpp_listen)
    return Prechecked(has_store, site_text, listeners)


def refuse(refused: StartRefused) -> int:
    """Say a refusal on stderr (its details first); its exit code."""
    if refused.details:
        sys.stderr.write(refused.details.rstrip("\n") + "\n")
    sys.stderr.write(f"depotctl serve: {refused.sentence}\n")
    sys.stderr.flush()
    return refused.exit_code


def bind_listeners(api: tuple[str, int], ocpp: tuple[str, int]) -> Listeners:
    """Both addresses bound and listening, or a refusal naming the flag."""
    api_sock = bind(*api, flag="--listen")
    try:
        ocpp_sock = bind(*ocpp, flag="--ocpp-listen")
    except BaseException:
        api_sock.close()
        raise
    return Listeners(api_sock, ocpp_sock)


def api_url(host: str, port: int) -> str:
    """An HTTP listener's URL; a wildcard address is reached on loopback."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def bind(host: str, port: int, *, flag: str) -> socket.socket:
    """A socket listening on ``host:port`` (port 0: a free one), inheritable."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on such a socket's
    # connections; with it on, the client's delayed ACK held each answer ~40 ms
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)  # now: a port taken by another bound socket fails here
    except OSError as error:
        sock.close()
        raise StartRefused(_cannot_listen(host, port, flag, error), 3) from None
    sock.set_inheritable(True)
    return sock


def _cannot_listen(host: str, port: int, flag: str, error: OSError) -> str:
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    start = f"cannot listen on {address} ({flag}): "
    if error.errno == errno.EADDRINUSE:
        return (
            start + "the address is already in use; stop what listens there, or give "
            f"{flag} another port (port 0 picks a free one)"
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return (
            start + f"{host} is not an address of this machine; give {flag} one of its "
            "addresses (0.0.0.0 for all of them)"
        )
    if error.errno == errno.EACCES:
        return (
            start + "permission denied (ports below 1024 need privileges); give "
            f"{flag} a port above 1023"
        )
    if isinstance(error, socket.gaierror):
        return start + f"cannot resolve {host!r}; give {flag} an IP address"
    reason = (error.strerror or str(error)).lower()
    return start + f"{reason}; give {flag} another address"


def _refuse_a_held_lock(paths: StateDir) -> None:
    """Exit 4 when a live process holds the directory's lock (probed without creating
    the lock file, and released at once)."""
    try:
        descriptor = os.open(paths.lock, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    except OSError as error:
        raise StartRefused(
            f"cannot read the lock file {paths.lock}: {(error.strerror or '').lower()}; "
            "change its owner or mode, or give --state-dir another path",
            3,
        ) from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
        raise StartRefused(in_use(paths.root, str(read_holder(paths.lock))), 4) from None
    finally:
        os.close(descriptor)  # releases a lock just taken


def in_use(state_dir: Path, holder: str) -> str:
    """The sentence for a state directory another controller holds."""
    return (
        f"state directory {state_dir} in use by {holder}; stop that controller first, or "
        "give --state-dir another directory"
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
