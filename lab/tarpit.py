#!/usr/bin/env python3
"""Fault helper: a port that accepts TCP connections and never answers."""

from __future__ import annotations

import argparse
import socket


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=3399)
    args = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(128)
    held: list[socket.socket] = []
    while True:
        conn, _ = srv.accept()
        held.append(conn)  # keep it open, say nothing
        if len(held) > 1000:
            held.pop(0).close()


if __name__ == "__main__":
    main()
