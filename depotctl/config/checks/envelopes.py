"""Envelope sources: known sources, a fallback each, offline_after not shorter than the heartbeat."""

from __future__ import annotations
