"""Ids checked against the site in force: an unknown node or EVSE is
:class:`~.errors.NotFound` with the id the caller most likely means."""

from __future__ import annotations

from collections.abc import Iterable

from depotctl.config import likely_id
from depotctl.controller.ports import Depot
from depotctl.controller.service import AppliedSite, LiveState, NoSite
from depotctl.controller.services.errors import Invalid, NotFound


def site_in_force(depot: Depot) -> AppliedSite:
    """The site in force; :class:`NotFound` before the first revision."""
    try:
        return depot.require_site()
    except NoSite as error:
        raise NotFound(str(error)) from None


def current_state(depot: Depot) -> LiveState:
    """The allocation ``/state`` shows; :class:`NotFound` before the first revision."""
    try:
        return depot.current()
    except NoSite as error:
        raise NotFound(str(error)) from None


def check_evse(site: AppliedSite, evse_id: str) -> None:
    """:class:`NotFound`, with the likely id, for an EVSE the site does not have (a
    charger id: its first EVSE)."""
    if evse_id in site.topology.evses:
        return
    known = sorted(site.topology.evses)
    own = [k for k in known if k.startswith(evse_id + "/")]
    close = own[0] if own else likely_id(evse_id, known)
    message = f'site has no EVSE "{evse_id}" (EVSE ids are "<charger id>/<evse id>")'
    if close:
        message += f'; did you mean "{close}"?'
    raise NotFound(message, evse=evse_id, did_you_mean=close)


def check_target(site: AppliedSite, target: str) -> None:
    """A node that can carry a limit, else :class:`Invalid` (it cannot) or
    :class:`NotFound` (no such node)."""
    if target in site.topology.nodes:
        return
    node = next((n for n in site.site.spec.nodes if n.id == target), None)
    if node is not None:
        kind = str(node.type).replace("_", " ")
        raise Invalid(
            f'{kind} "{target}" cannot carry a limit; target its parent or another node '
            "that carries load",
            node=target,
        )
    raise unknown(
        "node", target, f'site {site.topology.site} has no node "{target}"', site.topology.nodes
    )


def unknown(field: str, value: str, message: str, known: Iterable[str]) -> NotFound:
    """:class:`NotFound` for ``value`` of ``field``, naming the likely one of ``known``."""
    close = likely_id(value, known)
    if close:
        message += f'; did you mean "{close}"?'
    return NotFound(message, **{field: value}, did_you_mean=close)
