"""Presentation of the engine's decisions: an allocation and an explanation as the
versioned JSON that ``allocate``/``explain`` print and the controller's API serves, and
the views the CLI's text renderer shares with it (:mod:`allocation`).

Above the engine (which keeps only decisions), below the CLI and the controller that
show them; imports the domain and the engine only.
"""

from depotctl.views.allocation import (
    NodeView,
    Origin,
    allocation_json,
    at_limit,
    binding_json,
    evse_ids_under,
    evse_json,
    explain_json,
    local_time,
    nodes_in_tree_order,
    over_limit,
    source_text,
)

__all__ = [
    "NodeView",
    "Origin",
    "allocation_json",
    "at_limit",
    "binding_json",
    "evse_ids_under",
    "evse_json",
    "explain_json",
    "local_time",
    "nodes_in_tree_order",
    "over_limit",
    "source_text",
]
