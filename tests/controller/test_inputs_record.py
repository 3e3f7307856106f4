"""The cycle-input rows' bodies: a row of changes is compressed with the row before it
as zlib's dictionary (smaller, and unreadable without it), a chain replays through
them, and a chain written before (no dictionary) replays as it did."""

from __future__ import annotations

import zlib
from itertools import pairwise
from typing import Any

import pytest

from depotctl.controller.inputs_record import packed, replayed, text_of, unpacked

#: a keyframe of 300 meters' readings, then two cycles each reading every meter again
KEYFRAME: dict[str, Any] = {
    "telemetry": {
        "set": {
            f"chg-{n:03d}": {"at": "2026-11-01T07:00:00.000000Z", "power_w": 1000.0 + n}
            for n in range(300)
        }
    }
}
CYCLES: list[dict[str, Any]] = [
    {
        "telemetry": {
            "patch": {
                f"chg-{n:03d}": {"at": f"2026-11-01T07:00:0{c}.000000Z", "power_w": 7.0 * n + c}
                for n in range(300)
            }
        }
    }
    for c in (5, 9)
]


def expected() -> dict[str, dict[str, Any]]:
    items = {key: dict(item) for key, item in KEYFRAME["telemetry"]["set"].items()}
    for cycle in CYCLES:
        for key, fields in cycle["telemetry"]["patch"].items():
            items[key].update(fields)
    return {"telemetry": items}


def test_a_chain_replays_through_rows_compressed_with_the_row_before() -> None:
    texts = [text_of(KEYFRAME), *(text_of(c) for c in CYCLES)]
    rows = [(True, packed(texts[0]))] + [
        (False, packed(text, before)) for before, text in pairwise(texts)
    ]
    assert replayed(rows) == expected()
    # the dictionary is needed (and used): without it the row does not read
    with pytest.raises(zlib.error):
        unpacked(rows[2][1])
    assert unpacked(rows[2][1], texts[1]) == texts[2]
    assert len(rows[2][1]) < len(packed(texts[2]))  # smaller than alone


def test_a_chain_written_without_a_dictionary_replays_as_it_did() -> None:
    rows = [(True, zlib.compress(text_of(KEYFRAME), 6))]
    rows += [(False, zlib.compress(text_of(cycle), 6)) for cycle in CYCLES]
    assert replayed(rows) == expected()
