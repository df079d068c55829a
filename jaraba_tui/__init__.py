"""jaraba-ops: the terminal operations console for the Jaraba HA stack."""

__version__ = "0.1.0"
