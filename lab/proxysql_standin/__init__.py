"""A ProxySQL 2.x stand-in for the jaraba lab.

Debian does not package ProxySQL. When no real ``proxysql`` binary is on PATH the lab starts
this stand-in instead: it speaks the MySQL protocol on an admin port and a traffic port, keeps
ProxySQL's admin tables (in SQLite, as ProxySQL does) with their LOAD/SAVE semantics, runs a
Galera monitor that places nodes in the writer/backup-writer/reader/offline hostgroups the way
ProxySQL's ``mysql_galera_hostgroups`` support does, forwards application traffic to the
backends, and serves Percona proxysql_exporter style metrics.

It is labelled as a stand-in everywhere a client can look (see README.md in this folder):
``SELECT @@version_comment``, ``global_variables`` row ``admin-version`` and the
``proxysql_standin_info`` metric.
"""

from __future__ import annotations

#: What ``SELECT @@version`` and ``admin-version`` return. Real ProxySQL returns e.g.
#: ``2.5.5-10-g195bd70``; the suffix marks the stand-in while the ``2.5.5`` prefix keeps
#: version parsing in clients working.
STANDIN_VERSION = "2.5.5-jaraba-standin"

#: What ``SELECT @@version_comment`` returns (real ProxySQL: ``(ProxySQL Admin Module)``).
VERSION_COMMENT = "(ProxySQL stand-in for the jaraba lab)"

#: A client may treat a server as the stand-in when ``admin-version`` contains this marker.
STANDIN_MARKER = "jaraba-standin"

__all__ = ["STANDIN_MARKER", "STANDIN_VERSION", "VERSION_COMMENT"]
