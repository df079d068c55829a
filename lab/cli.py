"""``labctl`` commands: up, status, down, reset, start/stop a component, faults."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from lab import galera
from lab.galera import LabError
from lab.procs import MARKER, Procs, state_dir
from lab.services import (
    SENTINEL_PORTS,
    SERVICES,
    by_name,
    down_service,
    proxysql_is_standin,
    sentinel_master,
    start_tarpit,
    up_service,
)

# binary -> Debian package, for everything the lab runs.
REQUIRED = {
    "/usr/sbin/mariadbd": "mariadb-server",
    "mariadb": "mariadb-client",
    "/usr/lib/galera/libgalera_smm.so": "galera-4",
    "rsync": "rsync",
    "ss": "iproute2",
    "haproxy": "haproxy",
    "redis-server": "redis-server",
    "redis-cli": "redis-tools",
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "prometheus-mysqld-exporter": "prometheus-mysqld-exporter",
    "prometheus-redis-exporter": "prometheus-redis-exporter",
    "/usr/sbin/sshd": "openssh-server",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "openssl": "openssl",
    "curl": "curl",
}


def missing_packages() -> list[str]:
    missing = set()
    for binary, pkg in REQUIRED.items():
        found = Path(binary).exists() if binary.startswith("/") else shutil.which(binary)
        if not found:
            missing.add(pkg)
    return sorted(missing)


def ensure_packages(also: list[str] | None = None) -> None:
    missing = missing_packages()
    for pkg in also or []:
        probe = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in probe.stdout:
            missing.append(pkg)
    missing = sorted(set(missing))
    if not missing:
        return
    line = "apt-get install -y --no-install-recommends " + " ".join(missing)
    if os.geteuid() != 0:
        raise LabError(f"missing Debian packages; run as root:\n  apt-get update && {line}")
    print(f"lab: installing {' '.join(missing)} ...", flush=True)
    # Debian starts daemons on install unless policy-rc.d forbids it; the lab must not leave
    # a stray redis/mariadb on its ports. Add the guard only if absent, and remove it after.
    guard = Path("/usr/sbin/policy-rc.d")
    added = False
    if not guard.exists():
        guard.write_text("#!/bin/sh\n# added by the jaraba lab during apt-get install\nexit 101\n")
        guard.chmod(0o755)
        added = True
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env, timeout=600)
        subprocess.run(line.split(), check=True, env=env, timeout=1200)
    finally:
        if added:
            guard.unlink(missing_ok=True)


def thaw_all(procs: Procs) -> None:
    """SIGCONT every recorded process: `up` heals a `fault freeze` (harmless otherwise)."""
    for name in procs.names():
        procs.send(name, signal.SIGCONT)


def cmd_up(procs: Procs, only: list[str] | None) -> int:
    ensure_packages()
    procs.ensure()
    thaw_all(procs)
    started = time.monotonic()
    order = ["galera", *[s.name for s in SERVICES]]
    for name in order:
        if only and name not in only:
            continue
        t0 = time.monotonic()
        if name == "galera":
            galera.up(procs)
        else:
            up_service(procs, by_name(name))
        print(f"lab: {name:<12} healthy ({time.monotonic() - t0:4.1f}s)", flush=True)
    print(f"lab: up in {time.monotonic() - started:.1f}s, state in {procs.root}")
    print_status(procs)
    return 0


def status_rows(procs: Procs) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for name, endpoint, state in galera.describe(procs):
        rows.append({"component": name, "endpoint": endpoint, "state": state})
    for svc in SERVICES:
        alive = [n for n in svc.procs_names if procs.alive(n)]
        if not alive:
            state = "DOWN"
        else:
            try:
                why = svc.check(procs)
            except Exception as exc:
                why = f"{exc.__class__.__name__}: {exc}"
            state = "UP" if why is None else f"DEGRADED  {why}"
            extra = svc.detail(procs)
            if extra:
                state += f"  ({extra})"
        rows.append({"component": svc.name, "endpoint": svc.endpoint, "state": state})
    for name in procs.names():
        if name.startswith("tarpit-") and procs.alive(name):
            rows.append(
                {
                    "component": name,
                    "endpoint": f"127.0.0.1:{name[7:]}",
                    "state": "FAULT  accepts, never answers",
                }
            )
    return rows


def print_status(procs: Procs, as_json: bool = False) -> None:
    rows = status_rows(procs)
    if as_json:
        print(
            json.dumps(
                {
                    "state_dir": str(procs.root),
                    "proxysql_standin": proxysql_is_standin(),
                    "components": rows,
                },
                indent=2,
            )
        )
        return
    w1 = max(len(r["component"]) for r in rows)
    w2 = max(len(r["endpoint"]) for r in rows)
    print(f"{'COMPONENT':<{w1}}  {'ENDPOINT':<{w2}}  STATE")
    for r in rows:
        print(f"{r['component']:<{w1}}  {r['endpoint']:<{w2}}  {r['state']}")


def cmd_down(procs: Procs) -> int:
    for svc in reversed(SERVICES):
        down_service(procs, svc)
    galera.down(procs)
    for name in procs.names():  # tarpits and anything else we recorded
        procs.stop(name, timeout=10)
    print("lab: down")
    return 0


def cmd_reset(procs: Procs) -> int:
    if procs.root.exists() and not (procs.root / MARKER).exists():
        raise LabError(
            f"{procs.root} is not a lab state directory (no {MARKER}); refusing to delete it"
        )
    cmd_down(procs)
    if procs.root.exists():
        shutil.rmtree(procs.root)
    print(f"lab: reset ({procs.root} removed); `up` starts from fresh data")
    return 0


def _node(procs: Procs, index: int) -> galera.Node:
    if index not in galera.NODES:
        raise LabError(f"no Galera node {index}; nodes are 1, 2, 3")
    return galera.nodes(procs.root)[index - 1]


def _children(pid: int) -> list[int]:
    """The direct children of ``pid`` (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2 :].split()
        if len(fields) > 1 and fields[1] == str(pid):
            out.append(int(entry.name))
    return out


def cmd_fault(procs: Procs, args: argparse.Namespace) -> int:
    what = args.fault
    if what == "galera-stop":
        galera.stop_node(procs, _node(procs, args.node))
    elif what == "galera-kill":
        procs.kill9(_node(procs, args.node).name)
    elif what == "galera-kill-all":
        for n in galera.nodes(procs.root):
            procs.kill9(n.name)
    elif what == "galera-start":
        node = _node(procs, args.node)
        galera.write_config(node)
        was_running = procs.alive(node.name)
        if not was_running:
            galera.kill_strays(procs, node)  # a killed start's mariadbd holds the datadir
        galera.start(procs, node, new_cluster=args.new_cluster, position=args.position)
        if args.wait:
            try:
                galera.wait_synced(procs, node, joiner=not args.new_cluster)
            except LabError:
                if not was_running:  # leave no half-started node behind
                    galera.stop_node(procs, node, timeout=30)
                raise
    elif what == "galera-recover":
        node = _node(procs, args.node)
        if procs.alive(node.name):
            raise LabError(f"{node.name} is running; --wsrep-recover is for a stopped node")
        found = galera.recover_position(node)
        if found is None:
            raise LabError(
                f"no position recovered for {node.name}:\n" + galera.tail(node.dir / "recover.log")
            )
        print(f"Recovered position: {found[0]}:{found[1]}")
        return 0
    elif what == "redis-kill-master":
        master = sentinel_master(SENTINEL_PORTS[0])
        if master is None:
            raise LabError("no Sentinel names a master for jaraba-master")
        procs.kill9(f"redis-{master[1]}")
        print(f"lab: killed Redis master {master[0]}:{master[1]} (kill -9)")
        return 0
    elif what == "app-stop":
        procs.stop(f"app-{args.app}", timeout=5)
    elif what == "hang":
        procs.ensure()
        start_tarpit(procs, args.port)
    elif what == "unhang":
        procs.stop(f"tarpit-{args.port}", timeout=5)
    elif what == "ssh-down":
        # Stopping the listener leaves established sessions up (each is a child sshd): the
        # host is "down" for a client only once those are gone too.
        sshd = procs.pid("sshd")
        sessions = _children(sshd) if sshd else []
        down_service(procs, by_name("sshd"))
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        print(f"lab: sshd stopped, {len(sessions)} session(s) cut")
        return 0
    elif what in ("freeze", "thaw"):
        if args.process not in procs.names():
            raise LabError(
                f"no recorded lab process {args.process!r}; one of: {', '.join(procs.names())}"
            )
        sig = signal.SIGSTOP if what == "freeze" else signal.SIGCONT
        if not procs.send(args.process, sig):
            raise LabError(f"{args.process} is not running")
    else:  # pragma: no cover - argparse restricts choices
        raise LabError(f"unknown fault {what}")
    print(f"lab: {what} done")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="labctl", description="The jaraba lab: the seed's HA stack on loopback."
    )
    p.add_argument(
        "--state-dir",
        help="lab state directory (default $JARABA_LAB_DIR, $XDG_STATE_HOME/jaraba-lab or /tmp/jaraba-lab)",
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser(
        "up", help="install missing packages, start everything, wait until healthy (idempotent)"
    )
    up.add_argument("--only", action="append", help="only this component (repeatable)")
    st = sub.add_parser("status", help="a table of every component")
    st.add_argument("--json", action="store_true")
    deps = sub.add_parser(
        "deps", help="install the Debian packages the lab needs (root), or print the apt-get line"
    )
    deps.add_argument(
        "--also", nargs="*", default=[], help="more Debian packages (e.g. test tools)"
    )
    sub.add_parser("down", help="stop everything the lab started (by recorded PID)")
    sub.add_parser("reset", help="down, then delete the state directory (fresh data next `up`)")
    start = sub.add_parser("start", help="start one component (galera, apps, haproxy, redis, ...)")
    start.add_argument("component")
    stop = sub.add_parser("stop", help="stop one whole component")
    stop.add_argument("component")
    f = sub.add_parser("fault", help="inject a fault")
    fs = f.add_subparsers(dest="fault", required=True)
    for name, helptext in (
        ("galera-stop", "stop one Galera node cleanly"),
        ("galera-kill", "kill -9 one Galera node"),
    ):
        x = fs.add_parser(name, help=helptext)
        x.add_argument("node", type=int)
    fs.add_parser("galera-kill-all", help="kill -9 every Galera node")
    gs = fs.add_parser("galera-start", help="start one Galera node (joins, or --new-cluster)")
    gs.add_argument("node", type=int)
    gs.add_argument("--new-cluster", action="store_true")
    gs.add_argument("--position", help="uuid:seqno for --wsrep_start_position")
    gs.add_argument("--wait", action="store_true", help="wait until Synced")
    gr = fs.add_parser(
        "galera-recover",
        help="mariadbd --wsrep-recover on a stopped node; prints 'Recovered position: uuid:seqno'",
    )
    gr.add_argument("node", type=int)
    fs.add_parser("ssh-down", help="stop sshd and cut its established sessions (`up` restarts it)")
    fs.add_parser("redis-kill-master", help="kill -9 the Redis instance Sentinel names master")
    a = fs.add_parser("app-stop", help="stop one app server, e.g. blue2")
    a.add_argument("app", choices=[f"{c}{i}" for c in ("blue", "green") for i in (1, 2, 3)])
    for name in ("hang", "unhang"):
        h = fs.add_parser(name, help="(un)start a port that accepts TCP and never answers")
        h.add_argument("--port", type=int, default=3399)
    for name, helptext in (
        ("freeze", "SIGSTOP a lab process: its ports still accept, nothing answers"),
        ("thaw", "SIGCONT a frozen lab process (`up` thaws every process too)"),
    ):
        fz = fs.add_parser(name, help=helptext)
        fz.add_argument("process", help="a recorded process name, e.g. proxysql, redis-6380")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.state_dir:
        os.environ["JARABA_LAB_DIR"] = args.state_dir
    procs = Procs(state_dir())
    try:
        if args.cmd == "up":
            return cmd_up(procs, args.only)
        if args.cmd == "deps":
            ensure_packages(args.also)
            print("lab: Debian packages present")
            return 0
        if args.cmd == "status":
            print_status(procs, args.json)
            return 0
        if args.cmd == "down":
            return cmd_down(procs)
        if args.cmd == "reset":
            return cmd_reset(procs)
        if args.cmd == "start":
            procs.ensure()
            return cmd_up(procs, [args.component])
        if args.cmd == "stop":
            if args.component == "galera":
                galera.down(procs)
            else:
                down_service(procs, by_name(args.component))
            print(f"lab: {args.component} stopped")
            return 0
        if args.cmd == "fault":
            return cmd_fault(procs, args)
    except LabError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr or b""
        text = detail.decode(errors="replace") if isinstance(detail, bytes) else detail
        print(
            f"lab: error: {' '.join(map(str, exc.cmd[:3]))} ... failed ({exc.returncode}): {text.strip()}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `labctl status | head`
        return 0
    return 2
