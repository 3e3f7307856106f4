"""The broken-file examples: ``examples/invalid/<category>/<name>.yaml`` breaks rule
``<category>/<name>`` and says where in ``# expect: RULE LINE:COL`` comments; its fix
is ``examples/valid/<category>/<name>.yaml``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INVALID = ROOT / "examples" / "invalid"
VALID = ROOT / "examples" / "valid"

_EXPECT = re.compile(r"#\s*expect:\s*(?P<rule>[a-z-]+/[a-z0-9-]+)\s+(?P<line>\d+):(?P<col>\d+)")


@dataclass(frozen=True)
class Example:
    path: Path
    rule: str
    expected: frozenset[tuple[str, int, int]]

    @property
    def fixed(self) -> Path:
        return VALID / self.path.relative_to(INVALID)


def expectations(path: Path) -> frozenset[tuple[str, int, int]]:
    sidecar = path.with_name(path.name + ".expect")
    raw = sidecar.read_bytes() if sidecar.exists() else path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    return frozenset((m["rule"], int(m["line"]), int(m["col"])) for m in _EXPECT.finditer(text))


def invalid_examples() -> list[Example]:
    return [
        Example(path, f"{path.parent.name}/{path.stem}", expectations(path))
        for path in sorted(INVALID.glob("*/*.yaml"))
    ]
