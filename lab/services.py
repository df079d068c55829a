"""The lab's components other than Galera: each knows how to start, check and describe itself."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lab.galera import LabError
from lab.procs import Procs, port_open, wait_for

LAB_DIR = Path(__file__).resolve().parent
REPO = LAB_DIR.parent
SYS_PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
REDIS_PASSWORD = "redis_dev"  # the seed's public Quick Start dev credential

APPS = [
    (colour, i, (8100 if colour == "blue" else 8200) + i)
    for colour in ("blue", "green")
    for i in (1, 2, 3)
]
REDIS_PORTS = (6379, 6380, 6381)
SENTINEL_PORTS = (26379, 26380, 26381)
MASTER_NAME = "jaraba-master"


@dataclass
class Service:
    """A group of processes started and checked together."""

    name: str
    procs_names: list[str]
    start: Callable[[Procs], None]
    check: Callable[[Procs], str | None]  # None when healthy, else why not
    endpoint: str
    timeout: float = 30.0
    detail: Callable[[Procs], str] = field(default=lambda _p: "")


def _wait(procs: Procs, svc: Service) -> None:
    why: list[str | None] = [None]

    def ok() -> bool:
        why[0] = svc.check(procs)
        return why[0] is None

    if not wait_for(ok, svc.timeout, interval=0.3):
        logs = "\n".join(f"--- {n}\n{procs.log_tail(n)}" for n in svc.procs_names)
        raise LabError(f"{svc.name} not healthy after {svc.timeout:.0f}s: {why[0]}\n{logs}")


def _http_get(
    url: str, timeout: float = 2.0, auth: tuple[str, str] | None = None
) -> tuple[int, str]:
    req = urllib.request.Request(url)
    if auth is not None:
        import base64

        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _all_up(procs: Procs, names: list[str]) -> str | None:
    dead = [n for n in names if not procs.alive(n)]
    return f"not running: {', '.join(dead)}" if dead else None


# ---------------------------------------------------------------------------- apps
def _apps_start(procs: Procs) -> None:
    for colour, i, port in APPS:
        procs.spawn(
            f"app-{colour}{i}",
            [
                SYS_PYTHON,
                str(LAB_DIR / "appserver.py"),
                "--port",
                str(port),
                "--colour",
                colour,
                "--name",
                f"app{i}",
            ],
        )


def _apps_check(procs: Procs) -> str | None:
    bad = [f"{c}{i}" for c, i, port in APPS if not (procs.alive(f"app-{c}{i}") and port_open(port))]
    return f"not answering: {', '.join(bad)}" if bad else None


# ---------------------------------------------------------------------------- haproxy
def haproxy_dir(root: Path) -> Path:
    return root / "haproxy"


def _haproxy_prepare(root: Path) -> Path:
    d = haproxy_dir(root)
    (d / "certs").mkdir(parents=True, exist_ok=True)
    (d / "maps").mkdir(exist_ok=True)
    pem = d / "certs" / "jaraba.pem"
    if not pem.exists():
        key, crt = d / "certs" / "lab.key", d / "certs" / "lab.crt"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "365",
                "-subj",
                "/CN=jaraba.io",
                "-addext",
                "subjectAltName=DNS:jaraba.io,DNS:*.jaraba.io,IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(crt),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        pem.write_bytes(crt.read_bytes() + key.read_bytes())
        key.unlink()
    mp = d / "maps" / "bluegreen.map"
    if not mp.exists():
        mp.write_text("live blue\ncanary none\ncanary_pct 0\n")
    cfg = d / "haproxy.cfg"
    template = (LAB_DIR / "templates" / "haproxy.cfg").read_text()
    cfg.write_text(template.replace("@@STATE@@", str(root)))
    return cfg


def _haproxy_start(procs: Procs) -> None:
    cfg = _haproxy_prepare(procs.root)
    d = haproxy_dir(procs.root)
    check = subprocess.run(
        ["haproxy", "-c", "-q", "-f", str(cfg)], capture_output=True, text=True, timeout=30
    )
    if check.returncode != 0:
        raise LabError(f"haproxy -c rejected {cfg}:\n{check.stdout}{check.stderr}")
    procs.spawn(
        "haproxy",
        [
            "haproxy",
            "-W",
            "-S",
            f"{d / 'master.sock'},mode,600",
            "-f",
            str(cfg),
            "-p",
            str(d / "haproxy.pid"),
        ],
    )


def haproxy_cmd(root: Path, command: str, timeout: float = 3.0) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(haproxy_dir(root) / "admin.sock"))
        s.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


def _haproxy_check(procs: Procs) -> str | None:
    if not procs.alive("haproxy"):
        return "not running"
    if not port_open(8080) or not port_open(8404):
        return "ports 8080/8404 not open"
    stat = haproxy_cmd(procs.root, "show stat")
    down = [
        f"{row.split(',')[0]}/{row.split(',')[1]}"
        for row in stat.splitlines()
        if row
        and not row.startswith("#")
        and row.split(",")[1] not in ("FRONTEND", "BACKEND")
        and row.split(",")[17] != "UP"
    ]
    return f"servers not UP: {', '.join(down)}" if down else None


def _haproxy_detail(procs: Procs) -> str:
    try:
        live = haproxy_cmd(
            procs.root, f"show map {haproxy_dir(procs.root) / 'maps' / 'bluegreen.map'}"
        )
    except OSError:
        return ""
    for line in live.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "live":
            return f"live colour {parts[2]}"
    return ""


# ---------------------------------------------------------------------------- redis
def redis_cli(port: int, *args: str, password: bool = True, timeout: float = 3.0) -> str:
    argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--no-auth-warning"]
    env = dict(os.environ)
    if password:
        env["REDISCLI_AUTH"] = REDIS_PASSWORD
    out = subprocess.run(
        [*argv, *args], capture_output=True, text=True, timeout=timeout, env=env, check=True
    )
    return out.stdout.strip()


def _redis_start(procs: Procs) -> None:
    for port in REDIS_PORTS:
        d = procs.root / "redis" / str(port)
        d.mkdir(parents=True, exist_ok=True)
        conf = d / "redis.conf"
        if not conf.exists():  # Sentinel rewrites it after a failover: keep its version.
            replica = "" if port == REDIS_PORTS[0] else f"replicaof 127.0.0.1 {REDIS_PORTS[0]}\n"
            conf.write_text(
                f"""# Generated by the jaraba lab from infrastructure/ha/redis/redis.conf, adapted to loopback.
bind 127.0.0.1
port {port}
protected-mode yes
daemonize no
dir {d}
logfile {d}/redis.log
requirepass {REDIS_PASSWORD}
masterauth {REDIS_PASSWORD}
maxmemory 64mb
maxmemory-policy volatile-lru
appendonly yes
appendfsync everysec
save 300 10
replica-read-only yes
replica-serve-stale-data yes
repl-diskless-sync yes
tcp-keepalive 60
{replica}"""
            )
        procs.spawn(f"redis-{port}", ["redis-server", str(conf)])


def _redis_check(procs: Procs) -> str | None:
    why = _all_up(procs, [f"redis-{p}" for p in REDIS_PORTS])
    if why:
        return why
    for p in REDIS_PORTS:
        if redis_cli(p, "PING") != "PONG":
            return f"redis {p} does not answer PING"
    return None


def _sentinel_start(procs: Procs) -> None:
    for port in SENTINEL_PORTS:
        d = procs.root / "sentinel" / str(port)
        d.mkdir(parents=True, exist_ok=True)
        conf = d / "sentinel.conf"
        if not conf.exists():  # Sentinel rewrites its own config: create it once.
            conf.write_text(
                f"""# Generated by the jaraba lab from infrastructure/ha/redis/sentinel.conf, adapted to loopback.
bind 127.0.0.1
port {port}
daemonize no
dir {d}
logfile {d}/sentinel.log
sentinel monitor {MASTER_NAME} 127.0.0.1 {REDIS_PORTS[0]} 2
sentinel auth-pass {MASTER_NAME} {REDIS_PASSWORD}
sentinel down-after-milliseconds {MASTER_NAME} 5000
sentinel failover-timeout {MASTER_NAME} 15000
sentinel parallel-syncs {MASTER_NAME} 1
"""
            )
        procs.spawn(f"sentinel-{port}", ["redis-server", str(conf), "--sentinel"])


def sentinel_master(port: int) -> tuple[str, int] | None:
    out = redis_cli(
        port, "SENTINEL", "get-master-addr-by-name", MASTER_NAME, password=False
    ).split()
    return (out[0], int(out[1])) if len(out) == 2 else None


def _sentinel_check(procs: Procs) -> str | None:
    why = _all_up(procs, [f"sentinel-{p}" for p in SENTINEL_PORTS])
    if why:
        return why
    for p in SENTINEL_PORTS:
        info = redis_cli(p, "INFO", "sentinel", password=False)
        if "sentinels=3" not in info:
            return f"sentinel {p} does not see 3 sentinels yet"
        quorum = redis_cli(p, "SENTINEL", "ckquorum", MASTER_NAME, password=False)
        if not quorum.startswith("OK"):
            return f"sentinel {p}: {quorum}"
    return None


def _sentinel_detail(procs: Procs) -> str:
    try:
        m = sentinel_master(SENTINEL_PORTS[0])
    except (subprocess.SubprocessError, OSError):
        return ""
    return f"master {m[0]}:{m[1]}" if m else ""


# ---------------------------------------------------------------------------- exporters
def _exporters_start(procs: Procs) -> None:
    d = procs.root / "exporters"
    d.mkdir(parents=True, exist_ok=True)
    for i in (1, 2, 3):
        cnf = d / f"mysqld-node{i}.cnf"
        cnf.write_text(
            f"[client]\nuser=exporter\npassword=exporter_dev\nhost=127.0.0.1\nport={3306 + i}\n"
        )
        cnf.chmod(0o600)
        procs.spawn(
            f"mysqld-exporter-node{i}",
            [
                "prometheus-mysqld-exporter",
                f"--config.my-cnf={cnf}",
                f"--web.listen-address=127.0.0.1:{9103 + i}",
            ],
        )
    pwfile = d / "redis-passwords.json"
    pwfile.write_text(json.dumps({f"redis://127.0.0.1:{p}": REDIS_PASSWORD for p in REDIS_PORTS}))
    pwfile.chmod(0o600)
    procs.spawn(
        "redis-exporter",
        [
            "prometheus-redis-exporter",
            "-web.listen-address",
            "127.0.0.1:9121",
            "-redis.addr",
            "",
            "-redis.password-file",
            str(pwfile),
        ],
    )


EXPORTER_PORTS = (9104, 9105, 9106, 9121)


def _exporters_check(procs: Procs) -> str | None:
    why = _all_up(
        procs,
        [
            "mysqld-exporter-node1",
            "mysqld-exporter-node2",
            "mysqld-exporter-node3",
            "redis-exporter",
        ],
    )
    if why:
        return why
    closed = [str(p) for p in EXPORTER_PORTS if not port_open(p)]
    return f"ports not open: {', '.join(closed)}" if closed else None


# ---------------------------------------------------------------------------- prometheus
ALERT_RULES = REPO / "infrastructure" / "ha" / "monitoring" / "prometheus-alerts.yml"


def _prometheus_start(procs: Procs) -> None:
    d = procs.root / "prometheus"
    (d / "data").mkdir(parents=True, exist_ok=True)
    rules = f"rule_files:\n  - {ALERT_RULES}\n" if ALERT_RULES.exists() else ""
    redis_targets = [f"redis://127.0.0.1:{p}" for p in REDIS_PORTS] + [
        f"redis://127.0.0.1:{p}" for p in SENTINEL_PORTS
    ]
    (d / "prometheus.yml").write_text(
        f"""# Generated by the jaraba lab.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
  external_labels:
    environment: lab
{rules}alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:9093']
scrape_configs:
  - job_name: galera
    static_configs:
      - targets: ['127.0.0.1:9104']
        labels: {{node: node1}}
      - targets: ['127.0.0.1:9105']
        labels: {{node: node2}}
      - targets: ['127.0.0.1:9106']
        labels: {{node: node3}}
  - job_name: proxysql
    static_configs:
      - targets: ['127.0.0.1:6070']
  - job_name: haproxy
    metrics_path: /metrics
    static_configs:
      - targets: ['127.0.0.1:8404']
  - job_name: redis
    metrics_path: /scrape
    static_configs:
      - targets: {json.dumps(redis_targets)}
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:9121
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:9090']
  - job_name: alertmanager
    static_configs:
      - targets: ['127.0.0.1:9093']
"""
    )
    if procs.alive("prometheus"):
        # Already running: pick up a changed config or rules file without a restart.
        req = urllib.request.Request("http://127.0.0.1:9090/-/reload", method="POST")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(req, timeout=5).close()
        return
    procs.spawn(
        "prometheus",
        [
            "prometheus",
            f"--config.file={d / 'prometheus.yml'}",
            f"--storage.tsdb.path={d / 'data'}",
            "--storage.tsdb.retention.time=6h",
            "--web.listen-address=127.0.0.1:9090",
            "--web.enable-lifecycle",
            "--rules.alert.resend-delay=2s",
            "--web.console.templates=/dev/null",
            "--web.console.libraries=/dev/null",
        ],
    )


def _prometheus_check(procs: Procs) -> str | None:
    if not procs.alive("prometheus"):
        return "not running"
    code, _ = _http_get("http://127.0.0.1:9090/-/ready")
    if code != 200:
        return f"/-/ready answered {code}"
    if ALERT_RULES.exists():
        _, body = _http_get("http://127.0.0.1:9090/api/v1/rules")
        groups = json.loads(body)["data"]["groups"]
        if not groups:
            return "alert rules not loaded yet"
    return None


def _alertmanager_start(procs: Procs) -> None:
    d = procs.root / "alertmanager"
    (d / "data").mkdir(parents=True, exist_ok=True)
    (d / "alertmanager.yml").write_text(
        """# Generated by the jaraba lab: routes like production, delivers nowhere.
route:
  receiver: lab-null
  group_by: [alertname, instance]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"', 'pager="true"']
      receiver: lab-null
    - matchers: ['severity="critical"']
      receiver: lab-null
    - matchers: ['severity="warning"']
      receiver: lab-null
receivers:
  - name: lab-null
"""
    )
    procs.spawn(
        "alertmanager",
        [
            "prometheus-alertmanager",
            f"--config.file={d / 'alertmanager.yml'}",
            f"--storage.path={d / 'data'}",
            "--web.listen-address=127.0.0.1:9093",
            "--cluster.listen-address=",
        ],
    )


def _alertmanager_check(procs: Procs) -> str | None:
    if not procs.alive("alertmanager"):
        return "not running"
    code, _ = _http_get("http://127.0.0.1:9093/-/ready")
    return None if code == 200 else f"/-/ready answered {code}"


# ---------------------------------------------------------------------------- sshd
def ssh_dir(root: Path) -> Path:
    return root / "ssh"


def _sshd_start(procs: Procs) -> None:
    d = ssh_dir(procs.root)
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o700)
    hostkey, clientkey = d / "ssh_host_ed25519_key", d / "id_ed25519"
    for key in (hostkey, clientkey):
        if not key.exists():
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "jaraba-lab", "-f", str(key)],
                check=True,
                timeout=30,
            )
    (d / "authorized_keys").write_text(Path(f"{clientkey}.pub").read_text())
    host_pub = Path(f"{hostkey}.pub").read_text().split()
    (d / "known_hosts").write_text(f"[127.0.0.1]:2222 {host_pub[0]} {host_pub[1]}\n")
    # The lab's nodes have their own (empty) home: the login shell sshd starts for each
    # command must not read this machine's personal rc files (root's .bashrc may run
    # e.g. `pyenv init`, ~0.2 s of CPU per remote shell, which a database host has not).
    home = d / "home"
    home.mkdir(mode=0o700, exist_ok=True)
    cfg = d / "sshd_config"
    cfg.write_text(
        f"""# Generated by the jaraba lab: key-only sshd on loopback.
Port 2222
ListenAddress 127.0.0.1
HostKey {hostkey}
PidFile {d / "sshd.pid"}
AuthorizedKeysFile {d / "authorized_keys"}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
X11Forwarding no
PrintMotd no
Subsystem sftp internal-sftp
SetEnv HOME={home}
"""
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation dir
    procs.spawn("sshd", ["/usr/sbin/sshd", "-D", "-e", "-f", str(cfg)])


def ssh_argv(root: Path) -> list[str]:
    d = ssh_dir(root)
    return [
        "ssh",
        "-p",
        "2222",
        "-i",
        str(d / "id_ed25519"),
        "-o",
        f"UserKnownHostsFile={d / 'known_hosts'}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=3",
        "127.0.0.1",
    ]


def _sshd_check(procs: Procs) -> str | None:
    if not procs.alive("sshd"):
        return "not running"
    out = subprocess.run(
        [*ssh_argv(procs.root), "echo", "lab-ok"], capture_output=True, text=True, timeout=10
    )
    return None if out.stdout.strip() == "lab-ok" else f"ssh echo failed: {out.stderr.strip()}"


# ---------------------------------------------------------------------------- proxysql
PROXYSQL_ENV = {
    "LAB_MONITOR_PASSWORD": "monitor_dev",
    "LAB_PROXYSQL_ADMIN_PASSWORD": "admin_dev",
    "LAB_DRUPAL_PASSWORD": "drupal_dev",
}


def proxysql_is_standin() -> bool:
    return shutil.which("proxysql") is None


def _proxysql_start(procs: Procs) -> None:
    d = procs.root / "proxysql"
    d.mkdir(parents=True, exist_ok=True)
    if not proxysql_is_standin():
        cnf = d / "proxysql.cnf"
        cnf.write_text(_real_proxysql_cnf(d))
        procs.spawn("proxysql", ["proxysql", "-f", "-c", str(cnf), "-D", str(d)])
        return
    argv = [
        sys.executable,
        "-m",
        "lab.proxysql_standin",
        "--bind",
        "127.0.0.1",
        "--admin-port",
        "6032",
        "--mysql-port",
        "6033",
        "--metrics-port",
        "6070",
        "--state-dir",
        str(d),
        "--monitor-user",
        "monitor",
        "--monitor-password-env",
        "LAB_MONITOR_PASSWORD",
        "--admin-user",
        "admin",
        "--admin-password-env",
        "LAB_PROXYSQL_ADMIN_PASSWORD",
        "--app-user",
        "drupal",
        "--app-password-env",
        "LAB_DRUPAL_PASSWORD",
    ]
    for port in (3307, 3308, 3309):
        argv += ["--backend", f"127.0.0.1:{port}"]
    env = {**PROXYSQL_ENV, "PYTHONPATH": str(REPO)}
    procs.spawn("proxysql", argv, env=env, cwd=REPO)


def _real_proxysql_cnf(d: Path) -> str:
    servers = ",\n".join(
        f'  {{ address="127.0.0.1", port={p}, hostgroup=10, max_connections=100 }}'
        for p in (3307, 3308, 3309)
    )
    return f"""datadir="{d}"
admin_variables = {{ admin_credentials="admin:admin_dev;radmin:radmin_dev" mysql_ifaces="127.0.0.1:6032" }}
mysql_variables = {{ interfaces="127.0.0.1:6033" monitor_username="monitor" monitor_password="monitor_dev"
  monitor_galera_healthcheck_interval=2000 monitor_ping_interval=2000 server_version="10.11.0-MariaDB" }}
mysql_servers = (
{servers}
)
mysql_galera_hostgroups = ( {{ writer_hostgroup=10, backup_writer_hostgroup=20, reader_hostgroup=30,
  offline_hostgroup=9999, active=1, max_writers=1, writer_is_also_reader=2, max_transactions_behind=100 }} )
mysql_users = ( {{ username="drupal", password="drupal_dev", default_hostgroup=10 }} )
mysql_query_rules = (
  {{ rule_id=100, active=1, match_digest="^SELECT .* FOR UPDATE", destination_hostgroup=10, apply=1 }},
  {{ rule_id=200, active=1, match_digest="^SELECT", destination_hostgroup=30, apply=1 }}
)
"""


def _proxysql_check(procs: Procs) -> str | None:
    if not procs.alive("proxysql"):
        return "not running"
    if not port_open(6032):
        return "admin port 6032 not open"
    out = subprocess.run(
        [
            "mariadb",
            "-h127.0.0.1",
            "-P6032",
            "-uadmin",
            "-N",
            "-B",
            "-e",
            "SELECT hostgroup_id, port, status FROM runtime_mysql_servers",
        ],
        capture_output=True,
        text=True,
        timeout=5,
        env={**os.environ, "MYSQL_PWD": "admin_dev"},
    )
    if out.returncode != 0:
        return f"admin query failed: {out.stderr.strip()}"
    ports = {line.split("\t")[1] for line in out.stdout.splitlines() if line.strip()}
    return (
        None if ports >= {"3307", "3308", "3309"} else f"runtime_mysql_servers has {sorted(ports)}"
    )


def _proxysql_detail(procs: Procs) -> str:
    return "STAND-IN (no proxysql binary on PATH)" if proxysql_is_standin() else "real proxysql"


# ---------------------------------------------------------------------------- tarpit
def start_tarpit(procs: Procs, port: int) -> None:
    procs.spawn(f"tarpit-{port}", [SYS_PYTHON, str(LAB_DIR / "tarpit.py"), "--port", str(port)])
    if not wait_for(lambda: port_open(port), 10):
        raise LabError(f"tarpit on {port} did not open:\n{procs.log_tail(f'tarpit-{port}')}")


SERVICES: list[Service] = [
    Service(
        "apps",
        [f"app-{c}{i}" for c, i, _ in APPS],
        _apps_start,
        _apps_check,
        "127.0.0.1:8101-8103,8201-8203",
        15,
    ),
    Service(
        "haproxy",
        ["haproxy"],
        _haproxy_start,
        _haproxy_check,
        "127.0.0.1:8080 8443 stats 8404 api 9999",
        20,
        _haproxy_detail,
    ),
    Service(
        "redis",
        [f"redis-{p}" for p in REDIS_PORTS],
        _redis_start,
        _redis_check,
        "127.0.0.1:6379-6381",
        20,
    ),
    Service(
        "sentinel",
        [f"sentinel-{p}" for p in SENTINEL_PORTS],
        _sentinel_start,
        _sentinel_check,
        "127.0.0.1:26379-26381",
        30,
        _sentinel_detail,
    ),
    Service(
        "proxysql",
        ["proxysql"],
        _proxysql_start,
        _proxysql_check,
        "127.0.0.1:6032 admin, 6033 mysql",
        30,
        _proxysql_detail,
    ),
    Service(
        "exporters",
        [
            "mysqld-exporter-node1",
            "mysqld-exporter-node2",
            "mysqld-exporter-node3",
            "redis-exporter",
        ],
        _exporters_start,
        _exporters_check,
        "127.0.0.1:9104-9106,9121",
        20,
    ),
    Service(
        "alertmanager",
        ["alertmanager"],
        _alertmanager_start,
        _alertmanager_check,
        "127.0.0.1:9093",
        30,
    ),
    Service(
        "prometheus", ["prometheus"], _prometheus_start, _prometheus_check, "127.0.0.1:9090", 40
    ),
    Service("sshd", ["sshd"], _sshd_start, _sshd_check, "127.0.0.1:2222", 20),
]


def by_name(name: str) -> Service:
    for svc in SERVICES:
        if svc.name == name:
            return svc
    raise LabError(
        f"unknown component {name!r}; one of: galera, {', '.join(s.name for s in SERVICES)}"
    )


def up_service(procs: Procs, svc: Service) -> None:
    svc.start(procs)
    _wait(procs, svc)


def down_service(procs: Procs, svc: Service) -> None:
    for n in svc.procs_names:
        procs.stop(n, timeout=15)
