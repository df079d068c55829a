"""Garbage from servers -> findings, never a crash, within the timeouts.

Real hostile servers on loopback (tests/hostile/garbage_servers.py): HAProxy's stats page
returns a truncated CSV with unknown columns; "Prometheus" answers HTML; "Alertmanager"
answers JSON of the wrong shape and a 6 MB silences list; a RESP server speaks the Redis
protocol but its INFO has no role, its SENTINEL replies miss fields, have the wrong types,
and SENTINEL SENTINELS is 60 000 items. Galera's unknown wsrep state is checked at the
parser + rule level on a real captured status.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jaraba_tui.collectors import galera
from jaraba_tui.collectors.sentinel import SentinelTarget, collect_sentinel
from jaraba_tui.model.health.galera import galera_findings
from jaraba_tui.model.thresholds import Thresholds
from tests.collectors.captured import load
from tests.hostile.conftest import CliDriver, cli_env
from tests.hostile.garbage_servers import GarbageServers
from tests.model.snapshots import galera_snap


@pytest.fixture(scope="module")
def servers() -> Iterator[GarbageServers]:
    g = GarbageServers()
    try:
        yield g
    finally:
        g.close()


def garbage_profile(tmp: Path, g: GarbageServers) -> Path:
    path = tmp / "garbage.toml"
    path.write_text(
        f"""name = "garbage"
environment = "staging"
[haproxy]
stats_url = "http://127.0.0.1:{g.http_port}/stats"
[[redis.instances]]
name = "redis1"
host = "127.0.0.1"
port = {g.resp_port}
[sentinel]
master_name = "jaraba-master"
[[sentinel.instances]]
name = "sentinel1"
host = "127.0.0.1"
port = {g.resp_port}
[prometheus]
url = "http://127.0.0.1:{g.http_port}"
[alertmanager]
url = "http://127.0.0.1:{g.http_port}"
[poll]
connect_timeout = 2.0
read_timeout = 3.0
"""
    )
    return path


EXPECTED = {
    # (component, target, code): a fragment of the message saying what was wrong
    ("haproxy", "haproxy", "haproxy.parse"): "truncated output",
    ("redis", "redis1", "redis.down"): "neither role nor redis_version",
    ("alerts", "prometheus", "alerts.prometheus"): "not JSON",
    ("alerts", "alertmanager", "alerts.alertmanager"): "not a JSON list",
    ("redis", "sentinel1", "redis.sentinel_query"): "odd number of items",
    ("redis", "jaraba-master", "redis.quorum"): "CKQUORUM: unexpected reply",
}


def test_status_json_turns_garbage_into_findings(
    tmp_path: Path, servers: GarbageServers, cli_driver: CliDriver
) -> None:
    path = garbage_profile(tmp_path, servers)
    t0 = time.monotonic()
    run = cli_driver.run(
        ["--profile", str(path), "status", "--json"], env=cli_env(), cwd=tmp_path, timeout=90
    )
    elapsed = time.monotonic() - t0
    assert not run.timed_out and run.rc == 0, run.stderr[-2000:]
    assert "Traceback" not in run.output
    doc = json.loads(run.stdout)
    findings = doc["findings"]
    messages = {}
    for f in findings:
        messages.setdefault((f["component"], f["target"], f["code"]), []).append(f["message"])
    for key, fragment in EXPECTED.items():
        assert key in messages, f"no finding {key}: {json.dumps(findings, indent=1)[:3000]}"
        assert any(fragment in m for m in messages[key]), (key, messages[key])
    sentinel_msgs = " ".join(messages[("redis", "sentinel1", "redis.sentinel_query")])
    for fragment in ("sentinel reply of type int", "GET-MASTER-ADDR-BY-NAME: unexpected reply"):
        assert fragment in sentinel_msgs
    assert all(f["severity"] != "OK" for f in findings)
    # bounded: one poll against these servers, never a hang (generous: shared 2-core machine)
    assert elapsed < 60


def test_check_reports_unknown_or_critical(
    tmp_path: Path, servers: GarbageServers, cli_driver: CliDriver
) -> None:
    path = garbage_profile(tmp_path, servers)
    run = cli_driver.run(["--profile", str(path), "check"], env=cli_env(), cwd=tmp_path, timeout=90)
    assert run.rc in (2, 3), run
    assert "Traceback" not in run.output and run.stdout.strip()


async def test_sentinel_collector_directly(servers: GarbageServers) -> None:
    from jaraba_tui.transport._common import Timeouts, static_address
    from jaraba_tui.transport.redis import AsyncRedisClient

    client = AsyncRedisClient(
        "sentinel1 garbage",
        static_address("127.0.0.1", servers.resp_port),
        password=None,
        timeouts=Timeouts(connect=2.0, read=3.0),
    )
    try:
        t0 = time.monotonic()
        snap = await asyncio.wait_for(
            collect_sentinel(SentinelTarget("sentinel1", client), "jaraba-master"), 30
        )
        assert time.monotonic() - t0 < 30
    finally:
        await client.close()
    text = json.dumps(snap.to_dict())
    assert "odd number of items" in text and "sentinel reply of type int" in text


async def test_unknown_wsrep_state_is_a_finding() -> None:
    rows = load("healthy", "galera_node1_wsrep_status.json")
    for row in rows:
        if row["Variable_name"] == "wsrep_local_state_comment":
            row["Value"] = "Exploding \x1b[31m"
    ws = galera.parse_wsrep_status(rows)
    snap = await galera_snap("healthy")
    nodes = (dataclasses.replace(snap.nodes[0], wsrep=ws), *snap.nodes[1:])
    found = galera_findings(dataclasses.replace(snap, nodes=nodes), Thresholds())
    unknown = [f for f in found if f.code == "galera.state"]
    assert unknown and "unknown state" in unknown[0].message, found
    assert unknown[0].severity.name == "UNKNOWN"
