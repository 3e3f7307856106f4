"""The protocols depotctl speaks with the world: OCPP to chargers (and, later, OSCP to
the grid operator). Each is an adapter around domain values; none imports the
controller."""
