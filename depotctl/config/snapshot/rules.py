"""The rules a snapshot file can break: ids under ``snapshot/``, stable once released.

They are ``allocate``'s and ``explain``'s, not ``validate``'s: ``all_rules()`` leaves
their category out, and ``docs/snapshot.md`` lists them.
"""

from __future__ import annotations

from depotctl.config.rules import error, warning

NAIVE_TIME = error(
    "snapshot/naive-time",
    "a time without a UTC offset (a snapshot's times must say which zone they are in)",
    'add the offset, like "2024-05-14T18:30:00+10:00" or "2024-05-14T08:30:00Z"',
)
MALFORMED_TIME = error(
    "snapshot/malformed-time",
    "a time that is not ISO 8601",
    'write it like "2024-05-14T18:30:00+10:00" (quoted in JSON)',
)
ONE_DOCUMENT = error(
    "snapshot/one-document",
    "a snapshot file with more than one YAML document",
    "keep one snapshot per file",
)
SITE_NOT_FOUND = error(
    "snapshot/site-not-found",
    "the site file a snapshot names cannot be read, or no site file is named at all",
    "give site.path (relative to the snapshot), embed the site, or pass -f SITE",
)
SITE_REVISION = error(
    "snapshot/site-revision",
    "the site file is not the revision the snapshot was taken with",
    "use the site file of that revision (git show REV:PATH > site.yaml), or update "
    "site.revision if the difference does not matter",
)
UNKNOWN_NODE = error(
    "snapshot/unknown-node",
    "a node or meter id the site does not have",
    "use a node id (or, for telemetry, a meter id) of the site",
)
ENVELOPE_TARGET = error(
    "snapshot/envelope-target",
    "an envelope on a node that cannot carry a limit (a site load, storage, generation)",
    "target a grid connection, transformer, circuit, charger group or charger",
)
ENVELOPE_WINDOW = error(
    "snapshot/envelope-window",
    "an envelope whose end is not after its start",
    "end is exclusive: make it later than start, or leave it out for an open-ended envelope",
)
UNKNOWN_SOURCE = error(
    "snapshot/unknown-source",
    "an envelope source the site does not declare",
    "use an id of the site's spec.envelope_sources",
)
UNKNOWN_EVSE = error(
    "snapshot/unknown-evse",
    "an EVSE id the site does not have",
    'EVSE ids are "<charger id>/<evse id>", like "dc-01/1"',
)
UNKNOWN_CHARGER = error(
    "snapshot/unknown-charger",
    "a charger id the site does not have",
    "use the node id of one of the site's chargers (not its OCPP id)",
)
DUPLICATE_ID = error(
    "snapshot/duplicate-id",
    "an envelope, session, source, charger, telemetry node or override listed twice",
    "keep one entry per id",
)
TWO_SESSIONS = error(
    "snapshot/two-sessions",
    "two sessions on one EVSE",
    "an EVSE holds one vehicle at a time: remove the session that has ended",
)
AFTER_SNAPSHOT = warning(
    "snapshot/after-snapshot",
    "a reading, heartbeat, envelope, session, override or switch on or off stamped after the "
    "snapshot's own time",
    "check the snapshot's `at`: a reading from the future counts as stale, an envelope "
    "received later is not known yet, a session started later is ignored",
)
