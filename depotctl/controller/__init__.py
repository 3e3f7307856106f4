"""The controller: the durable store, the clock, the control loop and the HTTP API
that ``depotctl serve`` runs in one asyncio process."""
