"""The controller's services: what each API route (and the OCPP side) asks of the
depot, with its rules, its transaction and its journal entries. Each takes the
depot's ports (:class:`depotctl.controller.ports.Depot`: the unit-of-work factory,
the clock, the site in force) and returns values; the routes render them."""
