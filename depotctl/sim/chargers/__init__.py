"""Simulated OCPP chargers: one ``ocpp`` library client per charger of a site.

Each charger holds the charging profiles the controller sends (:mod:`profiles`,
:mod:`stack`), draws what their composite allows and its vehicle wants
(:mod:`composite`, :mod:`station`), follows the controller's clock (:mod:`simtime`),
plugs in vehicles from a scenario (:mod:`scenario`) and can misbehave on request
(:mod:`misbehaviour`). :mod:`charger` runs one charger's connection over OCPP 1.6J
(:mod:`v16`) or 2.0.1 (:mod:`v201`); :mod:`fleet` runs them all for
``depotctl sim chargers``.
"""
