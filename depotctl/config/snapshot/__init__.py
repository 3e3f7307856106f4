"""Snapshot files: the state of a depot at one instant, for ``allocate`` and ``explain``.

``load_snapshot(path, site_file=None)`` reads one, checks it (and its site) with
diagnostics at file:line:col like ``validate``, and builds the engine's
:class:`~depotctl.domain.snapshot.Snapshot`. The format is in ``docs/snapshot.md``.
"""

from depotctl.config.snapshot.load import LoadedSnapshot, SnapshotUsageError, load_snapshot
from depotctl.config.snapshot.schema import SnapshotDocument

__all__ = ["LoadedSnapshot", "SnapshotDocument", "SnapshotUsageError", "load_snapshot"]
