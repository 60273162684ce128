"""The ``sostenuto`` command line (Typer). Commands parse, call one service, print."""
