"""The console's panes, each fed the one model by the app."""
