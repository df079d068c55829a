"""The lab's components, each checked with an independent client (mariadb, redis-cli, curl, ssh)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from tests.labutil import LAB_DIR, REPO, require_lab

pytestmark = pytest.mark.lab


def run(*argv: str, env: dict[str, str] | None = None, timeout: float = 20) -> str:
    out = subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return out.stdout


def mariadb(port: int, sql: str, user: str = "root", password: str = "jaraba_root_dev") -> str:
    return run(
        "mariadb",
        "-h127.0.0.1",
        f"-P{port}",
        f"-u{user}",
        "-N",
        "-B",
        "-e",
        sql,
        env={"MYSQL_PWD": password},
    ).strip()


def redis_cli(port: int, *args: str, password: str | None = "redis_dev") -> str:
    env = {"REDISCLI_AUTH": password} if password else {}
    return run(
        "redis-cli", "-h", "127.0.0.1", "-p", str(port), "--no-auth-warning", *args, env=env
    ).strip()


def test_galera_cluster_of_three_replicates_writes() -> None:
    require_lab(3307, 3308, 3309)
    for port in (3307, 3308, 3309):
        status = dict(
            line.split("\t")
            for line in mariadb(
                port,
                "SHOW GLOBAL STATUS WHERE Variable_name IN "
                "('wsrep_cluster_size','wsrep_local_state_comment','wsrep_cluster_status','wsrep_ready')",
            ).splitlines()
        )
        assert status == {
            "wsrep_cluster_size": "3",
            "wsrep_local_state_comment": "Synced",
            "wsrep_cluster_status": "Primary",
            "wsrep_ready": "ON",
        }, port
    token = uuid.uuid4().hex
    mariadb(
        3307,
        "CREATE TABLE IF NOT EXISTS drupal.ha_test (id INT AUTO_INCREMENT PRIMARY KEY, "
        "token VARCHAR(64), ts TIMESTAMP DEFAULT CURRENT_TIMESTAMP)",
    )
    mariadb(3307, f"INSERT INTO drupal.ha_test (token) VALUES ('{token}')")
    # Galera is synchronous for commits, but the applier on node3 may lag by milliseconds:
    # wsrep_sync_wait makes the read wait for it, as an application would configure.
    got = mariadb(
        3309,
        f"SET SESSION wsrep_sync_wait=1; SELECT token FROM drupal.ha_test WHERE token='{token}'",
    )
    assert got == token


def test_seed_users_exist_with_their_grants() -> None:
    require_lab(3307)
    assert mariadb(3307, "SELECT 1", user="drupal", password="drupal_dev") == "1"
    grants = mariadb(3308, "SHOW GRANTS FOR 'monitor'@'%'")
    assert "GRANT USAGE ON *.* TO `monitor`@`%`" in grants
    repl = mariadb(3309, "SHOW GRANTS FOR 'repl'@'%'")
    for priv in (
        "RELOAD",
        "PROCESS",
        "LOCK TABLES",
        "BINLOG MONITOR",
    ):  # REPLICATION CLIENT is BINLOG MONITOR in 10.11
        assert priv in repl


def test_every_sentinel_names_the_same_master_with_quorum() -> None:
    require_lab(26379, 26380, 26381, 6379)
    masters = {
        redis_cli(p, "SENTINEL", "get-master-addr-by-name", "jaraba-master", password=None)
        for p in (26379, 26380, 26381)
    }
    assert len(masters) == 1
    _host, port = masters.pop().split()
    assert redis_cli(int(port), "ROLE").splitlines()[0] == "master"
    assert redis_cli(26379, "SENTINEL", "ckquorum", "jaraba-master", password=None).startswith(
        "OK 3 usable"
    )
    replicas = [p for p in (6379, 6380, 6381) if p != int(port)]
    for p in replicas:
        assert redis_cli(p, "ROLE").splitlines()[0] == "slave"


def test_redis_requires_the_password() -> None:
    require_lab(6379)
    out = subprocess.run(
        ["redis-cli", "-p", "6379", "PING"], capture_output=True, text=True, timeout=10
    )
    assert "NOAUTH" in out.stdout + out.stderr


def test_haproxy_serves_blue_through_8080_and_tls_8443() -> None:
    require_lab(8080, 8443, 8404)
    seen = {
        run("curl", "-sS", "--max-time", "5", "http://127.0.0.1:8080/").strip() for _ in range(6)
    }
    assert seen == {"blue app1", "blue app2", "blue app3"}
    tls = run(
        "curl",
        "-sS",
        "--max-time",
        "5",
        "--cacert",
        str(LAB_DIR / "haproxy/certs/jaraba.pem"),
        "--resolve",
        "jaraba.io:8443:127.0.0.1",
        "https://jaraba.io:8443/",
    )
    assert tls.startswith("blue ")
    csv = run(
        "curl", "-sS", "--max-time", "5", "-u", "admin:admin_dev", "http://127.0.0.1:8404/stats;csv"
    )
    rows = [r.split(",") for r in csv.splitlines() if r and not r.startswith("#")]
    servers = [(r[0], r[1], r[17]) for r in rows if r[1] not in ("FRONTEND", "BACKEND")]
    assert sorted(servers) == sorted(
        (f"bk_app_{c}", f"app{i}", "UP") for c in ("blue", "green") for i in (1, 2, 3)
    )
    unauth = run(
        "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:8404/stats"
    )
    assert unauth == "401"


def test_haproxy_runtime_api_on_tcp_answers() -> None:
    require_lab(9999)
    info = run("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9999; echo 'show info' >&3; cat <&3")
    assert "Name: HAProxy" in info


def test_prometheus_loaded_the_seed_alert_rules_and_scrapes_targets() -> None:
    require_lab(9090, 9093)
    rules = json.loads(run("curl", "-sS", "--max-time", "5", "http://127.0.0.1:9090/api/v1/rules"))
    names = {r["name"] for g in rules["data"]["groups"] for r in g["rules"]}
    assert any("Galera" in n for n in names), names
    assert any("Redis" in n for n in names), names
    assert any("HAProxy" in n for n in names), names
    am = json.loads(run("curl", "-sS", "--max-time", "5", "http://127.0.0.1:9093/api/v2/status"))
    assert am["cluster"]["status"] in ("ready", "disabled")


def test_ssh_to_2222_runs_a_command_with_the_lab_key() -> None:
    require_lab(2222)
    ssh = REPO / "lab" / "labctl.py"  # only for its path; use the real ssh client below
    assert ssh.exists()
    out = run(
        "ssh",
        "-p",
        "2222",
        "-i",
        str(LAB_DIR / "ssh/id_ed25519"),
        "-o",
        f"UserKnownHostsFile={LAB_DIR / 'ssh/known_hosts'}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "127.0.0.1",
        "cat",
        str(LAB_DIR / "galera/node1/data/grastate.dat"),
    )
    assert "safe_to_bootstrap" in out


def test_proxysql_admin_lists_the_three_galera_nodes() -> None:
    require_lab(6032)
    rows = mariadb(
        6032, "SELECT hostname, port FROM runtime_mysql_servers", user="admin", password="admin_dev"
    )
    ports = {line.split("\t")[1] for line in rows.splitlines()}
    assert ports == {"3307", "3308", "3309"}
    comment = mariadb(6032, "SELECT @@version_comment", user="admin", password="admin_dev")
    if subprocess.run(["which", "proxysql"], capture_output=True).returncode != 0:
        assert "stand-in" in comment.lower()


def test_status_labels_the_proxysql_stand_in() -> None:
    out = json.loads(run("python3", str(REPO / "lab/labctl.py"), "status", "--json"))
    proxysql = next(c for c in out["components"] if c["component"] == "proxysql")
    if out["proxysql_standin"]:
        assert "STAND-IN" in proxysql["state"]
