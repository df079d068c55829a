"""Small helpers the rule modules share: phrasing of errors, durations and sizes."""

from __future__ import annotations

from jaraba_tui.collectors.common import EndpointError

_KIND_PHRASE = {
    "timeout": "no answer within the timeout",
    "refused": "connection refused",
    "unreachable": "host unreachable",
    "auth": "authentication failed",
    "hostkey": "SSH host key not trusted",
}


def why(err: EndpointError) -> str:
    """A short reason: the transport's own sentence, or a phrase for its kind."""
    msg = err.message.strip().rstrip(".")
    return msg or _KIND_PHRASE.get(err.kind, err.kind)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = max(0, int(seconds))
    if s < 90:
        return f"{s}s"
    if s < 90 * 60:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d"


def size(n: float | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"
