"""One module per system; each ``collect(...)`` returns a frozen, JSON-ready snapshot.

Collectors talk only through the protocols in :mod:`jaraba_tui.transport.base`; their pure
``parse_*`` functions are tested on real captured output (``tests/fixtures/captured``).
"""
