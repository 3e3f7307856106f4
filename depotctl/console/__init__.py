"""The operations console (`depotctl console`): a Textual app that talks to the
controller only through its HTTP API."""
