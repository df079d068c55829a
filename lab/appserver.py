#!/usr/bin/env python3
"""A tiny app server for the lab's blue/green pools: answers with its colour and name.

GET /health -> 200 "OK"; GET /fail -> 500 (to make 5xx on purpose); anything else ->
200 "<colour> <name>".
"""

from __future__ import annotations

import argparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--colour", required=True)
    ap.add_argument("--name", required=True)
    args = ap.parse_args()
    body_ok = f"{args.colour} {args.name}\n".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/health"):
                code, body = 200, b"OK\n"
            elif self.path.startswith("/fail"):
                code, body = 500, b"failing on purpose\n"
            else:
                code, body = 200, body_ok
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-App", f"{args.colour}-{args.name}")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
