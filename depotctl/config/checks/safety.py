"""Safety: every charger has a fallback limit and referenced OCPP credentials."""

from __future__ import annotations
