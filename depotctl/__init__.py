"""depotctl: energy management for electric-vehicle depots."""

__version__ = "0.1.0"
