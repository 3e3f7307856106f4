"""``depotctl sim derms``: a simulated OSCP 2.0 Capacity Provider (a grid operator's
DERMS) for one OSCP envelope source of a site. It serves the provider's endpoints
(``provider``), registers and hand-shakes with the controller, sends heartbeats and
the capacity forecasts of a profile (``profile``) on the controller's clock, goes
silent on cue (``link``), and checks the measurements it receives against its
forecast (``ledger``, ``report``). ``docs/sim-derms.md`` describes it."""
