"""Alerts: what Prometheus fires and has pending, Alertmanager's view, active silences."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from jaraba_tui.collectors.alerts import AlertsSnapshot, AmAlert, PromAlert
from jaraba_tui.engine import EngineUpdate
from jaraba_tui.model.findings import Severity
from jaraba_tui.model.health.alerts import SEVERITY_OF_LABEL
from jaraba_tui.ui.format import Palette, age, clock_time, ellipsize, sev_text, where
from jaraba_tui.ui.widgets.layers import note
from jaraba_tui.ui.widgets.pane import LayerPane, RenderCtx, set_text
from jaraba_tui.ui.widgets.sparks import Series, SparkPanel
from jaraba_tui.ui.widgets.table import KeyedTable

ALERTS = [
    ("sev", "Severity"),
    ("name", "Alert"),
    ("state", "State"),
    ("since", "For"),
    ("labels", "Labels"),
    ("am", "Alertmanager"),
    ("summary", "Summary"),
]
SILENCES = [
    ("id", "Silence"),
    ("state", "State"),
    ("ends", "Ends"),
    ("by", "By"),
    ("matchers", "Matchers"),
    ("comment", "Comment"),
]


def _key(a: PromAlert) -> str:
    return a.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(a.labels.items())) + "}"


def _am_key(a: AmAlert) -> str:
    return f"am:{a.fingerprint}"


class AmIndex:
    """The Alertmanager alerts, to find Prometheus alerts' copies (:func:`am_match`): by name,
    then by the values of the labels the Prometheus alert has (300 alerts of one name were a
    scan of 300 for each of 300)."""

    def __init__(self, am_alerts: Sequence[AmAlert]) -> None:
        self.by_name: dict[str, list[AmAlert]] = {}
        for am in am_alerts:
            self.by_name.setdefault(am.name, []).append(am)
        # (name, label names) -> those labels' values -> the first alert holding them
        self._by_values: dict[tuple[str, tuple[str, ...]], dict[tuple[str | None, ...], AmAlert]]
        self._by_values = {}

    def match(self, p: PromAlert) -> AmAlert | None:
        group = self.by_name.get(p.name)
        if not group:
            return None
        names = tuple(p.labels)
        index = self._by_values.get((p.name, names))
        if index is None:
            index = self._by_values[(p.name, names)] = {}
            for am in group:
                index.setdefault(tuple(am.labels.get(k) for k in names), am)
        return index.get(tuple(p.labels.values()))


def am_match(p: PromAlert, by_name: AmIndex) -> AmAlert | None:
    """Alertmanager's copy of a Prometheus alert: same name, every Prometheus label equal
    (Alertmanager's may carry more: the external labels); the first such, in Alertmanager's
    order. ``by_name``: :func:`am_by_name` of the Alertmanager alerts."""
    return by_name.match(p)


def am_by_name(am_alerts: Sequence[AmAlert]) -> AmIndex:
    return AmIndex(am_alerts)


def _am_word(am: AmAlert | None) -> str:
    if am is None:
        return "-"
    return am.state + (" (silenced)" if am.silenced_by else "")


def alert_targets(a: AlertsSnapshot) -> dict[str, str]:
    """Row key -> Alertmanager fingerprint (what ``alert.silence`` acts on)."""
    am_alerts = a.alertmanager.alerts if a.alertmanager is not None else ()
    out: dict[str, str] = {}
    matched: set[str] = set()
    by_name = am_by_name(am_alerts)
    for p in a.prometheus.alerts if a.prometheus is not None else ():
        am = am_match(p, by_name)
        if am is not None:
            out[_key(p)] = am.fingerprint
            matched.add(am.fingerprint)
    for am in am_alerts:
        if am.fingerprint not in matched:
            out[_am_key(am)] = am.fingerprint
    return out


def _am_only_rows(
    a: AlertsSnapshot, now: float, pal: Palette, seen: set[str]
) -> list[tuple[str, list[str | Text]]]:
    """Alerts Alertmanager holds that Prometheus does not report (posted by another
    source, or resolved in Prometheus but not yet in Alertmanager)."""
    rows: list[tuple[str, list[str | Text]]] = []
    am_alerts = a.alertmanager.alerts if a.alertmanager is not None else ()
    for am in sorted(am_alerts, key=lambda x: (x.name, x.fingerprint)):
        if am.fingerprint in seen:
            continue
        sev = SEVERITY_OF_LABEL.get((am.severity or "").lower(), Severity.WARN)
        labels = ",".join(
            f"{k}={v}" for k, v in sorted(am.labels.items()) if k not in ("alertname", "severity")
        )
        summary = am.annotations.get("summary") or am.annotations.get("description") or ""
        rows.append(
            (
                _am_key(am),
                [
                    sev_text(sev, pal, short=True),
                    Text(am.name, style="bold"),
                    "firing",
                    "-" if am.starts_at is None else age(now - am.starts_at),
                    ellipsize(labels, 40),
                    _am_word(am) + " · AM only",
                    ellipsize(summary, 80),
                ],
            )
        )
    return rows


#: An alert row's cells and what they were built from (:func:`alert_rows`' ``kept``).
KeptRow = tuple[tuple[object, ...], list[str | Text]]


#: The Prometheus alerts in display order, each with its Alertmanager copy, row key and
#: Alertmanager word: (Prometheus alerts, Alertmanager alerts, that list).
AlertPlan = tuple[object, object, list[tuple[PromAlert, AmAlert | None, str, str]]]


def _plan(
    prom: Sequence[PromAlert], am_alerts: Sequence[AmAlert], memo: list[AlertPlan] | None
) -> list[tuple[PromAlert, AmAlert | None, str, str]]:
    """The alerts' order and Alertmanager matches; kept in ``memo`` while both lists are
    the very objects of the last drawing (the alerts poll hands back the same objects
    while the servers answer the same: 300 alerts were sorted and matched again)."""
    if memo and memo[0][0] is prom and memo[0][1] is am_alerts:
        return memo[0][2]
    order = {"firing": 0, "pending": 1}
    by_name = am_by_name(am_alerts)
    alerts = sorted(
        prom,
        key=lambda x: (order.get(x.state, 2), x.severity != "critical", x.name),
    )
    plan = []
    for x in alerts:
        am = am_match(x, by_name)
        plan.append((x, am, _key(x), _am_word(am)))
    if memo is not None:
        memo[:] = [(prom, am_alerts, plan)]
    return plan


def alert_rows(
    a: AlertsSnapshot,
    now: float,
    pal: Palette,
    kept: dict[str, KeptRow] | None = None,
    memo: list[AlertPlan] | None = None,
) -> list[tuple[str, list[str | Text]]]:
    """One row per Prometheus alert (300 on the large setup), then Alertmanager's own.
    ``kept`` (the pane's, across polls): an alert whose row shows what it showed gets the
    same cells list back, which the table recognises without comparing its cells (the
    alerts poll gives the same alert objects while Prometheus answers the same); ``memo``
    (the pane's): the alerts' order and matches (:func:`_plan`)."""
    am_alerts = a.alertmanager.alerts if a.alertmanager is not None else ()
    if a.prometheus is None:
        return _am_only_rows(a, now, pal, set())
    seen: set[str] = set()
    rows: list[tuple[str, list[str | Text]]] = []
    plan = _plan(a.prometheus.alerts, am_alerts, memo)
    for x, am, key, am_word in plan:
        if am is not None:
            seen.add(am.fingerprint)
        since = "-" if x.active_at is None else age(now - x.active_at)
        made_of = (x, since, am_word, pal)
        if kept is not None:
            before = kept.get(key)
            if before is not None and before[0] == made_of:
                rows.append((key, before[1]))
                continue
        sev = SEVERITY_OF_LABEL.get((x.severity or "").lower(), Severity.WARN)
        sev_cell = sev_text(sev, pal, short=True)
        if x.state != "firing":  # not (yet) a problem: say so, in words
            sev_cell = Text(f"… {x.state}", style=pal.muted)
        labels = ",".join(
            f"{k}={v}" for k, v in sorted(x.labels.items()) if k not in ("alertname", "severity")
        )
        cells: list[str | Text] = [
            sev_cell,
            Text(x.name, style="bold"),
            x.state,
            since,
            ellipsize(labels, 40),
            am_word,
            ellipsize(x.summary, 80),
        ]
        if kept is not None:
            kept[key] = (made_of, cells)
        rows.append((key, cells))
    if kept is not None and len(kept) > 2 * len(plan):  # alerts long gone
        keep = {key for key, _ in rows}
        for gone in [k for k in kept if k not in keep]:
            del kept[gone]
    return rows + _am_only_rows(a, now, pal, seen)


def silence_rows(a: AlertsSnapshot) -> list[tuple[str, list[str | Text]]]:
    if a.alertmanager is None:
        return []
    return [
        (
            s.id,
            [
                s.id[:8],
                s.state,
                clock_time(s.ends_at),
                s.created_by,
                ellipsize(", ".join(m.expr() for m in s.matchers), 50),
                ellipsize(s.comment, 60),
            ],
        )
        for s in a.alertmanager.silences
        if s.state != "expired"
    ]


class AlertsPane(LayerPane):
    layer_key = "alerts"

    def __init__(self) -> None:
        super().__init__()
        self._kept: dict[str, KeptRow] = {}  # alert -> its row's cells (alert_rows)
        self._plan: list[AlertPlan] = []  # the alerts' order and matches (alert_rows)

    def selected_target(self, kind: str) -> str | None:
        """The highlighted alert's Alertmanager fingerprint, or the highlighted silence."""
        if kind == "silence":
            return self.query_one("#alerts-silences", KeyedTable).cursor_key()
        if kind != "alert" or self.update is None or self.update.snapshot.alerts is None:
            return None
        key = self.query_one("#alerts-table", KeyedTable).cursor_key()
        return alert_targets(self.update.snapshot.alerts).get(key or "")

    def compose_body(self) -> ComposeResult:
        yield Static(id="alerts-info", classes="info")
        yield KeyedTable(ALERTS, id="alerts-table")
        yield KeyedTable(SILENCES, id="alerts-silences")
        yield SparkPanel(id="alerts-sparks", classes="sparks")

    def render_update(self, update: EngineUpdate, ctx: RenderCtx) -> None:
        pal = ctx.palette
        a = update.snapshot.alerts
        info = self.query_one("#alerts-info", Static)
        if a is None:
            set_text(info, note("Prometheus/Alertmanager not polled", pal))
            return
        bits = []
        if a.prometheus is not None:
            err = a.prometheus.error
            bits.append(
                f"Prometheus {where(a.prometheus.endpoint)}"
                + (f": {err.sentence()}" if err else f" · {len(a.prometheus.alerts)} rules active")
            )
        if a.alertmanager is not None:
            bits.append(
                f"Alertmanager {where(a.alertmanager.endpoint)} · "
                f"{a.alertmanager.expired_silences} expired silences"
            )
        set_text(info, Text(" · ".join(bits), style=pal.muted))
        rows = alert_rows(a, ctx.now, pal, self._kept, self._plan)
        self.query_one("#alerts-table", KeyedTable).set_rows(rows)
        self.query_one("#alerts-silences", KeyedTable).set_rows(silence_rows(a))
        self.query_one("#alerts-sparks", SparkPanel).show(
            [Series("alerts firing", "alerts.firing")], update.history, pal
        )
