"""The rules a snapshot file can break: ids under ``snapshot/``, stable once released.

They are ``allocate``'s and ``explain``'s, not ``validate``'s: ``all_rules()`` leaves
their category out, and ``docs/snapshot.md`` lists them.
"""

from __future__ import annotations

from depotctl.config.diagnostics import Severity
from depotctl.config.rules import rule

E, W = Severity.ERROR, Severity.WARNING

NAIVE_TIME = rule(
    "snapshot/naive-time",
    E,
    "a time without a UTC offset (a snapshot's times must say which zone they are in)",
    'add the offset, like "2024-05-14T18:30:00+10:00" or "2024-05-14T08:30:00Z"',
)
MALFORMED_TIME = rule(
    "snapshot/malformed-time",
    E,
    "a time that is not ISO 8601",
    'write it like "2024-05-14T18:30:00+10:00" (quoted in JSON)',
)
ONE_DOCUMENT = rule(
    "snapshot/one-document",
    E,
    "a snapshot file with more than one YAML document",
    "keep one snapshot per file",
)
SITE_NOT_FOUND = rule(
    "snapshot/site-not-found",
    E,
    "the site file a snapshot names cannot be read, or no site file is named at all",
    "give site.path (relative to the snapshot), embed the site, or pass -f SITE",
)
SITE_REVISION = rule(
    "snapshot/site-revision",
    E,
    "the site file is not the revision the snapshot was taken with",
    "use the site file of that revision (git show REV:PATH > site.yaml), or update "
    "site.revision if the difference does not matter",
)
UNKNOWN_NODE = rule(
    "snapshot/unknown-node",
    E,
    "a node or meter id the site does not have",
    "use a node id (or, for telemetry, a meter id) of the site",
)
ENVELOPE_TARGET = rule(
    "snapshot/envelope-target",
    E,
    "an envelope on a node that cannot carry a limit (a site load, storage, generation)",
    "target a grid connection, transformer, circuit, charger group or charger",
)
ENVELOPE_WINDOW = rule(
    "snapshot/envelope-window",
    E,
    "an envelope whose end is not after its start",
    "end is exclusive: make it later than start, or leave it out for an open-ended envelope",
)
UNKNOWN_SOURCE = rule(
    "snapshot/unknown-source",
    E,
    "an envelope source the site does not declare",
    "use an id of the site's spec.envelope_sources",
)
UNKNOWN_EVSE = rule(
    "snapshot/unknown-evse",
    E,
    "an EVSE id the site does not have",
    'EVSE ids are "<charger id>/<evse id>", like "dc-01/1"',
)
UNKNOWN_CHARGER = rule(
    "snapshot/unknown-charger",
    E,
    "a charger id the site does not have",
    "use the node id of one of the site's chargers (not its OCPP id)",
)
DUPLICATE_ID = rule(
    "snapshot/duplicate-id",
    E,
    "an envelope, session, source, charger, telemetry node or override listed twice",
    "keep one entry per id",
)
TWO_SESSIONS = rule(
    "snapshot/two-sessions",
    E,
    "two sessions on one EVSE",
    "an EVSE holds one vehicle at a time: remove the session that has ended",
)
AFTER_SNAPSHOT = rule(
    "snapshot/after-snapshot",
    W,
    "a reading, heartbeat, envelope, session, override or switch on or off stamped after the "
    "snapshot's own time",
    "check the snapshot's `at`: a reading from the future counts as stale, an envelope "
    "received later is not known yet, a session started later is ignored",
)
