"""HAProxy runtime API (unix, TCP, remote unix over SSH), HTTP, tunnels (`via`) and the
factory, against the lab's real servers."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from jaraba_tui.profile import Profile, profile_from_mapping
from jaraba_tui.secrets import Secret
from jaraba_tui.transport._common import Timeouts, static_address
from jaraba_tui.transport.base import TransportError
from jaraba_tui.transport.factory import NotConfigured, Transports
from jaraba_tui.transport.haproxy import HAProxyRuntimeClient, check_command
from jaraba_tui.transport.http import HttpxClient
from jaraba_tui.transport.redis import AsyncRedisClient
from jaraba_tui.transport.sql import PyMySqlClient
from jaraba_tui.transport.ssh import SshPool, SshTarget
from tests.labutil import LAB_DIR, require_lab

pytestmark = pytest.mark.lab

ADMIN_SOCK = str(LAB_DIR / "haproxy" / "admin.sock")


def assert_show_info(answer: str) -> None:
    assert answer.startswith("Name: HAProxy")
    assert "\nVersion: " in answer


# -- HAProxy runtime API ---------------------------------------------------------------------
async def test_haproxy_show_info_over_unix(timeouts: Timeouts) -> None:
    require_lab(9999)
    assert_show_info(
        await HAProxyRuntimeClient.unix(ADMIN_SOCK, timeouts=timeouts).command("show info")
    )


async def test_haproxy_show_info_over_tcp(timeouts: Timeouts) -> None:
    require_lab(9999)
    rt = HAProxyRuntimeClient.tcp("tcp 9999", static_address("127.0.0.1", 9999), timeouts=timeouts)
    assert_show_info(await rt.command("show info"))
    stat = await rt.command("show stat")
    assert stat.startswith("# pxname,svname,")


async def test_haproxy_show_info_over_ssh(lab_target: SshTarget, timeouts: Timeouts) -> None:
    require_lab(9999)
    pool = SshPool({"lab": lab_target}, timeouts=timeouts)
    try:
        rt = HAProxyRuntimeClient.over_ssh(pool, "lab", ADMIN_SOCK, timeouts=timeouts)
        assert_show_info(await rt.command("show info"))
        assert_show_info(await rt.command("show info"))  # one stream per command, one SSH conn
        with pytest.raises(TransportError) as info:
            await HAProxyRuntimeClient.over_ssh(
                pool, "lab", "/nonexistent/admin.sock", timeouts=timeouts
            ).command("show info")
        assert info.value.kind == "refused"
    finally:
        await pool.close()


async def test_haproxy_hostile_commands_are_refused(timeouts: Timeouts) -> None:
    rt = HAProxyRuntimeClient.unix(ADMIN_SOCK, timeouts=timeouts)
    for line in ("show info; disable server bk_app_blue/app1", "show info\ndisable frontend x", ""):
        with pytest.raises(ValueError):
            await rt.command(line)
    assert check_command("  show stat  ") == "show stat"


async def test_haproxy_missing_socket_and_tarpit(tarpit: int) -> None:
    short = Timeouts(connect=1.0, read=1.0)
    with pytest.raises(TransportError) as info:
        await HAProxyRuntimeClient.unix("/nonexistent/admin.sock", timeouts=short).command(
            "show info"
        )
    assert info.value.kind == "refused"
    rt = HAProxyRuntimeClient.tcp("tarpit", static_address("127.0.0.1", tarpit), timeouts=short)
    start = time.monotonic()
    with pytest.raises(TransportError) as info:
        await rt.command("show info")
    assert info.value.kind == "timeout"
    assert time.monotonic() - start < short.connect + short.read + 1.0


# -- HTTP ----------------------------------------------------------------------------------------
async def test_prometheus_query(timeouts: Timeouts) -> None:
    require_lab(9090)
    http = HttpxClient("prometheus", "http://127.0.0.1:9090", timeouts=timeouts)
    try:
        response = await http.get("/api/v1/query", params={"query": "up"})
        assert response.status == 200
        assert response.json()["status"] == "success"
    finally:
        await http.close()


async def test_haproxy_stats_basic_auth(
    monkeypatch: pytest.MonkeyPatch, timeouts: Timeouts
) -> None:
    require_lab(8404)
    monkeypatch.setenv("JARABA_TEST_STATS_PW", "admin_dev")
    url = "http://127.0.0.1:8404/stats"
    authed = HttpxClient(
        "stats", url, timeouts=timeouts, user="admin", password=Secret(env="JARABA_TEST_STATS_PW")
    )
    anonymous = HttpxClient("stats", url, timeouts=timeouts)
    try:
        csv = await authed.get(";csv")
        assert csv.status == 200 and csv.text.startswith("# pxname,svname,")
        assert (await anonymous.get(";csv")).status == 401
    finally:
        await authed.close()
        await anonymous.close()


async def test_alertmanager_post_and_delete(timeouts: Timeouts) -> None:
    require_lab(9093)
    http = HttpxClient("alertmanager", "http://127.0.0.1:9093", timeouts=timeouts)
    now = datetime.now(UTC)
    silence = {
        "matchers": [
            {"name": "alertname", "value": f"jaraba-ops-test-{uuid.uuid4().hex}", "isRegex": False}
        ],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=1)).isoformat(),
        "createdBy": "jaraba-ops tests",
        "comment": "transport test (matches nothing)",
    }
    try:
        created = await http.post("/api/v2/silences", silence)
        assert created.status == 200, created.text
        silence_id = json.loads(created.text)["silenceID"]
        assert (await http.delete(f"/api/v2/silence/{silence_id}")).status == 200
    finally:
        await http.close()


async def test_http_refused_and_tarpit(closed_port: int, tarpit: int) -> None:
    short = Timeouts(connect=1.0, read=1.0)
    refused = HttpxClient("x", f"http://127.0.0.1:{closed_port}", timeouts=short)
    with pytest.raises(TransportError) as info:
        await refused.get("/")
    assert info.value.kind == "refused"
    hung = HttpxClient("tarpit", f"http://127.0.0.1:{tarpit}", timeouts=short)
    start = time.monotonic()
    with pytest.raises(TransportError) as info:
        await hung.get("/")
    assert info.value.kind == "timeout"
    assert time.monotonic() - start < short.connect + short.read + 1.0
    await refused.close()
    await hung.close()


# -- tunnels (`via`) ----------------------------------------------------------------------------
async def test_tunnels_through_the_lab_ssh_host(
    monkeypatch: pytest.MonkeyPatch, lab_target: SshTarget, timeouts: Timeouts
) -> None:
    require_lab(6379, 3307, 9090)
    monkeypatch.setenv("JARABA_TEST_TUNNEL_REDIS_PW", "redis_dev")
    monkeypatch.setenv("JARABA_TEST_TUNNEL_SQL_PW", "jaraba_root_dev")
    pool = SshPool({"lab": lab_target}, timeouts=timeouts)
    redis = AsyncRedisClient(
        "redis via lab",
        pool.address_via("lab", "127.0.0.1", 6379),
        password=Secret(env="JARABA_TEST_TUNNEL_REDIS_PW"),
        timeouts=timeouts,
    )
    sql = PyMySqlClient(
        "galera via lab",
        pool.address_via("lab", "127.0.0.1", 3307),
        user="root",
        password=Secret(env="JARABA_TEST_TUNNEL_SQL_PW"),
        timeouts=timeouts,
    )
    http = HttpxClient(
        "prometheus via lab",
        "http://127.0.0.1:9090",
        timeouts=timeouts,
        tunnel=pool.address_via("lab", "127.0.0.1", 9090),
    )
    try:
        assert await redis.command("PING") is True
        port = await pool.forward("lab", "127.0.0.1", 6379)
        assert port != 6379 and await pool.forward("lab", "127.0.0.1", 6379) == port  # reused
        rows = await sql.query("SELECT @@port AS port")
        assert int(rows[0]["port"]) == 3307
        assert (await http.get("/-/ready")).status == 200
        # The SSH connection drops: the next call re-opens it and the tunnel.
        conn = await pool.connect("lab")
        conn.close()
        await conn.wait_closed()
        assert await redis.command("PING") is True
    finally:
        await redis.close()
        await sql.close()
        await http.close()
        await pool.close()


# -- the factory -----------------------------------------------------------------------------------
async def test_factory_on_the_local_profile(lab_profile: Profile) -> None:
    require_lab(3308, 6379, 26379, 2222, 9090, 9093)
    async with Transports(lab_profile) as t:
        rows = await t.galera("node2").query("SELECT @@port AS port")
        assert int(rows[0]["port"]) == 3308
        assert t.galera("node2") is t.galera("node2")
        assert await t.redis("redis1").command("PING") is True
        assert await t.sentinel("sentinel1").command("PING") is True
        assert_show_info(await t.haproxy_runtime().command("show info"))
        assert (await t.haproxy_stats().get(";csv")).status == 200
        assert (await t.prometheus().get("/-/ready")).status == 200
        assert (await t.alertmanager().get("/-/ready")).status == 200
        shell = t.galera_shell("node1")
        assert shell is not None
        assert "safe_to_bootstrap" in await shell.read_file(
            str(LAB_DIR / "galera" / "node1" / "data" / "grastate.dat")
        )
        assert (await t.shell(None).run(["echo", "local"])).stdout == "local\n"
        with pytest.raises(NotConfigured):
            t.galera("node9")
        with pytest.raises(NotConfigured):
            t.grafana()


async def test_factory_tunnels_what_says_via(monkeypatch: pytest.MonkeyPatch) -> None:
    require_lab(2222, 6380, 26380)
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    data = {
        "name": "tunnelled",
        "environment": "lab",
        "ssh": {
            "hosts": {
                "lab": {
                    "host": "127.0.0.1",
                    "port": 2222,
                    "user": "root",
                    "key_file": str(LAB_DIR / "ssh" / "id_ed25519"),
                    "known_hosts": str(LAB_DIR / "ssh" / "known_hosts"),
                    "use_agent": False,
                }
            }
        },
        "redis": {
            "instances": [
                {
                    "name": "r2",
                    "host": "127.0.0.1",
                    "port": 6380,
                    "via": "lab",
                    "password": {"env": "REDIS_PASSWORD", "default_for_lab": "redis_dev"},
                }
            ]
        },
        "sentinel": {
            "instances": [{"name": "s2", "host": "127.0.0.1", "port": 26380, "via": "lab"}]
        },
        "haproxy": {"runtime": {"unix": ADMIN_SOCK, "ssh": "lab"}},
    }
    profile = profile_from_mapping(data)
    async with Transports(profile) as t:
        assert await t.redis("r2").command("PING") is True
        assert "via lab" in t.redis("r2").endpoint
        assert await t.sentinel("s2").command("PING") is True
        assert_show_info(await t.haproxy_runtime().command("show info"))
        assert len(t.ssh._forwards) == 2 and list(t.ssh._conns) == ["lab"]
