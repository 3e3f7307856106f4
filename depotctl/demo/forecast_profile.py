"""The profile of the demo's ``sim derms`` for one OSCP source: each of its cuts as
one ``CONSUMPTION`` block at the cut's limit over the cut's window, sent ahead of the
window as a DNSP sends its capacity forecasts (docs/sim-derms.md, absolute times)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from depotctl.demo.scenario import Cut


def write_profile(cuts: Sequence[Cut], path: Path, lead: timedelta, start: datetime) -> None:
    """Write the profile of ``cuts`` to ``path``: each sent ``lead`` before its window
    (at ``start``, the run's, if that is later)."""
    lines = [
        f"# depotctl demo: the envelope cuts of {path.stem}, as capacity forecasts",
        "forecasts:",
    ]
    for cut in cuts:
        send_at = max(cut.start - lead, start)
        minutes = (cut.end - cut.start).total_seconds() / 60
        lines += [
            f'  - send_at: "{send_at.isoformat()}"',
            "    type: CONSUMPTION",
            "    blocks:",
            f'      - {{start: "{cut.start.isoformat()}", duration: {minutes:g}min, '
            f"capacity: {cut.limit_w / 1000:g} kW}}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
