"""References: meters and nodes named by id exist; tariff files named by ref exist and hold a tariff."""

from __future__ import annotations
