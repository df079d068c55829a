"""Stand-in Drupal app server for the docker-compose stack (NOT the application).

Serves the blue pool on :8081 and the green pool on :8082, like a real app server running
both colours side by side. GET /health answers 200 "ok"; every other path answers 200 with
"<colour> <hostname>", so HAProxy routing, cookie affinity and blue/green switches can be
watched with curl.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = socket.gethostname()


def handler_for(colour: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = f"jaraba-app-stub/{colour}"

        def do_GET(self) -> None:
            body = b"ok\n" if self.path == "/health" else f"{colour} {HOST}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def main() -> None:
    servers = [
        ThreadingHTTPServer(("0.0.0.0", port), handler_for(colour))  # noqa: S104
        for colour, port in (("blue", 8081), ("green", 8082))
    ]
    for srv in servers[1:]:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
