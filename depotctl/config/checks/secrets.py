"""Secrets: never written inline in a site file (passwords, tokens)."""

from __future__ import annotations
