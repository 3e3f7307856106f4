"""The controller's API as one typed contract: the models of every answer (and the
request bodies), shared by the controller (``response_model=``), the client and the
console. docs/api.md describes the endpoints; ``schema/openapi.json`` is the OpenAPI
document they make.

Every name loads its submodule on first use: the answer models need only pydantic and
the domain, so the console reads them without loading the config package; the request
bodies (:mod:`.inputs`) check quantities in the site file's grammar; and a process that
needs only the state directory's layout (:mod:`.state_dir`, standard library) loads no
model at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from depotctl.lazy import lazy_attributes

if TYPE_CHECKING:
    from depotctl.api.adjustments import (
        AdjustmentBlock,
        AdjustmentInput,
        AdjustmentQueued,
    )
    from depotctl.api.alerts import (
        Alert,
        Alerts,
        AlertSubject,
    )
    from depotctl.api.allocation import (
        Binding,
        Candidate,
        EvseAllocation,
        EvseExplained,
        EvseOverride,
        Explanation,
        LimitSource,
        NodeAllocation,
        NodeLimit,
        PathNode,
        Priority,
        SiteRef,
        State,
    )
    from depotctl.api.base import (
        ApiModel,
        Instant,
        json_of,
    )
    from depotctl.api.chargers import (
        Charger,
        Chargers,
        HeldLimit,
    )
    from depotctl.api.envelopes import (
        Envelope,
        Envelopes,
        EnvelopeSource,
        OscpLinkState,
    )
    from depotctl.api.errors import (
        Diagnostic,
        ErrorBody,
        Problem,
    )
    from depotctl.api.health import (
        Clock,
        Health,
        WhoAmI,
    )
    from depotctl.api.inputs import (
        EnvelopeInput,
        ReadingInput,
        RequirementInput,
        SessionEndInput,
        SessionInput,
        TelemetryInput,
    )
    from depotctl.api.journal import (
        Journal,
        JournalEntry,
    )
    from depotctl.api.overrides import (
        ListedOverride,
        Override,
        OverrideCleared,
        Overrides,
        OverrideSet,
    )
    from depotctl.api.past import (
        Past,
        PastDecision,
        PastDecisions,
    )
    from depotctl.api.planner import PlannerState
    from depotctl.api.plans import (
        Change,
        ChangeCount,
        DryRun,
        EvseImpact,
        Impact,
        Plan,
        PlanWarning,
        SessionImpact,
        SiteNames,
    )
    from depotctl.api.reports import (
        CarbonReport,
        CostReport,
        ReadinessReport,
    )
    from depotctl.api.revisions import (
        AppliedRevision,
        Revision,
        Revisions,
        RevisionText,
        RolledBackRevision,
        SiteRevision,
    )
    from depotctl.api.sessions import (
        Outlook,
        Requirement,
        Session,
        SessionAt,
        SessionRecord,
        Sessions,
    )
    from depotctl.api.snapshot import (
        SnapshotDocument,
        SnapshotReading,
    )
    from depotctl.api.telemetry import (
        TelemetryAccepted,
        TelemetryHistory,
        TelemetryMinute,
    )

__getattr__ = lazy_attributes(
    __name__,
    {
        "adjustments": (
            "AdjustmentBlock",
            "AdjustmentInput",
            "AdjustmentQueued",
        ),
        "alerts": (
            "Alert",
            "Alerts",
            "AlertSubject",
        ),
        "allocation": (
            "Binding",
            "Candidate",
            "EvseAllocation",
            "EvseExplained",
            "EvseOverride",
            "Explanation",
            "LimitSource",
            "NodeAllocation",
            "NodeLimit",
            "PathNode",
            "Priority",
            "SiteRef",
            "State",
        ),
        "planner": ("PlannerState",),
        "past": (
            "Past",
            "PastDecision",
            "PastDecisions",
        ),
        "base": (
            "ApiModel",
            "Instant",
            "json_of",
        ),
        "chargers": (
            "Charger",
            "Chargers",
            "HeldLimit",
        ),
        "envelopes": (
            "Envelope",
            "Envelopes",
            "EnvelopeSource",
            "OscpLinkState",
        ),
        "errors": (
            "Diagnostic",
            "ErrorBody",
            "Problem",
        ),
        "health": (
            "Clock",
            "Health",
            "WhoAmI",
        ),
        "journal": (
            "Journal",
            "JournalEntry",
        ),
        "overrides": (
            "ListedOverride",
            "Override",
            "OverrideCleared",
            "Overrides",
            "OverrideSet",
        ),
        "plans": (
            "Change",
            "ChangeCount",
            "DryRun",
            "EvseImpact",
            "Impact",
            "Plan",
            "PlanWarning",
            "SessionImpact",
            "SiteNames",
        ),
        "reports": (
            "CarbonReport",
            "CostReport",
            "ReadinessReport",
        ),
        "revisions": (
            "AppliedRevision",
            "Revision",
            "Revisions",
            "RevisionText",
            "RolledBackRevision",
            "SiteRevision",
        ),
        "sessions": (
            "Outlook",
            "Requirement",
            "Session",
            "SessionAt",
            "SessionRecord",
            "Sessions",
        ),
        "snapshot": (
            "SnapshotDocument",
            "SnapshotReading",
        ),
        "telemetry": (
            "TelemetryAccepted",
            "TelemetryHistory",
            "TelemetryMinute",
        ),
        "inputs": (
            "EnvelopeInput",
            "ReadingInput",
            "RequirementInput",
            "SessionEndInput",
            "SessionInput",
            "TelemetryInput",
        ),
    },
)


__all__ = [
    "AdjustmentBlock",
    "AdjustmentInput",
    "AdjustmentQueued",
    "Alert",
    "AlertSubject",
    "Alerts",
    "ApiModel",
    "AppliedRevision",
    "Binding",
    "Candidate",
    "CarbonReport",
    "Change",
    "ChangeCount",
    "Charger",
    "Chargers",
    "Clock",
    "CostReport",
    "Diagnostic",
    "DryRun",
    "Envelope",
    "EnvelopeInput",
    "EnvelopeSource",
    "Envelopes",
    "ErrorBody",
    "EvseAllocation",
    "EvseExplained",
    "EvseImpact",
    "EvseOverride",
    "Explanation",
    "Health",
    "HeldLimit",
    "Impact",
    "Instant",
    "Journal",
    "JournalEntry",
    "LimitSource",
    "ListedOverride",
    "NodeAllocation",
    "NodeLimit",
    "OscpLinkState",
    "Outlook",
    "Override",
    "OverrideCleared",
    "OverrideSet",
    "Overrides",
    "Past",
    "PastDecision",
    "PastDecisions",
    "PathNode",
    "Plan",
    "PlanWarning",
    "PlannerState",
    "Priority",
    "Problem",
    "ReadinessReport",
    "ReadingInput",
    "Requirement",
    "RequirementInput",
    "Revision",
    "RevisionText",
    "Revisions",
    "RolledBackRevision",
    "Session",
    "SessionAt",
    "SessionEndInput",
    "SessionImpact",
    "SessionInput",
    "SessionRecord",
    "Sessions",
    "SiteNames",
    "SiteRef",
    "SiteRevision",
    "SnapshotDocument",
    "SnapshotReading",
    "State",
    "TelemetryAccepted",
    "TelemetryHistory",
    "TelemetryInput",
    "TelemetryMinute",
    "WhoAmI",
    "json_of",
]
