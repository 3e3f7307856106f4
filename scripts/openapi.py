"""Write schema/openapi.json: the controller API's OpenAPI document, as `depotctl serve`
serves it at /openapi.json — the contract between the controller, the client and the
console (docs/api.md), committed so that a change to it shows in review.

    python scripts/openapi.py          # rewrite schema/openapi.json
    python scripts/openapi.py --check  # exit 1 when schema/openapi.json is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "schema" / "openapi.json"


def document() -> str:
    """The OpenAPI document of the API's routes, as JSON text (the same every run)."""
    from depotctl.controller.app import create_app
    from depotctl.controller.auth import Tokens

    # The document describes the routes; no controller runs and no token is checked.
    app = create_app(None, Tokens(admin="", readonly=""))  # type: ignore[arg-type]
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = document()
    if "--check" in argv:
        current = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
        if current != text:
            sys.stderr.write(f"{DOCUMENT} is out of date: run python scripts/openapi.py\n")
            return 1
        return 0
    DOCUMENT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
