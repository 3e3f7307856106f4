"""``depotctl demo``: a controller, simulated chargers with a night of vehicles, a
scripted envelope cut and the console, assembled in a temporary state directory.

An application, like the CLI that starts it: it composes the controller process and the
simulated chargers (each started as ``depotctl serve`` / ``depotctl sim chargers`` in a
process of its own, so it never imports the controller or the simulators), drives the
controller through the client and shows the console. In the layers it sits under the
CLI and over the console, the client and config; nothing but the CLI imports it.
"""
