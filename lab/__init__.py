"""The jaraba lab: the seed's HA stack, natively, on loopback."""
