"""Alerts: what Prometheus fires and has pending, Alertmanager's view, active silences."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from jaraba_tui.collectors.alerts import AlertsSnapshot, PromAlert
from jaraba_tui.engine import EngineUpdate
from jaraba_tui.model.findings import Severity
from jaraba_tui.model.health.alerts import SEVERITY_OF_LABEL
from jaraba_tui.ui.format import Palette, age, clock_time, ellipsize, sev_text, where
from jaraba_tui.ui.widgets.layers import note
from jaraba_tui.ui.widgets.pane import LayerPane, RenderCtx
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


def alert_rows(a: AlertsSnapshot, now: float, pal: Palette) -> list[tuple[str, list[str | Text]]]:
    if a.prometheus is None:
        return []
    am_state = {}
    if a.alertmanager is not None:
        for am in a.alertmanager.alerts:
            am_state[am.name] = am.state + (" (silenced)" if am.silenced_by else "")
    rows: list[tuple[str, list[str | Text]]] = []
    order = {"firing": 0, "pending": 1}
    alerts = sorted(
        a.prometheus.alerts,
        key=lambda x: (order.get(x.state, 2), x.severity != "critical", x.name),
    )
    for x in alerts:
        sev = SEVERITY_OF_LABEL.get((x.severity or "").lower(), Severity.WARN)
        sev_cell = sev_text(sev, pal, short=True)
        if x.state != "firing":  # not (yet) a problem: say so, in words
            sev_cell = Text(f"… {x.state}", style=pal.muted)
        labels = ",".join(
            f"{k}={v}" for k, v in sorted(x.labels.items()) if k not in ("alertname", "severity")
        )
        rows.append(
            (
                _key(x),
                [
                    sev_cell,
                    Text(x.name, style="bold"),
                    x.state,
                    "-" if x.active_at is None else age(now - x.active_at),
                    ellipsize(labels, 40),
                    am_state.get(x.name, "-"),
                    ellipsize(x.summary, 80),
                ],
            )
        )
    return rows


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
            info.update(note("Prometheus/Alertmanager not polled", pal))
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
        info.update(Text(" · ".join(bits), style=pal.muted))
        self.query_one("#alerts-table", KeyedTable).set_rows(alert_rows(a, ctx.now, pal))
        self.query_one("#alerts-silences", KeyedTable).set_rows(silence_rows(a))
        self.query_one("#alerts-sparks", SparkPanel).show(
            [Series("alerts firing", "alerts.firing")], update.history, pal
        )
