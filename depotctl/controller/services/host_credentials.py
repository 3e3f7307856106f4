"""What the controller's host lacks for a site's credentials: the ``password_file`` and
``token_file`` paths that are missing or unreadable there, and the ``password_env`` and
``token_env`` variables its process does not have.

Only the controller can tell (it is the host), so a plan checks them there, before an
apply. A secret is never read here: a file is opened and closed, a variable looked
up, and no value goes into a message. Like the chargers' passwords at run time
(:func:`depotctl.credentials.read_password`), a variable, when one is named, is where
the secret is taken from; a file only otherwise.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from depotctl.config import Charger, Site

__all__ = [
    "FILE_MISSING",
    "FILE_UNREADABLE",
    "HOST_RULES",
    "VARIABLE_UNSET",
    "CredentialProblem",
    "missing_credentials",
]

#: The prefix of these problems' rule ids. They are not validate's rules (validate
#: runs offline, anywhere): a plan's, about one host.
HOST_RULES = "host/"
#: a password_file or token_file that does not exist on the controller's host
FILE_MISSING = "host/secret-file-missing"
#: a password_file or token_file the controller cannot read, not a file, or empty
FILE_UNREADABLE = "host/secret-file-unreadable"
#: a password_env or token_env variable the controller's process lacks, or has empty
VARIABLE_UNSET = "host/variable-unset"

#: A place in a site's data: mapping keys and list indexes.
DataPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class CredentialProblem:
    """A secret this host cannot give; ``path`` is its reference's place in the site's
    data (``spec.nodes[3].ocpp.password_file``)."""

    rule: str
    path: DataPath
    message: str
    hint: str


def missing_credentials(
    site: Site,
    base_dir: Path,
    environ: Mapping[str, str],
    *,
    shared_charger_password: bool = False,
) -> list[CredentialProblem]:
    """Every credential of ``site`` that this host cannot give: a charger's password, an
    OSCP source's token. Relative files resolve against ``base_dir``. With
    ``shared_charger_password`` (a simulation's ``serve --charger-password-env``, which
    ``serve`` checks at start) no charger's own reference is read, so none is asked
    for."""
    return [
        problem
        for reference in _references(site, chargers=not shared_charger_password)
        for problem in _problems(reference, base_dir, environ)
    ]


@dataclass(frozen=True, slots=True)
class _Reference:
    """Where one secret is kept: a variable (``env_key: env``) or a file."""

    owner: str
    secret: str
    where: DataPath
    env_key: str
    env: str | None
    file_key: str
    file: str | None


def _references(site: Site, *, chargers: bool) -> Iterator[_Reference]:
    for index, node in enumerate(site.spec.nodes):
        if chargers and isinstance(node, Charger):
            ocpp = node.ocpp
            yield _Reference(
                f'charger "{node.id}"',
                "its password",
                ("spec", "nodes", index, "ocpp"),
                "password_env",
                ocpp.password_env,
                "password_file",
                ocpp.password_file,
            )
    for index, source in enumerate(site.spec.envelope_sources):
        if source.oscp is not None:
            yield _Reference(
                f'envelope source "{source.id}"',
                "its OSCP token",
                ("spec", "envelope_sources", index, "oscp"),
                "token_env",
                source.oscp.token_env,
                "token_file",
                source.oscp.token_file,
            )


def _problems(
    reference: _Reference, base_dir: Path, environ: Mapping[str, str]
) -> Iterator[CredentialProblem]:
    """The problem with one secret's reference: its variable when one is named, else
    its file."""
    owner, where = reference.owner, reference.where
    name, key = reference.env, reference.env_key
    if name is not None:
        if not environ.get(name):
            state = "is empty" if name in environ else "is not set"
            yield CredentialProblem(
                VARIABLE_UNSET,
                (*where, key),
                f"{owner} {key} {name} {state} in the controller's environment: the "
                f"controller cannot read {reference.secret}",
                f"set {name} in the controller's environment (its service's Environment= "
                "or EnvironmentFile=) and restart the controller",
            )
        return
    written, key = reference.file, reference.file_key
    if written is None:
        return
    path = (base_dir / written).resolve()
    shown = written if Path(written).is_absolute() else f"{written} ({path})"
    problem = _file_problem(path)
    if problem is None:
        return
    rule, state = problem
    hint = (
        "create it on the controller's host (the secret on one line, chmod 600, owned by "
        f"the user the controller runs as), or point {key} at the file that holds it"
        if rule == FILE_MISSING
        else "let the user the controller runs as read it (chown, chmod 600) and put the "
        f"secret in it, or point {key} at the file that holds it"
    )
    message = f"{owner} {key} {shown} {state} on the controller's host"
    yield CredentialProblem(rule, (*where, key), message, hint)


def _file_problem(path: Path) -> tuple[str, str] | None:
    """Why ``path`` cannot give a secret (opened and closed, never read), or None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO never blocks
    except FileNotFoundError:
        return FILE_MISSING, "does not exist"
    except OSError as error:
        return FILE_UNREADABLE, f"cannot be read ({error.strerror})"
    try:
        status = os.fstat(fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(status.st_mode):
        return FILE_UNREADABLE, "is not a regular file"
    if status.st_size == 0:
        return FILE_UNREADABLE, "is empty"
    return None
