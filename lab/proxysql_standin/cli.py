"""``python -m lab.proxysql_standin``: run the ProxySQL stand-in in the foreground.

Secrets are never passed on the command line: each ``--*-password-env`` flag names the
environment variable that holds the password. SIGTERM and SIGINT stop the process within about
a second; nothing is written outside ``--state-dir``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from lab.proxysql_standin import STANDIN_VERSION
from lab.proxysql_standin.config import CnfError, StandinConfig

log = logging.getLogger("lab.proxysql_standin")


class _DropProtocolErrors(logging.Filter):
    """mysql-mimic logs every error it sends to a client; that is noise (and may quote SQL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from mysql_mimic.errors import MysqlError

        return not isinstance(record.msg, MysqlError)


def _endpoint(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m lab.proxysql_standin",
        description=(
            "ProxySQL 2.x stand-in for the jaraba lab: MySQL-protocol admin with ProxySQL's "
            "tables and LOAD/SAVE semantics, a Galera monitor, a traffic proxy and "
            "proxysql_exporter-style metrics. It is not ProxySQL; see "
            "lab/proxysql_standin/README.md."
        ),
    )
    p.add_argument("--version", action="version", version=STANDIN_VERSION)
    p.add_argument("--bind", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--admin-port", type=_port, default=6032, help="admin interface (6032)")
    p.add_argument("--mysql-port", type=_port, default=6033, help="MySQL traffic (6033)")
    p.add_argument(
        "--metrics-port",
        type=_port,
        default=6070,
        help="Prometheus metrics (6070, like ProxySQL 2.x's REST API port)",
    )
    p.add_argument(
        "--state-dir", type=Path, required=True, help="where proxysql.db lives (created if missing)"
    )
    p.add_argument(
        "--config",
        type=Path,
        help="a proxysql.cnf for the first start (ignored once the disk database exists)",
    )
    p.add_argument(
        "--backend",
        type=_endpoint,
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="a Galera node, repeatable; used when --config has no mysql_servers",
    )
    p.add_argument("--admin-user", default="admin")
    p.add_argument(
        "--admin-password-env",
        default="LAB_PROXYSQL_ADMIN_PASSWORD",
        metavar="VAR",
        help="environment variable holding the admin password",
    )
    p.add_argument("--monitor-user", default="monitor")
    p.add_argument(
        "--monitor-password-env",
        default="LAB_MONITOR_PASSWORD",
        metavar="VAR",
        help="environment variable holding the monitor user's password",
    )
    p.add_argument("--app-user", help="application user allowed on the traffic port")
    p.add_argument(
        "--app-password-env",
        default="LAB_DRUPAL_PASSWORD",
        metavar="VAR",
        help="environment variable holding the application user's password",
    )
    p.add_argument(
        "--monitor-interval-ms",
        type=int,
        default=2000,
        help="initial mysql-monitor_ping_interval and galera_healthcheck_interval (2000)",
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def _secret(parser: argparse.ArgumentParser, variable: str, flag: str) -> str:
    value = os.environ.get(variable)
    if value is None:
        parser.exit(
            2,
            f"{parser.prog}: error: environment variable {variable} (named by {flag}) is not "
            f"set; export it or point {flag} at the variable that holds the password\n",
        )
    return value


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> StandinConfig:
    if args.config is not None and not args.config.is_file():
        parser.exit(2, f"{parser.prog}: error: --config {args.config}: no such file\n")
    return StandinConfig(
        state_dir=args.state_dir,
        bind=args.bind,
        admin_port=args.admin_port,
        mysql_port=args.mysql_port,
        metrics_port=args.metrics_port,
        config_file=args.config,
        backends=list(args.backend),
        admin_user=args.admin_user,
        admin_password=_secret(parser, args.admin_password_env, "--admin-password-env"),
        monitor_user=args.monitor_user,
        monitor_password=_secret(parser, args.monitor_password_env, "--monitor-password-env"),
        app_user=args.app_user,
        app_password=(
            _secret(parser, args.app_password_env, "--app-password-env") if args.app_user else ""
        ),
        monitor_interval_ms=args.monitor_interval_ms,
    )


async def serve(cfg: StandinConfig) -> None:
    from lab.proxysql_standin.server import StandinApp

    app = StandinApp(cfg)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await app.start()
    await stop.wait()
    await app.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("mysql_mimic").setLevel(logging.WARNING)
    logging.getLogger("mysql_mimic").addFilter(_DropProtocolErrors())
    for name in ("mysql_mimic.connection", "mysql_mimic.server"):
        logging.getLogger(name).addFilter(_DropProtocolErrors())
    cfg = config_from_args(args, parser)
    try:
        asyncio.run(serve(cfg))
    except CnfError as exc:
        print(f"{parser.prog}: error: --config {cfg.config_file}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # Worker threads may sit in a backend read (bounded by its timeout); do not wait for them.
    os._exit(0)
