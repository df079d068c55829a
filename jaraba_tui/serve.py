"""`jaraba-ops serve`: the console in a browser, read-only, for an incident commander who has
no terminal.

textual-serve runs one console process per browser tab and relays the terminal over a
websocket (xterm.js in the page). The process it runs is fixed here, on the server:
``python -m jaraba_tui --profile P --read-only``. Read-only is therefore forced in the
process that holds the profile (its actions context refuses every action, the keys say
"refused"); the browser only sends keystrokes and can change neither the command nor the
flag.

Binding: only the address given (default 127.0.0.1:8765); never every interface (0.0.0.0,
::). Any other non-loopback address is refused unless ``--allow-remote``: textual-serve has
no TLS and no authentication, so a remote bind belongs behind a reverse proxy that adds
both. Websocket
connections whose ``Origin`` is another site are refused (a page on the commander's browser
must not read the console), and so are connections beyond ``--max-sessions``.

Behind a reverse proxy, ``--public-url`` is the address the browser uses (e.g.
``https://ops.example.com/console``, the proxy passing ``/console/...`` on without the
prefix): the served page points its websocket there, and that site is the one allowed
``Origin`` besides the bound address.

No textual here (textual-serve is a separate package that runs textual in the child).
"""

from __future__ import annotations

import ipaddress
import shlex
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from aiohttp import web

DEFAULT_BIND = "127.0.0.1:8765"
DEFAULT_MAX_SESSIONS = 4


class BindError(ValueError):
    """A bad ``--bind`` value (the message says why and what to write)."""


@dataclass(frozen=True)
class Bind:
    host: str  # an IP address literal
    port: int

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return ipaddress.ip_address(self.host)

    @property
    def loopback(self) -> bool:
        return self.ip.is_loopback

    @property
    def netloc(self) -> str:
        return f"[{self.host}]:{self.port}" if self.ip.version == 6 else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.netloc}"


@dataclass(frozen=True)
class PublicUrl:
    """Where the browser reaches the console through a reverse proxy."""

    scheme: str  # http or https
    host: str  # lower case; an IPv6 address without brackets
    port: int
    path: str  # "" or "/prefix" (no trailing slash)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        port = "" if self.port == default else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"


def parse_public_url(text: str) -> PublicUrl:
    """``--public-url``: http(s)://HOST[:PORT][/PATH], no user, query or fragment."""
    value = text.strip()
    example = "e.g. https://ops.example.com/console"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise BindError(f"--public-url {text!r}: {exc}; {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BindError(f"--public-url {text!r}: write http(s)://HOST[:PORT][/PATH], {example}")
    if parts.username is not None or parts.password is not None:
        # never echo the value: it may hold a password
        raise BindError("--public-url: no user or password in the URL (the proxy logs users in)")
    if parts.query or parts.fragment or "#" in value or "?" in value:
        raise BindError(f"--public-url {text!r}: no query or fragment, {example}")
    default = 443 if parts.scheme == "https" else 80
    return PublicUrl(parts.scheme, parts.hostname.lower(), port or default, parts.path.rstrip("/"))


def parse_bind(text: str, *, allow_remote: bool = False) -> Bind:
    """``HOST:PORT`` with HOST an IPv4 address, ``[IPv6]`` or ``localhost`` (127.0.0.1)."""
    value = text.strip()
    example = "write HOST:PORT, e.g. 127.0.0.1:8765 or [::1]:8765"
    if value.startswith("["):
        host, sep, port_text = value[1:].partition("]:")
        if not sep:
            raise BindError(f"--bind {text!r}: an IPv6 address needs [ADDRESS]:PORT; {example}")
    else:
        host, sep, port_text = value.rpartition(":")
        if not sep or not host:
            raise BindError(f"--bind {text!r}: no port; {example}")
        if ":" in host:
            raise BindError(f"--bind {text!r}: put an IPv6 address in brackets; {example}")
    if host == "localhost":
        host = "127.0.0.1"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise BindError(
            f"--bind {text!r}: {host!r} is not an IP address (a name may resolve to more "
            f"addresses than meant); {example}"
        ) from None
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise BindError(f"--bind {text!r}: the port must be a number from 1 to 65535")
    bind = Bind(str(ip), int(port_text))
    if ip.is_unspecified:
        raise BindError(
            f"--bind {text!r} is every interface: give the one address to serve on "
            "(127.0.0.1, or with --allow-remote the bastion's own address)"
        )
    if not bind.loopback and not allow_remote:
        what = "an address other hosts can reach"
        raise BindError(
            f"--bind {text!r} is {what}: the served console has no TLS and no login. "
            "Bind to 127.0.0.1 (and reach it over `ssh -L`), or pass --allow-remote with a "
            "reverse proxy that adds TLS and authentication in front"
        )
    return bind


def console_command(profile: str | None, *, theme: str | None = None) -> str:
    """The shell command textual-serve runs per browser tab: this console, read-only."""
    argv = [sys.executable, "-m", "jaraba_tui", "--read-only"]
    if profile:
        argv += ["--profile", profile]
    if theme:
        argv += ["--theme", theme]
    return shlex.join(argv)


def origin_allowed(origin: str | None, bind: Bind, public: PublicUrl | None = None) -> bool:
    """A websocket from no page (a script) or from the served page itself (at the bound
    address, or at ``public``, the reverse proxy's); never from another site's page in the
    same browser."""
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or parts.hostname is None:
        return False
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    host = parts.hostname.strip("[]").lower()
    if public is not None and (parts.scheme, host, port) == (
        public.scheme,
        public.host,
        public.port,
    ):
        return True
    hosts = {bind.host, "localhost"} if bind.loopback else {bind.host}
    return host in hosts and port == bind.port


def serve(
    bind: Bind,
    profile: str | None,
    *,
    title: str,
    theme: str | None = None,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    public: PublicUrl | None = None,
) -> None:
    """Serve until interrupted (Ctrl+C / SIGTERM)."""
    from aiohttp import web
    from textual_serve.server import Server

    class ReadOnlyServer(Server):
        sessions = 0

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            origin = request.headers.get("Origin")
            if not origin_allowed(origin, bind, public):
                raise web.HTTPForbidden(text=f"websocket from origin {origin!r} refused\n")
            if self.sessions >= max_sessions:
                raise web.HTTPServiceUnavailable(
                    text=f"{max_sessions} consoles are open already (--max-sessions)\n"
                )
            self.sessions += 1
            try:
                return await super().handle_websocket(request)
            finally:
                self.sessions -= 1

    server = ReadOnlyServer(
        console_command(profile, theme=theme),
        host=bind.host,
        port=bind.port,
        title=title,
        public_url=public.url if public is not None else bind.url,
    )
    server.serve()
