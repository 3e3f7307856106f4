"""The API's routes, one module per resource. Each route parses its request, calls
one service (:mod:`depotctl.controller.services`) and renders what it returns."""
