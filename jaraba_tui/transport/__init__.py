"""I/O behind small interfaces: SSH (asyncssh), SQL (pymysql in threads), Redis, HTTP.

Collectors depend only on the protocols in :mod:`jaraba_tui.transport.base`, so their
logic is tested against the lab's real servers and their parsers against captured output.
"""
