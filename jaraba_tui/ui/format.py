"""Formatting shared by every pane: severities (symbol + word + colour), ages, sizes, sparks.

Colours come from a :class:`Palette` built from the running theme, so a theme switch
re-renders everything in the new colours; the words and symbols never depend on them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text

from jaraba_tui.model.findings import Finding, Severity

SPARK_CHARS = "▁▂▃▄▅▆▇█"

#: Finding component per layer (hosts' findings say "host").
COMPONENT = {
    "galera": "galera",
    "proxysql": "proxysql",
    "haproxy": "haproxy",
    "redis": "redis",
    "alerts": "alerts",
    "hosts": "host",
}

#: Every component a layer's findings may carry (a whole failed hosts poll says "hosts").
COMPONENTS = {layer: {comp} for layer, comp in COMPONENT.items()} | {"hosts": {"host", "hosts"}}

TITLES = {
    "overview": "Overview",
    "galera": "Galera",
    "proxysql": "ProxySQL",
    "haproxy": "HAProxy",
    "redis": "Redis/Sentinel",
    "alerts": "Alerts",
    "hosts": "Hosts",
    "timeline": "Timeline",
}

SHORT_WORD = {
    Severity.OK: "OK",
    Severity.UNKNOWN: "UNKNOWN",
    Severity.WARN: "WARN",
    Severity.CRIT: "CRIT",
}


@dataclass(frozen=True)
class Palette:
    """Hex colours of the running theme, for Rich text in tables and panels."""

    ok: str = "#3FB950"
    warn: str = "#D29922"
    crit: str = "#F85149"
    unknown: str = "#00B8D9"
    muted: str = "#8B949E"
    accent: str = "#00B8D9"
    primary: str = "#4C9AFF"
    foreground: str = "#E6EDF3"
    background: str = "#0D1117"
    blue: str = "#4C9AFF"
    green: str = "#3FB950"

    @classmethod
    def from_variables(cls, v: Mapping[str, str]) -> Palette:
        """From ``App.theme_variables`` (hex strings; muted blended over the background)."""
        from textual.color import Color

        def pick(*names: str, default: str) -> str:
            for name in names:
                value = v.get(name)
                if value:
                    try:
                        return Color.parse(value).hex6
                    except Exception:  # noqa: S112 - "auto 60%" and the like: next name
                        continue
            return default

        bg = pick("background", default=cls.background)
        fg = pick("foreground", default=cls.foreground)
        muted = Color.parse(fg).blend(Color.parse(bg), 0.45).hex6
        return cls(
            ok=pick("text-success", "success", default=cls.ok),
            warn=pick("text-warning", "warning", default=cls.warn),
            crit=pick("text-error", "error", default=cls.crit),
            unknown=pick("text-accent", "accent", default=cls.unknown),
            muted=muted,
            accent=pick("accent", default=cls.accent),
            primary=pick("text-primary", "primary", default=cls.primary),
            foreground=fg,
            background=bg,
            blue=pick("text-primary", "primary", default=cls.blue),
            green=pick("text-success", "success", default=cls.green),
        )

    def severity(self, sev: Severity) -> str:
        return {
            Severity.OK: self.ok,
            Severity.WARN: self.warn,
            Severity.CRIT: self.crit,
            Severity.UNKNOWN: self.unknown,
        }[sev]


def sev_text(sev: Severity, pal: Palette, *, short: bool = False, bold: bool = True) -> Text:
    """``✓ OK`` / ``! WARNING`` / ``✗ CRITICAL`` / ``? UNKNOWN``: symbol and word, coloured."""
    word = SHORT_WORD[sev] if short else sev.label
    style = f"{'bold ' if bold else ''}{pal.severity(sev)}"
    return Text(f"{sev.symbol} {word}", style=style)


def sev_symbol(sev: Severity, pal: Palette) -> Text:
    return Text(sev.symbol, style=f"bold {pal.severity(sev)}")


#: The last findings sequence sorted by layer (held, so its id cannot be reused): each
#: update's findings are asked for by every pane, the bar and the overview's cards (300
#: alerts and 100 DOWN servers: 400 findings scanned ~15 times per update).
_by_layer: tuple[Sequence[Finding] | None, dict[str, list[Finding]]] = (None, {})


def layer_findings(findings: Sequence[Finding], layer: str) -> list[Finding]:
    """The findings of one layer (by component), in their order (a new list)."""
    global _by_layer
    if not isinstance(findings, tuple):  # a list may change in place: not kept
        comps = COMPONENTS.get(layer, {layer})
        return [f for f in findings if f.component in comps]
    if _by_layer[0] is not findings:
        _by_layer = (findings, {})
    index = _by_layer[1]
    found = index.get(layer)
    if found is None:
        comps = COMPONENTS.get(layer, {layer})
        found = index[layer] = [f for f in findings if f.component in comps]
    return list(found)


def strip_component(message: str, component: str) -> str:
    """``"galera: node3 left"`` -> ``"node3 left"`` (the pane already says Galera)."""
    prefix = f"{component}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def age(seconds: float | None) -> str:
    """12s, 4m, 2h05m, 3d."""
    if seconds is None:
        return "never"
    s = max(0, int(seconds))
    if s < 90:
        return f"{s}s"
    if s < 90 * 60:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d"


def clock_time(ts: float | None) -> str:
    """Local wall-clock time ``HH:MM:SS`` (the console's TZ)."""
    if ts is None or ts <= 0:
        return "--:--:--"
    return time.strftime("%H:%M:%S", time.localtime(ts))


def size(n: float | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "K", "M", "G", "T"):
        if abs(value) < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}T"  # pragma: no cover


def num(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if digits == 0:
        return f"{round(value):,}{unit}"
    return f"{value:,.{digits}f}{unit}"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def short_addr(address: str | None) -> str:
    """``127.0.0.1:6380`` stays as is; ``None`` -> ``?``."""
    return address or "?"


def spark(values: Sequence[float], width: int) -> str:
    """A sparkline of the last ``width`` values; flat low bars when nothing varies."""
    if width <= 0:
        return ""
    data = [v for v in values if math.isfinite(v)][-width:]
    if not data:
        return "·" * width
    lo, hi = min(data), max(data)
    if hi <= lo:
        level = 0 if hi <= 0 else 3
        line = SPARK_CHARS[level] * len(data)
    else:
        top = len(SPARK_CHARS) - 1
        line = "".join(SPARK_CHARS[round((v - lo) / (hi - lo) * top)] for v in data)
    return line.rjust(width, " ")


def where(endpoint: str) -> str:
    """The address part of a transport label ("prometheus prometheus http://h:9090" -> the
    URL; "galera node1 127.0.0.1:3307 via lab" stays)."""
    words = endpoint.split()
    urls = [w for w in words if "://" in w]
    return urls[0] if urls else endpoint


def ellipsize(text: str, width: int) -> str:
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
