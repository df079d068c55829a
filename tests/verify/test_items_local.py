"""Items whose inputs this machine can provide without the lab: secrets, DNS, ports, and
Grafana (a stub HTTP server standing in for Grafana's two API calls)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from jaraba_tui.profile import Profile, profile_from_mapping
from jaraba_tui.transport.factory import Transports
from jaraba_tui.verify import Status, items_post, items_pre
from jaraba_tui.verify.context import Context
from jaraba_tui.verify.items import item
from jaraba_tui.verify.model import Checklist, ItemResult, Outcome
from jaraba_tui.verify.render import render_text, to_json
from jaraba_tui.verify.runner import run_item

FAST = {"connect_timeout": 1.0, "read_timeout": 1.0, "command_timeout": 1.0}
DEV = {
    "MYSQL_ROOT_PASSWORD": "jaraba_root_dev",
    "PROXYSQL_ADMIN_PASSWORD": "admin_dev",
    "REDIS_PASSWORD": "redis_dev",
}


def make(**extra: Any) -> Profile:
    data: dict[str, Any] = {"name": "t", "environment": "lab", "poll": FAST}
    data.update(extra)
    return profile_from_mapping(data)


async def run(p: Profile, fn: Any) -> Outcome:
    async with Transports(p) as tr:
        out: Outcome = await fn(Context(p, tr))
        return out


def production_with_secrets() -> Profile:
    return make(
        environment="production",
        galera={
            "nodes": [
                {"name": "n1", "host": "127.0.0.1", "password": {"env": "MYSQL_ROOT_PASSWORD"}}
            ]
        },
        proxysql={"host": "127.0.0.1", "password": {"env": "PROXYSQL_ADMIN_PASSWORD"}},
        redis={
            "instances": [
                {"name": "r1", "host": "127.0.0.1", "password": {"env": "REDIS_PASSWORD"}}
            ]
        },
    )


async def test_dev_default_secrets_fail_critically_without_printing_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for k, v in DEV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("REDIS_PASSWORD", "a-real-one-9f8e7d")
    p = production_with_secrets()
    async with Transports(p) as tr:
        res = await run_item(Context(p, tr), item("no-dev-secrets"))
    assert res.status is Status.FAILED and res.critical and res.mark == "✗ FAILED (critical)"
    assert "2 of 3 secrets hold a seed development default: galera" in res.summary
    ev = "\n".join(res.evidence)
    assert "galera.nodes[0].password (env:MYSQL_ROOT_PASSWORD): holds one of" in ev
    assert "redis.instances[0].password (env:REDIS_PASSWORD): not a development default" in ev
    out = render_text(Checklist("t", "production", "pre", 0, 1, (res,))) + to_json(
        Checklist("t", "production", "pre", 0, 1, (res,))
    )
    for value in [*DEV.values(), "a-real-one-9f8e7d"]:
        assert value not in out


async def test_real_secrets_pass_and_a_lab_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in DEV:
        monkeypatch.setenv(k, f"{k.lower()}-from-vault-3c2b1a")
    out = await run(production_with_secrets(), items_pre.no_dev_secrets)
    assert out.status is Status.PASSED and "none of the 3 secrets" in out.summary
    lab = await run(make(), items_pre.no_dev_secrets)
    assert lab.status is Status.SKIPPED and "dev credentials are expected in a lab" in lab.summary


async def test_dns_names_resolve_or_not() -> None:
    ok = await run(make(checklist={"dns_names": ["localhost"]}), items_pre.dns_records)
    assert ok.status is Status.PASSED and ok.evidence[0].startswith("localhost -> ")
    bad = await run(
        make(checklist={"dns_names": ["localhost", "no-such-host.invalid"]}),
        items_pre.dns_records,
    )
    assert bad.status is Status.FAILED
    assert "1 of 2 names do not resolve: no-such-host.invalid" in bad.summary


async def test_dns_defaults_to_the_profile_names_and_skips_ip_only_profiles() -> None:
    p = make(
        ssh={"hosts": {"db1": {"host": "node1.db.example"}}},
        galera={"nodes": [{"name": "n1", "host": "node1.db.example", "via": "db1"}]},
        prometheus={"url": "http://prometheus.example:9090"},
    )
    async with Transports(p) as tr:
        assert items_pre.profile_dns_names(Context(p, tr)) == [
            "node1.db.example",
            "prometheus.example",
        ]
    ips = make(galera={"nodes": [{"name": "n1", "host": "127.0.0.1"}]})
    out = await run(ips, items_pre.dns_records)
    assert out.status is Status.SKIPPED and "IP address" in out.summary


@pytest.fixture
def listening_port() -> Iterator[int]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    yield srv.getsockname()[1]
    srv.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_firewall_open_port_fails_closed_port_passes(listening_port: int) -> None:
    closed = free_port()
    ok = make(checklist={"closed_ports": [{"host": "127.0.0.1", "ports": [closed]}]})
    out = await run(ok, items_pre.firewall_closed_ports)
    assert out.status is Status.PASSED and out.evidence == (f"127.0.0.1:{closed} refused (closed)",)
    bad = make(
        checklist={"closed_ports": [{"host": "127.0.0.1", "ports": [closed, listening_port]}]}
    )
    out = await run(bad, items_pre.firewall_closed_ports)
    assert out.status is Status.FAILED
    assert f"127.0.0.1:{listening_port} answered (open from this host)" in out.evidence
    assert (await run(make(), items_pre.firewall_closed_ports)).status is Status.SKIPPED


class _Grafana(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        routes = {
            "/api/health": (200, {"database": "ok", "version": "10.4.0"}),
            "/api/dashboards/uid/jaraba-ha": (200, {"dashboard": {"title": "Jaraba HA stack"}}),
            "/api/dashboards/uid/private": (401, {"message": "Unauthorized"}),
        }
        code, body = routes.get(self.path, (404, {"message": "Dashboard not found"}))
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def grafana_url() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Grafana)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


async def test_grafana_dashboard(grafana_url: str) -> None:
    def with_uid(uid: str | None) -> Profile:
        settings = {"grafana_dashboard_uid": uid} if uid else {}
        return make(grafana_url=grafana_url, checklist=settings)

    out = await run(with_uid("jaraba-ha"), items_post.grafana_dashboard)
    assert out.status is Status.PASSED and "'Jaraba HA stack'" in out.evidence[-1]
    out = await run(with_uid(None), items_post.grafana_dashboard)
    assert out.status is Status.PASSED and "database is ok" in out.summary
    out = await run(with_uid("private"), items_post.grafana_dashboard)
    assert out.status is Status.FAILED and "wants credentials" in out.summary
    out = await run(with_uid("gone"), items_post.grafana_dashboard)
    assert out.status is Status.FAILED and "HTTP 404" in out.summary
    out = await run(make(), items_post.grafana_dashboard)
    assert out.status is Status.SKIPPED and out.summary == "no grafana_url in the profile"


async def test_grafana_unreachable_fails() -> None:
    out = await run(
        make(grafana_url=f"http://127.0.0.1:{free_port()}"), items_post.grafana_dashboard
    )
    assert out.status is Status.FAILED and "did not answer" in out.summary


def test_item_result_scrubs_revealed_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from jaraba_tui.secrets import register_secret_value
    from jaraba_tui.verify.model import failed

    register_secret_value("s3cr3t-value-77")
    res = ItemResult.of(
        item("tls-certificate"), failed("x s3cr3t-value-77", ["y s3cr3t-value-77"]), 1
    )
    assert "s3cr3t" not in res.summary + "".join(res.evidence)
