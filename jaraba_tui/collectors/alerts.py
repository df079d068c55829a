"""Prometheus alerts (``/api/v1/alerts``) and Alertmanager alerts and silences (``/api/v2``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from jaraba_tui.collectors.common import (
    Clock,
    EndpointError,
    ParseError,
    Serialisable,
    Stopwatch,
    guarded,
    parse_timestamp,
    parsed,
    text,
)
from jaraba_tui.transport.base import HttpClient, TransportError

T = TypeVar("T")


class AlertsParseError(ParseError):
    pass


@dataclass(frozen=True)
class PromAlert(Serialisable):
    name: str
    state: str  # "firing" | "pending" (| "inactive" from newer servers)
    severity: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    active_at: float | None
    value: str | None

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.annotations.get("description") or ""


@dataclass(frozen=True)
class AmAlert(Serialisable):
    fingerprint: str
    name: str
    severity: str | None
    state: str  # "active" | "suppressed" | "unprocessed"
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float | None
    ends_at: float | None
    silenced_by: tuple[str, ...]
    inhibited_by: tuple[str, ...]


@dataclass(frozen=True)
class Matcher(Serialisable):
    name: str
    value: str
    is_regex: bool
    is_equal: bool

    def expr(self) -> str:
        """``name="value"``, ``name=~"re"``, ``name!="value"``, ``name!~"re"``."""
        op = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}
        return f"{self.name}{op[(self.is_regex, self.is_equal)]}{json.dumps(self.value)}"


@dataclass(frozen=True)
class Silence(Serialisable):
    id: str
    state: str  # "active" | "pending" | "expired"
    matchers: tuple[Matcher, ...]
    starts_at: float | None
    ends_at: float | None
    created_by: str
    comment: str


@dataclass(frozen=True)
class PrometheusTarget:
    name: str
    http: HttpClient


@dataclass(frozen=True)
class AlertmanagerTarget:
    name: str
    http: HttpClient


@dataclass(frozen=True)
class PrometheusAlerts(Serialisable):
    name: str
    endpoint: str
    alerts: tuple[PromAlert, ...]
    error: EndpointError | None
    elapsed_ms: float = 0.0

    @property
    def firing(self) -> tuple[PromAlert, ...]:
        return tuple(a for a in self.alerts if a.state == "firing")

    @property
    def pending(self) -> tuple[PromAlert, ...]:
        return tuple(a for a in self.alerts if a.state == "pending")


@dataclass(frozen=True)
class AlertmanagerState(Serialisable):
    name: str
    endpoint: str
    alerts: tuple[AmAlert, ...]
    silences: tuple[Silence, ...]
    expired_silences: int
    errors: tuple[EndpointError, ...]
    elapsed_ms: float = 0.0

    def silence(self, sid: str) -> Silence | None:
        return next((s for s in self.silences if s.id == sid), None)


@dataclass(frozen=True)
class AlertsSnapshot(Serialisable):
    collected_at: float
    prometheus: PrometheusAlerts | None
    alertmanager: AlertmanagerState | None


# -- pure parsers ----------------------------------------------------------------------------


def _json(body: str | Any) -> Any:
    if not isinstance(body, str):
        return body
    try:
        return json.loads(body)
    except ValueError as exc:
        raise AlertsParseError(f"not JSON: {exc}") from None


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    if value.__class__ is dict and all(
        k.__class__ is str and v.__class__ is str for k, v in value.items()
    ):
        return dict(value)  # JSON's usual labels: text() of each would be itself
    return {text(k): text(v) for k, v in value.items()}


def parse_prometheus_alerts(body: str | Any) -> tuple[PromAlert, ...]:
    """``GET /api/v1/alerts``: ``{"status": "success", "data": {"alerts": [...]}}``."""
    doc = _json(body)
    if not isinstance(doc, Mapping):
        raise AlertsParseError("prometheus alerts: not a JSON object")
    if doc.get("status") != "success":
        raise AlertsParseError(f"prometheus alerts: status {text(doc.get('status'))[:40]!r}")
    data = doc.get("data")
    alerts = data.get("alerts") if isinstance(data, Mapping) else None
    if not isinstance(alerts, list):
        raise AlertsParseError("prometheus alerts: no data.alerts list")
    out = []
    for a in alerts:
        if not isinstance(a, Mapping):
            raise AlertsParseError("prometheus alerts: an alert is not an object")
        labels = _str_map(a.get("labels"))
        out.append(
            PromAlert(
                name=labels.get("alertname", "?"),
                state=text(a.get("state")) or "unknown",
                severity=labels.get("severity"),
                labels=labels,
                annotations=_str_map(a.get("annotations")),
                active_at=parse_timestamp(a.get("activeAt")),
                value=None if a.get("value") is None else text(a.get("value")),
            )
        )
    return tuple(out)


def parse_am_alerts(body: str | Any) -> tuple[AmAlert, ...]:
    """``GET /api/v2/alerts``: a JSON list of gettableAlert."""
    doc = _json(body)
    if not isinstance(doc, list):
        raise AlertsParseError("alertmanager alerts: not a JSON list")
    out = []
    for a in doc:
        if not isinstance(a, Mapping):
            raise AlertsParseError("alertmanager alerts: an alert is not an object")
        labels = _str_map(a.get("labels"))
        status = a.get("status") if isinstance(a.get("status"), Mapping) else {}
        assert isinstance(status, Mapping)
        out.append(
            AmAlert(
                fingerprint=text(a.get("fingerprint")),
                name=labels.get("alertname", "?"),
                severity=labels.get("severity"),
                state=text(status.get("state")) or "unknown",
                labels=labels,
                annotations=_str_map(a.get("annotations")),
                starts_at=parse_timestamp(a.get("startsAt")),
                ends_at=parse_timestamp(a.get("endsAt")),
                silenced_by=_str_list(status.get("silencedBy")),
                inhibited_by=_str_list(status.get("inhibitedBy")),
            )
        )
    return tuple(out)


def _str_list(value: Any) -> tuple[str, ...]:
    return tuple(text(v) for v in value) if isinstance(value, list) else ()


def parse_silences(body: str | Any) -> tuple[Silence, ...]:
    """``GET /api/v2/silences``: a JSON list of gettableSilence (expired ones included)."""
    doc = _json(body)
    if not isinstance(doc, list):
        raise AlertsParseError("alertmanager silences: not a JSON list")
    out = []
    for s in doc:
        if not isinstance(s, Mapping):
            raise AlertsParseError("alertmanager silences: a silence is not an object")
        matchers = []
        for m in s.get("matchers") or []:
            if isinstance(m, Mapping):
                matchers.append(
                    Matcher(
                        name=text(m.get("name")),
                        value=text(m.get("value")),
                        is_regex=bool(m.get("isRegex")),
                        is_equal=m.get("isEqual", True) is not False,
                    )
                )
        status = s.get("status") if isinstance(s.get("status"), Mapping) else {}
        assert isinstance(status, Mapping)
        out.append(
            Silence(
                id=text(s.get("id")),
                state=text(status.get("state")) or "unknown",
                matchers=tuple(matchers),
                starts_at=parse_timestamp(s.get("startsAt")),
                ends_at=parse_timestamp(s.get("endsAt")),
                created_by=text(s.get("createdBy")),
                comment=text(s.get("comment"))[:500],
            )
        )
    return tuple(out)


# -- I/O -------------------------------------------------------------------------------------


class _Recent:
    """The last few bodies each parser read, with what it made of them: an answer equal to
    one of them (300 firing alerts rarely change between two polls) is not decoded and
    parsed again, and its alerts are the same objects as before (the engine does not send
    the console an unchanged part again). Parse errors are not kept."""

    SIZE = 4

    def __init__(self) -> None:
        self._kept: list[tuple[Callable[[str], Any], str, Any]] = []

    def parse(self, parser: Callable[[str], T], body: str) -> T:
        for n, (fn, seen, result) in enumerate(self._kept):
            if fn is parser and seen == body:
                if n:
                    self._kept.insert(0, self._kept.pop(n))
                return cast(T, result)
        result = parser(body)
        self._kept.insert(0, (parser, body, result))
        del self._kept[self.SIZE :]
        return result


_RECENT = _Recent()


async def _get(http: HttpClient, path: str) -> str:
    resp = await http.get(path)
    if resp.status != 200:
        raise TransportError(f"GET {path} answered HTTP {resp.status}", kind="protocol")
    return resp.text


async def collect_prometheus(
    target: PrometheusTarget, *, timeout: float | None = None
) -> PrometheusAlerts:
    sw = Stopwatch()
    ep = target.http.endpoint
    body, err = await guarded(ep, "alerts", lambda: _get(target.http, "/api/v1/alerts"), timeout)
    alerts = None
    if body is not None:
        alerts, err = parsed(lambda: _RECENT.parse(parse_prometheus_alerts, body), ep, "alerts")
    return PrometheusAlerts(target.name, ep, alerts or (), err, sw.ms())


async def collect_alertmanager(
    target: AlertmanagerTarget, *, timeout: float | None = None
) -> AlertmanagerState:
    sw = Stopwatch()
    http, ep = target.http, target.http.endpoint
    errors: list[EndpointError] = []
    body, err = await guarded(ep, "alerts", lambda: _get(http, "/api/v2/alerts"), timeout)
    alerts = None
    if body is not None:
        alerts, err = parsed(lambda: _RECENT.parse(parse_am_alerts, body), ep, "alerts")
    errors += [err] if err else []
    silences = None
    if err is None or err.kind not in ("timeout", "refused", "unreachable"):
        sbody, err = await guarded(ep, "silences", lambda: _get(http, "/api/v2/silences"), timeout)
        if sbody is not None:
            silences, err = parsed(lambda: _RECENT.parse(parse_silences, sbody), ep, "silences")
        errors += [err] if err else []
    live = tuple(s for s in silences or () if s.state != "expired")
    expired = sum(1 for s in silences or () if s.state == "expired")
    return AlertmanagerState(target.name, ep, alerts or (), live, expired, tuple(errors), sw.ms())


async def collect(
    prometheus: PrometheusTarget | None,
    alertmanager: AlertmanagerTarget | None,
    *,
    clock: Clock = time.time,
    timeout: float | None = None,
) -> AlertsSnapshot:
    async def none() -> None:
        return None

    prom, am = await asyncio.gather(
        collect_prometheus(prometheus, timeout=timeout) if prometheus else none(),
        collect_alertmanager(alertmanager, timeout=timeout) if alertmanager else none(),
    )
    return AlertsSnapshot(clock(), prom, am)
