"""HTTP (Prometheus, Alertmanager, HAProxy stats, Grafana) with httpx.AsyncClient: explicit
connect/read/write/pool timeouts, basic auth from secrets, optional SSH tunnel (``via``)."""

from __future__ import annotations

import asyncio
import ssl
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

# httpx's __init__ imports its command-line client, ``httpx._main`` (click, pygments, rich's
# progress and syntax; issue 6: ~20 ms of CPU at the console's start, where textual imports
# the rest of rich anyway, ~60 ms where nothing else does), in ``try: from ._main import
# main / except ImportError``; nothing here runs that client. A ``None`` in ``sys.modules``
# makes the import raise ImportError (the import system's documented behaviour), so httpx
# keeps its stub ``main`` instead. Only when httpx is not imported yet; the ``httpx``
# command, a process of its own, is unaffected.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx

from jaraba_tui.profile.errors import ProfileError
from jaraba_tui.secrets import Secret
from jaraba_tui.transport._common import AddressProvider, Timeouts, error, os_error_kind
from jaraba_tui.transport.base import HttpResponse, TransportError

_context_lock = threading.Lock()
_verified_context: ssl.SSLContext | None = None


def verified_context() -> ssl.SSLContext:
    """The TLS context of every verifying client: httpx's own default (certifi's CAs,
    hostname checked), built once per process. httpx builds one per client otherwise, and
    loading the CA bundle costs ~45 ms of CPU each time (issue 6, start-up). Shared by the
    engine's and the UI's clients: an SSLContext may serve several threads, and httpcore's
    only change to it (ALPN ``http/1.1``, HTTP/2 being off) is the same for all of them."""
    global _verified_context
    with _context_lock:
        if _verified_context is None:
            _verified_context = httpx.create_ssl_context(verify=True, trust_env=False)
        return _verified_context


def import_httpcore() -> None:
    """Import httpcore (httpx imports it when it builds its first client) without trio.

    httpcore's ``_synchronization`` imports trio, when installed, to support running under
    trio; every client here runs on an asyncio loop, where httpcore uses anyio and never
    trio. Importing trio costs ~60 ms of CPU in the engine's first HTTP poll (issue 6), so
    trio is hidden (``None`` in ``sys.modules``) for the time of httpcore's import only,
    then importable again as before."""
    with _context_lock:
        if "httpcore" in sys.modules or "trio" in sys.modules:
            return
        sys.modules["trio"] = None  # type: ignore[assignment]
        try:
            import httpcore  # noqa: F401
        finally:
            hidden: object = sys.modules.get("trio", False)
            if hidden is None:
                del sys.modules["trio"]


def plain_http_context() -> ssl.SSLContext:
    """The context given to a client of an ``http://`` URL, which never opens TLS (no
    redirects followed, no proxy): no CA bundle loaded, and still verifying, so a TLS
    connection through it could only fail closed."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class HttpxClient:
    """:class:`~jaraba_tui.transport.base.HttpClient`. ``path`` is appended to the base URL
    as written (``"/api/v1/alerts"``, or ``";csv"`` after ``.../stats``)."""

    def __init__(
        self,
        endpoint: str,
        base_url: str,
        *,
        timeouts: Timeouts,
        user: str | Secret | None = None,
        password: Secret | None = None,
        tunnel: AddressProvider | None = None,
        verify: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self._base = base_url.rstrip("/")
        self._parts = urlsplit(self._base)
        self._timeouts = timeouts
        self._user = user
        self._password = password
        self._tunnel = tunnel
        self._verify = verify
        self._client: httpx.AsyncClient | None = None
        self._client_base: str | None = None
        #: Parsed URLs by (base, path): each poll GETs the same few paths, and parsing the
        #: URL string is a tenth of httpx's CPU per request (issue 6).
        self._urls: dict[tuple[str, str], httpx.URL] = {}
        self._closed = False
        self._lock = asyncio.Lock()

    async def _get_client(self) -> tuple[httpx.AsyncClient, str]:
        async with self._lock:  # concurrent first calls build one client, not two
            return await self._get_client_locked()

    async def _get_client_locked(self) -> tuple[httpx.AsyncClient, str]:
        if self._closed:
            raise error("client is closed", kind="other", endpoint=self.endpoint)
        base = self._base
        headers: dict[str, str] = {}
        if self._tunnel is not None:
            host, port = await self._tunnel()
            base = self._parts._replace(netloc=f"{host}:{port}").geturl()
            headers["Host"] = self._parts.netloc
        if self._client is not None and self._client_base == base:
            return self._client, base
        if self._client is not None:
            await self._client.aclose()
        auth: httpx.BasicAuth | None = None
        if self._user is not None or self._password is not None:
            try:
                user = await self._user.areveal() if isinstance(self._user, Secret) else self._user
                password = await self._password.areveal() if self._password is not None else ""
            except ProfileError as exc:
                raise error(str(exc), kind="auth", endpoint=self.endpoint) from None
            auth = httpx.BasicAuth(user or "", password)
        import_httpcore()
        c, r = self._timeouts.connect, self._timeouts.read
        tls: ssl.SSLContext | bool
        if self._parts.scheme != "https":
            tls = plain_http_context()
        else:
            tls = verified_context() if self._verify else False
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(connect=c, read=r, write=r, pool=c),
            auth=auth,
            headers=headers,
            follow_redirects=False,
            verify=tls,
            trust_env=False,
        )
        self._client_base = base
        return self._client, base

    def _url(self, base: str, path: str) -> httpx.URL:
        url = self._urls.get((base, path))
        if url is None:
            if len(self._urls) >= 64:
                self._urls.clear()
            url = httpx.URL(base + path if not path or path[0] in "/;?#" else f"{base}/{path}")
            self._urls[(base, path)] = url
        return url

    async def _request(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        client, base = await self._get_client()
        extensions: dict[str, Any] = {}
        if self._tunnel is not None and self._parts.scheme == "https" and self._parts.hostname:
            extensions["sni_hostname"] = self._parts.hostname
        try:
            async with asyncio.timeout(self._timeouts.total + self._timeouts.read):
                response = await client.request(
                    method, self._url(base, path), extensions=extensions, **kwargs
                )
        except TimeoutError:
            raise error(
                "no complete answer in time", kind="timeout", endpoint=self.endpoint
            ) from None
        except httpx.HTTPError as exc:
            raise translate(exc, self.endpoint) from None
        return HttpResponse(status=response.status_code, text=response.text)

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> HttpResponse:
        return await self._request("GET", path, params=dict(params) if params else None)

    async def post(self, path: str, json_body: Any) -> HttpResponse:
        return await self._request("POST", path, json=json_body)

    async def delete(self, path: str) -> HttpResponse:
        return await self._request("DELETE", path)

    async def close(self) -> None:
        self._closed = True
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _cause_chain(exc: BaseException, limit: int = 10) -> Iterator[BaseException]:
    """``exc``, then what caused it, and so on (at most ``limit``)."""
    current: BaseException | None = exc
    for _ in range(limit):
        if current is None:
            return
        yield current
        current = current.__cause__ or current.__context__


def _root_os_error(exc: BaseException) -> OSError | None:
    """The most specific OSError in the cause chain (anyio hides errno behind a summary)."""
    found: OSError | None = None
    for current in _cause_chain(exc):
        if isinstance(current, OSError) and (current.errno is not None or found is None):
            found = current
    return found


def _tls_error(exc: BaseException) -> ssl.SSLError | None:
    """The TLS failure in the cause chain, if any (its errno is OpenSSL's, not the OS's)."""
    return next((e for e in _cause_chain(exc) if isinstance(e, ssl.SSLError)), None)


def translate(exc: httpx.HTTPError, endpoint: str) -> TransportError:
    text = str(exc).lower()
    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: "connecting",
            httpx.ReadTimeout: "waiting for the answer",
            httpx.WriteTimeout: "sending",
            httpx.PoolTimeout: "waiting for a free connection",
        }.get(type(exc), "")
        return error(f"timed out {phase}".strip(), kind="timeout", endpoint=endpoint)
    if isinstance(exc, httpx.ConnectError):
        tls = _tls_error(exc)
        if isinstance(tls, ssl.SSLCertVerificationError):
            why = f" ({tls.verify_message})" if tls.verify_message else ""
            return error(f"TLS certificate not accepted{why}", kind="protocol", endpoint=endpoint)
        if tls is not None:
            return error("TLS handshake failed", kind="protocol", endpoint=endpoint)
        cause = _root_os_error(exc)
        if cause is not None:
            kind, why = os_error_kind(cause)
            if kind != "other":
                return error(why, kind=kind, endpoint=endpoint)
        if "refused" in text:
            return error("connection refused", kind="refused", endpoint=endpoint)
        if "name or service" in text or "nodename" in text or "resolution" in text:
            return error("host name does not resolve", kind="unreachable", endpoint=endpoint)
        if "ssl" in text or "certificate" in text:
            return error("TLS handshake failed (certificate?)", kind="protocol", endpoint=endpoint)
        if "unreachable" in text:
            return error("host unreachable", kind="unreachable", endpoint=endpoint)
        return error("cannot connect", kind="other", endpoint=endpoint)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.DecodingError):
        return error("not a valid HTTP answer", kind="protocol", endpoint=endpoint)
    return error(f"HTTP failed ({type(exc).__name__})", kind="other", endpoint=endpoint)
