"""The controller's Prometheus metrics, in a registry of its own (one per controller,
so tests can run several in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """What ``/metrics`` exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.allocations = Counter(
            "depotctl_allocations",
            "Allocations computed (each state or explain request runs one)",
            registry=self.registry,
        )
        self.allocation_seconds = Histogram(
            "depotctl_allocation_duration_seconds",
            "Time to snapshot and allocate once",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=self.registry,
        )
        self.cycle_seconds = Histogram(
            "depotctl_control_cycle_duration_seconds",
            "Time of one control cycle (outcomes in, allocation, journal; never a charger)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.revision = Gauge(
            "depotctl_site_revision",
            "The number of the site revision in force (0: none yet)",
            registry=self.registry,
        )
        self.clock_speed = Gauge(
            "depotctl_clock_speed",
            "Controller clock seconds per real second",
            registry=self.registry,
        )
        self.ocpp_refusals = Counter(
            "depotctl_ocpp_refusals",
            "OCPP connections refused, by the HTTP status answered",
            ["status"],
            registry=self.registry,
        )
        self.ocpp_refusals_unjournaled = Counter(
            "depotctl_ocpp_refusals_unjournaled",
            "OCPP connections refused and counted without a journal entry of their own",
            registry=self.registry,
        )
