"""``validate --list-rules``: every rule id, its severity and what it catches."""

from __future__ import annotations

import json
import sys

from depotctl.cli.validate import ValidateFormat
from depotctl.config import all_rules


def print_rules(output_format: ValidateFormat) -> None:
    rules = all_rules()
    if output_format is ValidateFormat.JSON:
        payload = {
            "version": 1,
            "rules": [
                {"id": r.id, "severity": r.severity.value, "summary": r.summary, "hint": r.hint}
                for r in rules
            ],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    width = max(len(r.id) for r in rules)
    for r in rules:
        sys.stdout.write(f"{r.id:<{width}}  {r.severity.value:<7}  {r.summary}\n")
