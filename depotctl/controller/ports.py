"""What a service works with: the depot's ports, not the web framework.

:class:`~depotctl.controller.service.Controller` is the one implementation; a service
reads and writes through ``units`` (the unit-of-work factory), reads the time from
``clock``, the site in force from ``applied``, and tells the control loop with
``changed`` that something the allocation depends on changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from depotctl.controller.clock import Clock
    from depotctl.controller.planning import Planning
    from depotctl.controller.service import AppliedSite, LiveState
    from depotctl.controller.store import Revision, Units
    from depotctl.domain.chargers import ChargerState
    from depotctl.domain.topology import Topology


class Depot(Protocol):
    """The ports of one controller (see the module docstring)."""

    @property
    def units(self) -> Units: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def applied(self) -> AppliedSite | None: ...

    def require_site(self) -> AppliedSite:
        """The site in force; ``NoSite`` before the first revision."""
        ...

    def changed(self, reason: str) -> None:
        """Run a control cycle at once: ``reason`` changed."""
        ...

    @property
    def planning(self) -> Planning | None:
        """The horizon planner, when the site plans."""
        ...

    def current(self) -> LiveState:
        """The allocation ``/state`` shows."""
        ...

    def live(self) -> LiveState:
        """A fresh allocation of what the store knows now."""
        ...

    def charger_states(
        self, states: dict[str, ChargerState], topology: Topology
    ) -> dict[str, ChargerState]:
        """The store's ``states`` with the chargers of ``topology`` never heard from,
        as the allocation counts them."""
        ...

    def base_dir_of(self, revision: Revision) -> Path:
        """Where the revision's relative files resolve."""
        ...
