"""`jaraba-ops status` / `check` against the lab's real servers: healthy, then each fault.

Each fault is injected with the lab's own helpers, observed through the CLI as a user
would run it, and undone; the test then waits for the finding to clear.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.labutil import REPO, require_lab

pytestmark = [pytest.mark.lab, pytest.mark.slow]

LABCTL = [sys.executable, str(REPO / "lab" / "labctl.py")]
LAB_PORTS = (3307, 3308, 3309, 6032, 8080, 8404, 6379, 6380, 6381, 26379, 9090, 9093, 2222)
# The lab's dev credentials: they must never be printed, whatever the command.
SECRETS = ("jaraba_root_dev", "admin_dev", "redis_dev", "drupal_dev", "monitor_dev")


def ops(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jaraba_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )


def status_json(*extra: str) -> dict:
    out = ops("status", "--json", *extra)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def findings(doc: dict) -> list[dict]:
    return doc["findings"]


def lab(*args: str, timeout: float = 300) -> None:
    out = subprocess.run([*LABCTL, *args], capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout + out.stderr


def wait_until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(1)
    raise AssertionError(f"not within {timeout}s: {what}")


def has(doc: dict, severity: str, component: str, *words: str) -> bool:
    return any(
        f["severity"] == severity
        and f["component"] == component
        and all(w in f["message"] for w in words)
        for f in findings(doc)
    )


@pytest.fixture
def healthy_lab() -> Iterator[None]:
    require_lab(*LAB_PORTS)
    yield
    lab("up")


def test_healthy_lab_reads_correctly(healthy_lab: None) -> None:
    doc = status_json()
    snap = doc["snapshot"]
    assert doc["profile"] == "local" and doc["environment"] == "lab"
    nodes = snap["galera"]["nodes"]
    assert [n["name"] for n in nodes] == ["node1", "node2", "node3"]
    for n in nodes:
        assert n["wsrep"]["cluster_size"] == 3
        assert n["wsrep"]["local_state_comment"] == "Synced"
        assert n["grastate"]["uuid"] == nodes[0]["wsrep"]["cluster_state_uuid"]
    assert snap["proxysql"]["is_standin"] is True
    assert {s["port"] for s in snap["proxysql"]["servers"]} == {3307, 3308, 3309}
    servers = snap["haproxy"]["servers"]
    assert sorted((s["proxy"], s["name"], s["status"]) for s in servers) == sorted(
        (f"bk_app_{c}", f"app{i}", "UP") for c in ("blue", "green") for i in (1, 2, 3)
    )
    assert snap["haproxy"]["live_colour"] == "blue"
    master = snap["redis"]["master"]
    roles = {i["address"]: i["info"]["role"] for i in snap["redis"]["instances"]}
    assert roles[master] == "master" and sorted(roles.values()) == ["master", "slave", "slave"]
    # The lab shares its host with the tests: host load is the machine's, not the stack's.
    crit = [f for f in findings(doc) if f["severity"] == "CRIT" and f["code"] != "host.load"]
    assert crit == [], crit


def test_check_exit_code_follows_the_worst_finding(healthy_lab: None) -> None:
    out = ops("check")
    first = out.stdout.splitlines()[0]
    assert first.startswith("JARABA ")
    word = first.split()[1]
    assert {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[word] == out.returncode
    assert len(out.stdout.splitlines()) >= 6  # one line per finding after the summary


def test_one_galera_node_stopped_then_back(healthy_lab: None) -> None:
    lab("fault", "galera-stop", "3")
    doc = status_json()
    assert has(doc, "CRIT", "galera", "2/3"), findings(doc)
    assert ops("check").returncode == 2
    lab("up", "--only", "galera")
    wait_until(lambda: not has(status_json(), "CRIT", "galera"), 60, "galera finding clears")


def test_app_server_stopped_shows_haproxy_server_down(healthy_lab: None) -> None:
    lab("fault", "app-stop", "green2")

    def down() -> bool:
        doc = status_json()
        return any(
            "app2" in f["message"]
            and f["component"] == "haproxy"
            and f["severity"] in ("WARN", "CRIT")
            for f in findings(doc)
        )

    wait_until(down, 20, "HAProxy marks green/app2 DOWN")
    lab("up", "--only", "apps")
    wait_until(lambda: not down(), 30, "green/app2 back UP")


def test_redis_master_killed_sentinel_failover_observed(healthy_lab: None) -> None:
    old = status_json()["snapshot"]["redis"]["master"]
    lab("fault", "redis-kill-master")

    def new_master() -> bool:
        snap = status_json()["snapshot"]["redis"]
        return snap["master"] not in (None, old)

    wait_until(new_master, 60, "Sentinels elect a new master")
    doc = status_json()
    assert doc["snapshot"]["redis"]["master"] != old
    assert any(old in f["message"] for f in findings(doc) if f["component"] == "redis"), findings(
        doc
    )
    lab("up", "--only", "redis")

    def old_is_replica() -> bool:
        snap = status_json()["snapshot"]["redis"]
        roles = {i["address"]: (i["info"] or {}).get("role") for i in snap["instances"]}
        return roles.get(old) == "slave"

    wait_until(old_is_replica, 60, "old master rejoins as a replica")


def test_proxysql_backend_offline_is_reported(healthy_lab: None) -> None:
    # What sticks on ProxySQL 2.x with Galera hostgroups: the node rejects queries.
    sql = ["mariadb", "-h127.0.0.1", "-P3309", "-uroot", "-e"]
    env = {**os.environ, "MYSQL_PWD": "jaraba_root_dev"}
    subprocess.run([*sql, "SET GLOBAL wsrep_reject_queries=ALL"], check=True, env=env, timeout=10)
    try:

        def offline() -> bool:
            doc = status_json()
            return any(
                f["component"] == "proxysql" and "3309" in f["message"] and f["severity"] != "OK"
                for f in findings(doc)
            )

        wait_until(offline, 20, "ProxySQL moves 3309 to the offline hostgroup")
    finally:
        subprocess.run(
            [*sql, "SET GLOBAL wsrep_reject_queries=NONE"], check=True, env=env, timeout=10
        )
    wait_until(
        lambda: (
            not any(
                f["component"] == "proxysql" and f["severity"] != "OK"
                for f in findings(status_json())
            )
        ),
        30,
        "3309 back in service",
    )


def test_a_firing_prometheus_alert_is_shown(healthy_lab: None) -> None:
    lab("fault", "app-stop", "blue3")

    def firing() -> bool:
        doc = status_json()
        return any(
            f["component"] == "alerts" and f["severity"] in ("WARN", "CRIT") for f in findings(doc)
        )

    try:
        wait_until(firing, 120, "an alert fires for the stopped server")
    finally:
        lab("up", "--only", "apps")


def _profile_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO / "profiles" / "local.toml").read_text()
    assert old in text
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_ssh_host_unreachable_is_a_finding_not_a_crash(healthy_lab: None, tmp_path: Path) -> None:
    prof = _profile_variant(tmp_path, "port = 2222", "port = 2299")
    doc = status_json("--profile", str(prof))
    assert any(
        "2299" in f["message"] or "ssh" in f["message"]
        for f in findings(doc)
        if f["severity"] != "OK"
    )
    assert doc["snapshot"]["haproxy"]["live_colour"] == "blue"  # other layers unaffected


def test_port_that_never_answers_is_bounded_by_its_timeout(
    healthy_lab: None, tmp_path: Path
) -> None:
    lab("fault", "hang", "--port", "3399")
    try:
        prof = _profile_variant(tmp_path, "port = 6381", "port = 3399")
        started = time.monotonic()
        doc = status_json("--profile", str(prof))
        took = time.monotonic() - started
        redis3 = next(i for i in doc["snapshot"]["redis"]["instances"] if i["name"] == "redis3")
        assert redis3["error"]["kind"] == "timeout", redis3
        # read timeout 5 s + connect 3 s in the profile: generous bound, no flaky timing
        assert took < 30
        assert doc["snapshot"]["galera"]["nodes"][0]["wsrep"]["cluster_size"] == 3
    finally:
        lab("fault", "unhang", "--port", "3399")


def test_no_secret_in_status_json_check_or_errors(healthy_lab: None, tmp_path: Path) -> None:
    outputs = [ops("status"), ops("status", "--json"), ops("check"), ops("profile", "check")]
    # error paths: wrong password for every endpoint
    bad = {
        "MYSQL_ROOT_PASSWORD": "wrong-jaraba_root_dev-x",
        "REDIS_PASSWORD": "wrong-redis_dev-x",
        "PROXYSQL_ADMIN_PASSWORD": "wrong-admin_dev-x",
    }
    outputs += [ops("status", "--json", env=bad), ops("check", env=bad)]
    for out in outputs:
        text = out.stdout + out.stderr
        assert "Traceback" not in text
        for secret in (*SECRETS, *bad.values()):
            assert secret not in text, (secret, out.args)
