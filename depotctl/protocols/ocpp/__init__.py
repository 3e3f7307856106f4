"""OCPP 1.6J and 2.0.1, the controller's side (CSMS), on the mobilityhouse ``ocpp``
library."""
