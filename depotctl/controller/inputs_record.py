"""Each control cycle's inputs, recorded compactly for time travel: the snapshot the
cycle decided from, as the changes since the cycle before (a keyframe — every section
whole — at the first cycle, on a new revision and every ``keyframe_every`` cycles).
The recorder's memory of the last row moves on only once its transaction committed
(:meth:`InputsRecorder.committed`), so a failed cycle never leaves a gap in the chain.

A row's body is zlib-compressed JSON; a row of changes is compressed with the JSON of
the row before it as zlib's preset dictionary (the same keys change cycle after cycle:
a fifth smaller at the 300-charger site). A chain is always read from its keyframe on,
so the dictionary is at hand; a row written without one (before) reads as it did."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from depotctl.controller.inputs_codec import (
    Sections,
    changed_fields,
    encode_item,
    sections_of,
)
from depotctl.controller.store import UnitOfWork
from depotctl.domain.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class RecordedCycle:
    """What one cycle wrote: the sections it knows after it, and the revision."""

    sections: Sections
    revision: int
    envelope_lead: timedelta

    def starts_over(self, after: RecordedCycle | None) -> bool:
        """Whether this cycle's row after ``after`` must be whole: nothing before it,
        another revision or another lead."""
        return (
            after is None
            or after.revision != self.revision
            or after.envelope_lead != self.envelope_lead
        )


def changes(before: Sections, after: Sections) -> dict[str, Any]:
    """The JSON body of the changes from ``before`` to ``after``: per section, the
    items new or replaced whole (``set``), the changed fields of the others
    (``patch``), the keys gone (``del``) and, where the keys' order is not what
    applying those gives, the whole order (``order``)."""
    body: dict[str, Any] = {}
    for section, items in after.items():
        old = before[section]
        put: dict[str, Any] = {}
        patch: dict[str, Any] = {}
        for key, value in items.items():
            if key not in old:
                put[key] = encode_item(section, value)
            elif old[key] != value:
                fields = changed_fields(section, old[key], value)
                if fields is None:
                    put[key] = encode_item(section, value)
                else:
                    patch[key] = fields
        gone = [k for k in old if k not in items]
        change: dict[str, Any] = {}
        if put:
            change["set"] = put
        if patch:
            change["patch"] = patch
        if gone:
            change["del"] = gone
        expected = [k for k in old if k in items] + [k for k in items if k not in old]
        if expected != list(items):
            change["order"] = list(items)
        if change:
            body[section] = change
    return body


def whole(sections: Sections) -> dict[str, Any]:
    """The JSON body of a keyframe: every item of every section, in order."""
    return {
        section: {"set": {k: encode_item(section, v) for k, v in items.items()}}
        for section, items in sections.items()
    }


#: the most of a dictionary zlib uses (its window)
_WINDOW = 32 * 1024


def text_of(body: dict[str, Any]) -> bytes:
    """A row's body as JSON text (what is compressed, and the next row's dictionary)."""
    return json.dumps(body, separators=(",", ":")).encode()


def packed(text: bytes, before: bytes = b"") -> bytes:
    """``text`` compressed, with the text of the row before as the dictionary if given."""
    compressor = zlib.compressobj(9, zdict=before[-_WINDOW:]) if before else zlib.compressobj(9)
    return compressor.compress(text) + compressor.flush()


def unpacked(blob: bytes, before: bytes = b"") -> bytes:
    """The text of a row's body; ``before``: the text of the row before it (used only
    if the row was compressed with it)."""
    decompressor = zlib.decompressobj(zdict=before[-_WINDOW:]) if before else zlib.decompressobj()
    return decompressor.decompress(blob) + decompressor.flush()


#: a keyframe every this many cycles: bounds the rows a rebuild reads (10 min at 5 s)
KEYFRAME_EVERY = 120


@dataclass
class InputsRecorder:
    """Writes one row per cycle; see the module's docstring."""

    keyframe_every: int = KEYFRAME_EVERY
    _last: RecordedCycle | None = None
    _last_text: bytes = b""
    _since_keyframe: int = 0
    _pending: tuple[RecordedCycle, bool, bytes] | None = field(default=None, repr=False)

    def record(self, uow: UnitOfWork, snapshot: Snapshot, *, revision: int) -> None:
        """Write the row of the cycle that decided from ``snapshot`` in ``uow``'s
        transaction; call :meth:`committed` once that transaction committed."""
        now = RecordedCycle(sections_of(snapshot), revision, snapshot.envelope_lead)
        last = self._last
        if last is None or now.starts_over(last) or self._since_keyframe + 1 >= self.keyframe_every:
            keyframe, text = True, text_of(whole(now.sections))
        else:
            keyframe, text = False, text_of(changes(last.sections, now.sections))
        uow.cycle_inputs.add(
            snapshot.at,
            revision=revision,
            envelope_lead=snapshot.envelope_lead,
            keyframe=keyframe,
            body=packed(text, b"" if keyframe else self._last_text),
        )
        self._pending = (now, keyframe, text)

    def committed(self) -> None:
        """The row :meth:`record` wrote is durable: the next one builds on it."""
        if self._pending is None:
            return
        self._last, keyframe, self._last_text = self._pending
        self._since_keyframe = 0 if keyframe else self._since_keyframe + 1
        self._pending = None

    def forget(self) -> None:
        """The row was not written (its transaction failed): the next is a keyframe."""
        self._pending = None
        self._last = None


def replayed(rows: list[tuple[bool, bytes]]) -> Sections:
    """The sections (encoded items) after a keyframe and the changes that follow it."""
    sections: dict[str, dict[str, Any]] = {}
    before = b""
    for keyframe, blob in rows:
        before = unpacked(blob, b"" if keyframe else before)
        body = json.loads(before)
        if keyframe:
            sections = {}
        for section, change in body.items():
            items = sections.setdefault(section, {})
            for key in change.get("del", ()):
                items.pop(key, None)
            items.update(change.get("set", {}))
            for key, fields in change.get("patch", {}).items():
                items[key].update(fields)
            if "order" in change:
                sections[section] = {key: items[key] for key in change["order"]}
    return sections
