"""``depotctl demo``: a controller, simulated chargers with a night of vehicles, a
scripted envelope cut and the console, assembled in a temporary state directory."""
