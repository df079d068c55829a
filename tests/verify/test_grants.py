"""SHOW GRANTS parsing and the seed's grant requirements (real MariaDB 10.11 lines)."""

from __future__ import annotations

import pytest

from jaraba_tui.verify import grants

MONITOR = (
    "GRANT USAGE ON *.* TO `monitor`@`%` IDENTIFIED BY PASSWORD "
    "'*715D1873F71DCF9E9778BF46BE0B9BB423985A65'"
)
REPL = (
    "GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO `repl`@`%` "
    "IDENTIFIED BY PASSWORD '*2C40C2A5D98D35DF414D69580F0E4F51FB986BA1'"
)
ROOT = (
    "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` IDENTIFIED VIA "
    "mysql_native_password USING '*81F5E21E35407D884A6CD4A731AEBFB6AF209E1B' OR "
    "unix_socket WITH GRANT OPTION"
)


def test_password_hashes_never_survive() -> None:
    for line in (MONITOR, REPL, ROOT):
        text = grants.parse_grant(line).text
        assert "*715D" not in text and "*2C40" not in text and "*81F5" not in text
        assert "IDENTIFIED" not in text
    assert grants.strip_credentials(MONITOR) == "GRANT USAGE ON *.* TO `monitor`@`%`"
    assert grants.strip_credentials(ROOT).endswith("`root`@`localhost` WITH GRANT OPTION")


def test_an_unusual_identified_clause_still_hides_quoted_strings() -> None:
    odd = "GRANT USAGE ON *.* TO 'x'@'%' IDENTIFIED BY 'plain' REQUIRE SSL"
    assert "plain" not in grants.strip_credentials(odd)


def test_parse_global_and_database_grants() -> None:
    g = grants.parse_grant(REPL)
    assert g.is_global and g.privileges == {"RELOAD", "PROCESS", "LOCK TABLES", "BINLOG MONITOR"}
    db = grants.parse_grant("GRANT SELECT, INSERT ON `drupal`.* TO `drupal`@`%`")
    assert not db.is_global and db.on == "`drupal`.*"
    col = grants.parse_grant("GRANT SELECT (`a`, `b`), UPDATE (`c`) ON `d`.`t` TO `u`@`%`")
    assert col.privileges == {"SELECT", "UPDATE"}
    root = grants.parse_grant(ROOT)
    assert root.privileges == {"ALL PRIVILEGES"} and root.grant_option
    proxy = grants.parse_grant("GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION")
    assert proxy.privileges == {"PROXY"} and not proxy.is_global
    role = grants.parse_grant("GRANT `ops_role` TO `alice`@`%`")
    assert role.on is None and role.roles == ("`ops_role`",)
    with pytest.raises(grants.GrantParseError):
        grants.parse_grant("REVOKE ALL ON *.* FROM x")


def test_replication_client_is_binlog_monitor_since_mariadb_10_5() -> None:
    parsed = [grants.parse_grant(REPL)]
    assert grants.missing(grants.REPLICATION_PRIVILEGES, parsed) == []
    assert "REPLICATION CLIENT (as BINLOG MONITOR)" in grants.describe(
        grants.REPLICATION_PRIVILEGES, parsed
    )
    old_name = [grants.parse_grant("GRANT RELOAD, PROCESS, REPLICATION CLIENT ON *.* TO r@'%'")]
    assert grants.missing(grants.REPLICATION_PRIVILEGES, old_name) == ["LOCK TABLES"]


def test_all_privileges_cover_everything_and_database_grants_do_not_count() -> None:
    assert grants.missing(grants.REPLICATION_PRIVILEGES, [grants.parse_grant(ROOT)]) == []
    db_only = [
        grants.parse_grant("GRANT USAGE ON *.* TO `repl`@`%`"),
        grants.parse_grant("GRANT RELOAD, PROCESS, LOCK TABLES ON `drupal`.* TO `repl`@`%`"),
    ]
    assert grants.missing(grants.REPLICATION_PRIVILEGES, db_only) == list(
        grants.REPLICATION_PRIVILEGES
    )


def test_usage_means_the_account_exists() -> None:
    assert grants.missing(["USAGE"], [grants.parse_grant(MONITOR)]) == []
    assert grants.missing(["USAGE"], []) == ["USAGE"]
    assert grants.extra_privileges(["USAGE"], [grants.parse_grant(REPL)]) == [
        "BINLOG MONITOR",
        "LOCK TABLES",
        "PROCESS",
        "RELOAD",
    ]


def test_grant_lines_from_rows() -> None:
    rows: list[dict[str, object]] = [
        {"Grants for repl@%": REPL},
        {"Grants for repl@%": REPL.encode()},
    ]
    assert grants.grant_lines(rows) == [REPL, REPL]
    assert len(grants.parse_grants(rows)) == 2
