"""Small hostile servers on loopback: an HTTP server (HAProxy stats CSV, Prometheus,
Alertmanager) and a RESP server (Redis/Sentinel) that answer with garbage."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: A truncated CSV: unknown columns, a short row, a row cut in the middle of a field.
BAD_CSV = (
    "# pxname,svname,qcur,made_up_column,status,weight\n"
    "blue,app1,0,zz,UP,100\n"
    "blue,app2\n"
    'green,app3,0,"unterminated'
)
HUGE_BYTES = 6 * 1024 * 1024


class _Http(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path
        if path.startswith("/stats"):
            body = BAD_CSV.encode()
            ctype = "text/csv"
        elif path.startswith("/api/v1/alerts"):
            body = b"<html><body>502 Bad Gateway: this is not JSON</body></html>"
            ctype = "application/json"
        elif path.startswith("/api/v2/alerts"):
            body = b'{"status": "success", "data": {"alerts": "not a list"}}'
            ctype = "application/json"
        elif path.startswith("/api/v2/silences"):
            body = b"[" + b"1," * (HUGE_BYTES // 2) + b"1]"
            ctype = "application/json"
        else:
            body = b'{"status":"success","data":{"activeTargets":[]}}'
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)


def _bulk(s: str | bytes) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    return b"$%d\r\n%s\r\n" % (len(b), b)


def _array(items: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(items)


def _resp_reply(args: list[bytes]) -> bytes:
    cmd = [a.decode("latin-1").upper() for a in args[:2]]
    if not cmd:
        return b"-ERR empty\r\n"
    if cmd[0] in ("AUTH", "CLIENT", "SELECT", "READONLY"):
        return b"+OK\r\n"
    if cmd[0] == "HELLO":  # RESP3 handshake, answered as a map
        return b"%3\r\n" + b"".join(
            _bulk(k) + v
            for k, v in (
                ("server", _bulk("redis")),
                ("version", _bulk("7.0.0")),
                ("proto", b":3\r\n"),
            )
        )
    if cmd[0] == "PING":
        return b"+PONG\r\n"
    if cmd[0] == "INFO":
        # no role, no version: key-value lines of nonsense
        return _bulk("# Nonsense\r\nfoo:bar\r\nconnected_slaves:lots\r\n")
    if cmd[0] == "SENTINEL" and len(cmd) > 1:
        sub = cmd[1]
        if sub == "MASTERS":  # a record with an odd number of items, another without ip/port
            return _array(
                [
                    _array([_bulk("name"), _bulk("jaraba-master"), _bulk("flags")]),
                    _array(
                        [_bulk("name"), _bulk("jaraba-master"), _bulk("flags"), _bulk("master")]
                    ),
                ]
            )
        if sub == "MASTER":
            return _array([_bulk("name"), _bulk("jaraba-master")])
        if sub in ("REPLICAS", "SLAVES"):
            return b":42\r\n"  # an integer where a list of records belongs
        if sub == "SENTINELS":  # a huge reply
            return _array([_bulk("x" * 64) for _ in range(60_000)])
        if sub == "GET-MASTER-ADDR-BY-NAME":
            return _array([b":1\r\n", b"*0\r\n", _bulk("not-a-port")])
        if sub == "CKQUORUM":
            return _array([_bulk("OK")])
    return b"-ERR unknown command\r\n"


class _Resp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        f = self.request.makefile("rb")
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                if not line.startswith(b"*"):
                    self.request.sendall(b"-ERR protocol\r\n")
                    continue
                n = int(line[1:].strip() or 0)
                args: list[bytes] = []
                for _ in range(n):
                    size = int(f.readline()[1:].strip())
                    args.append(f.read(size + 2)[:-2])
                self.request.sendall(_resp_reply(args))
        except (OSError, ValueError):
            return


class _ThreadingTCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class GarbageServers:
    """Both servers on 127.0.0.1 ephemeral ports, in daemon threads."""

    def __init__(self) -> None:
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), _Http)
        self.http.daemon_threads = True
        self.resp = _ThreadingTCP(("127.0.0.1", 0), _Resp)
        self.http_port = self.http.server_address[1]
        self.resp_port = self.resp.server_address[1]
        self._threads = [
            threading.Thread(target=s.serve_forever, daemon=True) for s in (self.http, self.resp)
        ]
        for t in self._threads:
            t.start()

    def close(self) -> None:
        for s in (self.http, self.resp):
            s.shutdown()
            s.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
