"""Wire simulators: the outside world a controller talks to, over the real protocols.

:mod:`chargers` runs simulated OCPP chargers (clients built on the ``ocpp`` library)
with vehicles from a scenario, against a running controller (``depotctl sim chargers``).
A simulator reaches the controller only over its protocols and its HTTP API (the
client); the offline replay of recorded sessions is :mod:`depotctl.replay`.
"""
