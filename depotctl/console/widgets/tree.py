"""The electrical tree: site → grid connections → circuits → groups → chargers →
EVSEs, each node with its load against its effective limit (a bar per phase for a
current limit, else total power), the limit's source in words and the headroom."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.geometry import Region
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from depotctl.api import NodeAllocation
from depotctl.console.model import EvseNow, Model
from depotctl.console.render import headroom_text, limit_text, phases_text

#: What a tree node carries: ("node" | "evse" | "site", id).
Ref = tuple[str, str]


def node_label(node: NodeAllocation) -> Text:
    """A node's line: id, load bar(s), source, headroom; ``FULL`` when at its limit."""
    label = Text(node.id, "bold red" if node.at_limit else "bold")
    limit = node.binding
    if limit is None:
        label.append("  no limit of its own", "dim")
        return label
    label.append("  ")
    phases = node.phase_limits
    label.append_text(phases_text(phases) if phases else limit_text(limit))
    label.append(f"  {limit.source.words}  ", "italic")
    label.append_text(headroom_text(limit))
    if node.at_limit:
        label.append("  FULL", "bold reverse red")
    return label


def evse_label(evse: EvseNow) -> Text:
    """An EVSE's line: id, state, limit, session; a pause stands out."""
    allocation = evse.allocation
    label = Text(evse.id, "bold")
    state_style = {"charging": "green", "paused": "yellow", "idle": "dim"}.get(allocation.state, "")
    label.append(f"  {allocation.state}", state_style)
    if allocation.limit_a is not None:
        label.append(f"  {allocation.limit_a:,.1f} A")
    if allocation.limit_kw is not None:
        label.append(f" {allocation.limit_kw:,.1f} kW", "dim")
    if allocation.session_id:
        label.append(f"  {allocation.session_id}", "cyan")
    if evse.paused:
        label.append("  paused by operator", "bold yellow")
    elif evse.cap_a is not None:
        label.append(f"  capped {evse.cap_a:,.1f} A", "yellow")
    return label


class ElectricalTree(Tree[Ref]):
    """The tree, rebuilt only when the topology changes; otherwise only the labels
    that changed are set again."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("site", data=("site", ""), **kwargs)  # type: ignore[arg-type]
        self.show_root = True
        self.guide_depth = 2
        self._shape: tuple[tuple[str, str | None], ...] = ()
        self._items: dict[Ref, TreeNode[Ref]] = {}
        self._labels: dict[Ref, object] = {}

    def update_model(self, model: Model) -> int:
        """Show ``model``; returns how many labels were set."""
        shape = tuple((n.id, n.parent) for n in model.nodes) + tuple(
            (e.id, e.allocation.charger) for e in model.evses.values()
        )
        rebuilt = shape != self._shape
        if rebuilt:
            self._rebuild(model)
            self._shape = shape
        relabelled: set[TreeNode[Ref]] = set()
        root_label = f"site {model.site_name or '?'}"
        if self._labels.get(("site", "")) != root_label:
            self._relabel(self.root, Text(root_label, "bold"))
            self._labels[("site", "")] = root_label
            relabelled.add(self.root)
        for node in model.nodes:
            self._set(("node", node.id), node, node_label, relabelled)
        for evse in model.evses.values():
            self._set(("evse", evse.id), evse, evse_label, relabelled)
        if rebuilt:
            self.refresh()
        else:
            self._repaint(relabelled)
        return len(relabelled)

    def _repaint(self, relabelled: set[TreeNode[Ref]]) -> None:
        """Repaint the lines on screen whose label changed, and no other."""
        if not relabelled:
            return
        top, width = self.scroll_offset.y, self.size.width
        for line in range(top, top + self.size.height):
            item = self.get_node_at_line(line)
            if item is None:
                break
            if item in relabelled:
                self.refresh(Region(0, line - top, width, 1))

    def selected_evse(self) -> str | None:
        node = self.cursor_node
        if node is not None and node.data is not None and node.data[0] == "evse":
            return node.data[1]
        return None

    def _set(
        self,
        ref: Ref,
        value: object,
        label: Callable[[Any], Text],
        relabelled: set[TreeNode[Ref]],
    ) -> None:
        known = self._labels.get(ref)
        if known is value or known == value:
            return
        item = self._items.get(ref)
        if item is None:
            return
        self._relabel(item, label(value))
        self._labels[ref] = value
        relabelled.add(item)

    def _relabel(self, item: TreeNode[Ref], label: Text) -> None:
        """Set ``item``'s label without repainting: :meth:`update_model` repaints once.

        ``TreeNode.set_label`` schedules a callback per node (which walks the visible
        lines to refresh the node's); a hundred changed labels meant a hundred
        messages. A node's line is cached under its update count, so bumping it is
        enough to have that line drawn again when it is repainted. Falls back to ``set_label``
        should a Textual release name these differently."""
        if hasattr(item, "_label") and hasattr(item, "_updates"):
            item._label = self.process_label(label)
            item._updates += 1
        else:
            item.set_label(label)

    def _rebuild(self, model: Model) -> None:
        cursor = self.cursor_node.data if self.cursor_node is not None else None
        self.clear()
        self._items = {("site", ""): self.root}
        self._labels = {}
        ids = {node.id for node in model.nodes}
        for node in model.nodes:
            parent = self._items.get(("node", node.parent)) if node.parent in ids else None
            under = parent if parent is not None else self.root
            self._items[("node", node.id)] = under.add("", data=("node", node.id), expand=True)
        for evse in model.evses.values():
            charger = self._items.get(("node", evse.allocation.charger)) or self._items.get(
                ("node", evse.allocation.parent or "")
            )
            under = charger if charger is not None else self.root
            self._items[("evse", evse.id)] = under.add_leaf("", data=("evse", evse.id))
        self.root.expand()
        if cursor is not None and cursor in self._items:
            self.call_after_refresh(self.move_cursor, self._items[cursor])
