"""`jaraba-ops verify` against the lab's real servers: healthy, then each post-deployment
fault injected with the lab's own helpers, seen failing with the right evidence, undone.

Other engineers inject faults into the same lab: every test waits for the state it needs
(bounded polling) instead of assuming it, and restores the lab in its teardown.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pymysql
import pytest
import redis

from jaraba_tui.profile import load_profile
from jaraba_tui.transport.factory import Transports
from jaraba_tui.verify import ItemResult, Status
from jaraba_tui.verify.context import Context
from jaraba_tui.verify.items import item
from jaraba_tui.verify.runner import run_item
from tests.labutil import LAB_DIR, REPO, port_open, require_lab

pytestmark = [pytest.mark.lab, pytest.mark.slow]

LABCTL = [sys.executable, str(REPO / "lab" / "labctl.py")]
LAB_PORTS = (3307, 3308, 3309, 6032, 8404, 6379, 6380, 6381, 26379, 26380, 26381, 9090, 2222)
POST = (
    "galera-cluster",
    "proxysql-backends",
    "haproxy-backends",
    "sentinel-master",
    "prometheus-targets",
    "bluegreen-switch",
)
#: What cannot apply to the lab, each with its reason in the output.
LAB_SKIPPED = {
    "no-dev-secrets",
    "dns-records",
    "firewall-closed-ports",
    "innodb-buffer-pool",
    "redis-maxmemory",
    "grafana-dashboard",
}
DEV_VALUES = ("jaraba_root_dev", "admin_dev", "redis_dev", "drupal_dev", "monitor_dev", "repl_dev")
DEV_ENV = {
    "MYSQL_ROOT_PASSWORD": "jaraba_root_dev",
    "PROXYSQL_ADMIN_PASSWORD": "admin_dev",
    "HAPROXY_STATS_USER": "admin",
    "HAPROXY_STATS_PASSWORD": "admin_dev",
    "REDIS_PASSWORD": "redis_dev",
}


def lab(*args: str, timeout: float = 300) -> None:
    out = subprocess.run([*LABCTL, *args], capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout + out.stderr


def verify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jaraba_tui.verify", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )


def verify_until_ok(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A whole run that passes: other engineers' faults come and go, so retry (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        out = verify(*args)
        if out.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


async def _one(item_id: str) -> ItemResult:
    profile = load_profile("local")
    async with Transports(profile) as tr:
        return await run_item(Context(profile, tr), item(item_id))


def check(item_id: str) -> ItemResult:
    return asyncio.run(_one(item_id))


def text_of(r: ItemResult) -> str:
    return "\n".join([r.summary, *r.evidence])


def wait_item(
    item_id: str,
    status: Status,
    timeout: float,
    pred: Callable[[ItemResult], bool] = lambda r: True,
) -> ItemResult:
    deadline = time.monotonic() + timeout
    last: ItemResult | None = None
    while time.monotonic() < deadline:
        last = check(item_id)
        if last.status is status and pred(last):
            return last
        time.sleep(1)
    shown = text_of(last) if last else "no result"
    raise AssertionError(f"{item_id} not {status.value} within {timeout}s; last:\n{shown}")


def wait_healthy(timeout: float = 90) -> None:
    for item_id in POST:
        wait_item(item_id, Status.PASSED, timeout)


def lab_ports_open(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(port_open(p) for p in LAB_PORTS):
            return True
        time.sleep(1)
    return False


@pytest.fixture
def healthy_lab() -> Iterator[None]:
    """The lab up and healthy: wait for another engineer's fault to be undone; if it is
    not within the bound but the lab runs (its sshd answers), restore it; else skip (or
    fail under `make test`)."""
    if not lab_ports_open(30) and port_open(2222):
        lab("up")
    require_lab(*LAB_PORTS)
    try:
        wait_healthy(30)
    except AssertionError:
        lab("up")
        wait_healthy(120)
    yield
    lab("up")


def test_healthy_lab_passes_and_says_why_items_are_skipped(healthy_lab: None) -> None:
    out = verify_until_ok("--profile", "local", "--json")
    doc = json.loads(out.stdout)
    jsonschema = pytest.importorskip("jsonschema")
    from jaraba_tui.verify.schema import VERIFY_SCHEMA

    jsonschema.validate(doc, VERIFY_SCHEMA)
    assert doc["verify_version"] == 1 and doc["ok"] is True and doc["which"] == "all"
    status = {i["id"]: i["status"] for i in doc["items"]}
    assert {k for k, v in status.items() if v == "skipped"} == LAB_SKIPPED, status
    assert {k for k, v in status.items() if v == "passed"} == set(status) - LAB_SKIPPED
    by_id = {i["id"]: i for i in doc["items"]}
    assert "dev credentials are expected in a lab" in by_id["no-dev-secrets"]["summary"]
    assert "loopback by design" in by_id["firewall-closed-ports"]["summary"]
    assert "IP address" in by_id["dns-records"]["summary"]
    assert by_id["grafana-dashboard"]["summary"] == "no grafana_url in the profile"
    assert doc["summary"]["text"] == "9 passed, 0 failed, 6 skipped"
    # The certificate was read over SSH and parsed here; the smoke went through the tunnel.
    tls = "\n".join(by_id["tls-certificate"]["evidence"])
    assert "jaraba.io: covered by DNS:jaraba.io" in tls and "BEGIN" not in tls
    switch = "\n".join(by_id["bluegreen-switch"]["evidence"])
    assert "✓ smoke requests: from lab:" in switch and switch.count("-> HTTP 200") == 3
    assert "plan: switch live traffic from" in switch
    repl = "\n".join(by_id["replication-user"]["evidence"])
    assert "REPLICATION CLIENT (as BINLOG MONITOR)" in repl and "PASSWORD" not in repl
    text = verify_until_ok("--profile", "local")
    assert "✓ PASSED" in text.stdout and "– SKIPPED" in text.stdout
    assert text.stdout.rstrip().endswith("9 passed, 0 failed, 6 skipped")
    for value in DEV_VALUES:
        assert value not in out.stdout + out.stderr + text.stdout + text.stderr


def test_galera_node_stopped_fails_the_cluster_item(healthy_lab: None) -> None:
    lab("fault", "galera-stop", "3")
    try:
        res = wait_item(
            "galera-cluster",
            Status.FAILED,
            30,
            lambda r: (
                "node3: could not ask" in text_of(r)
                and "wsrep_cluster_size 2 (expected 3)" in r.summary
            ),
        )
        assert "node3 unreachable" in res.summary
    finally:
        lab("up", "--only", "galera")
    wait_item("galera-cluster", Status.PASSED, 120)


def test_proxysql_backend_out_of_service(healthy_lab: None) -> None:
    conn = pymysql.connect(
        host="127.0.0.1", port=3309, user="root", password="jaraba_root_dev", autocommit=True
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SET GLOBAL wsrep_reject_queries = ALL")
        res = wait_item(
            "proxysql-backends",
            Status.FAILED,
            45,
            lambda r: "127.0.0.1:3309 in offline hostgroup 9999" in r.summary,
        )
        assert any(e.startswith("127.0.0.1:3309: ONLINE in 9999 (offline)") for e in res.evidence)
    finally:
        with conn.cursor() as cur:
            cur.execute("SET GLOBAL wsrep_reject_queries = NONE")
        conn.close()
    wait_item("proxysql-backends", Status.PASSED, 60)


def live_colour() -> str:
    text = (LAB_DIR / "haproxy" / "maps" / "bluegreen.map").read_text()
    found = re.search(r"^live\s+(\w+)", text, re.M)
    assert found, text
    return found[1]


def test_app_server_stopped_fails_haproxy_and_the_switch_preflight(healthy_lab: None) -> None:
    idle = {"blue": "green", "green": "blue"}[live_colour()]
    lab("fault", "app-stop", f"{idle}2")
    try:
        hp = wait_item(
            "haproxy-backends",
            Status.FAILED,
            30,
            lambda r: f"bk_app_{idle}/app2 DOWN" in r.summary,
        )
        assert any(f"bk_app_{idle}: DOWN" not in e for e in hp.evidence)
        bg = wait_item(
            "bluegreen-switch",
            Status.FAILED,
            30,
            lambda r: f"every {idle} server UP" in r.summary and "smoke requests" in r.summary,
        )
        assert f"a switch to {idle} would be refused" in bg.summary
        lines = "\n".join(bg.evidence)
        assert f"✗ every {idle} server UP: bk_app_{idle}: app2 DOWN" in lines, lines
        smoke = next(e for e in bg.evidence if e.startswith("✗ smoke requests:"))
        assert f"app2 http://127.0.0.1:{8102 if idle == 'blue' else 8202}/health" in smoke
        assert "nothing was changed" in lines
    finally:
        lab("up", "--only", "apps")
    wait_item("haproxy-backends", Status.PASSED, 60)
    wait_item("bluegreen-switch", Status.PASSED, 60)


def test_sentinels_down_fail_the_sentinel_item(healthy_lab: None) -> None:
    lab("stop", "sentinel")
    try:
        res = wait_item(
            "sentinel-master", Status.FAILED, 30, lambda r: "sentinel1 unreachable" in r.summary
        )
        assert re.search(r"sentinel1: could not ask \(.*refused", text_of(res)), text_of(res)
    finally:
        lab("start", "sentinel")
    wait_item("sentinel-master", Status.PASSED, 90)


def test_sentinel_that_cannot_reach_its_quorum(healthy_lab: None) -> None:
    s1 = redis.Redis(host="127.0.0.1", port=26379, socket_timeout=5, decode_responses=True)
    try:
        s1.execute_command("SENTINEL", "SET", "jaraba-master", "quorum", "4")  # type: ignore[no-untyped-call]
        res = wait_item(
            "sentinel-master",
            Status.FAILED,
            30,
            lambda r: "sentinel1: quorum not reachable" in r.summary,
        )
        assert "CKQUORUM FAILED:" in text_of(res) and "NOQUORUM" in text_of(res)
        assert "sentinel2: quorum not reachable" not in res.summary
    finally:
        s1.execute_command("SENTINEL", "SET", "jaraba-master", "quorum", "2")  # type: ignore[no-untyped-call]
        s1.close()
    wait_item("sentinel-master", Status.PASSED, 30)


def test_exporters_stopped_fail_the_prometheus_item(healthy_lab: None) -> None:
    lab("stop", "exporters")
    try:
        res = wait_item(
            "prometheus-targets",
            Status.FAILED,
            60,
            lambda r: (
                "galera 127.0.0.1:9104: down" in text_of(r)
                and "redis redis://127.0.0.1:6379: down" in text_of(r)
            ),
        )
        assert "targets not up" in res.summary
        assert any(e.startswith("galera 127.0.0.1:9104: down") for e in res.evidence)
    finally:
        lab("up", "--only", "exporters")
    wait_item("prometheus-targets", Status.PASSED, 60)


def production_copy(tmp_path: Path) -> Path:
    """profiles/local.toml marked production: no lab defaults (the env vars give the values,
    here the seed's dev ones) and no [checklist.skip] (a production stack must pass all)."""
    text = (REPO / "profiles" / "local.toml").read_text()
    text = re.sub(r'^environment = "lab"', 'environment = "production"', text, count=1, flags=re.M)
    text = re.sub(r',\s*default_for_lab\s*=\s*"[^"]*"', "", text)
    text = text.split("[checklist.skip]")[0]
    assert 'environment = "production"' in text
    path = tmp_path / "local-production.toml"
    path.write_text(text)
    return path


def test_production_copy_fails_on_dev_secrets_without_printing_them(
    tmp_path: Path, healthy_lab: None
) -> None:
    path = production_copy(tmp_path)
    out = verify("--profile", str(path), "--pre", "--json", env=DEV_ENV)
    text = verify("--profile", str(path), "--pre", env=DEV_ENV)
    assert out.returncode == 1 and text.returncode == 1, out.stderr + text.stderr
    doc = json.loads(out.stdout)
    assert doc["environment"] == "production" and doc["which"] == "pre"
    by_id = {i["id"]: i for i in doc["items"]}
    secrets = by_id["no-dev-secrets"]
    assert secrets["status"] == "failed" and secrets["critical"] is True
    assert "8 of 8 secrets hold a seed development default" in secrets["summary"]
    assert any("env:MYSQL_ROOT_PASSWORD" in e and "holds one of" in e for e in secrets["evidence"])
    assert "✗ FAILED (critical)" in text.stdout
    # Without the lab's skips the firewall and sizing items fail, with their evidence.
    fw = by_id["firewall-closed-ports"]
    assert (
        fw["status"] == "failed"
        and "127.0.0.1:3307 answered (open from this host)" in fw["evidence"]
    )
    pool = by_id["innodb-buffer-pool"]
    assert pool["status"] == "failed"
    assert re.search(
        r"node1\+node2\+node3 on lab: buffer pools \S+ MiB = [\d.]+ % of",
        "\n".join(pool["evidence"]),
    )
    everything = out.stdout + out.stderr + text.stdout + text.stderr
    for value in DEV_VALUES:
        assert value not in everything, value
