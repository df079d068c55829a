"""The exact messages of the profile validator, recorded when it was built on pydantic (strict
mode): the schema (jaraba_tui/profile/schema.py) must keep every text, key, fix and the order
of the problems. ``expected_messages.json`` holds them: one per case below (a valid case: its
``dump()``) and one per file of the bad corpus (``{path}`` stands for the file's path).

Re-record (only when a message changes on purpose) with ``python3 tests/profile/test_messages.py
--record``; review the diff of the JSON file.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from jaraba_tui.profile import ProfileError, load_profile, profile_from_mapping
from tests.profile.test_bad_profiles import CORPUS, header  # the bad corpus, its '# k: v' lines

HERE = Path(__file__).parent
EXPECTED_FILE = HERE / "expected_messages.json"

#: Every variable a case refers to: unset, then each case sets its own.
VARIABLES = ("NOPE_NOT_SET_X", "UNSET_VAR_XYZ", "UNSET_XYZ", "R", "MON", "A", "JARABA_LAB_DIR")
ENV = {"HOME": "/home/op", "XDG_STATE_HOME": "/home/op/.local/state"}

B = {"name": "t", "environment": "lab"}
NODE = {"name": "n", "host": "h"}

#: id -> (mapping, check_secrets, extra environment)
CASES: dict[str, tuple[dict[Any, Any], bool, dict[str, str]]] = {
    "order-fields-then-unknown-keys": (
        {"colour": 1, **B, "zz": 2, "proxysql": {"port": 0, "x": 1, "host": "a b"}},
        True,
        {},
    ),
    "seconds-nan-inf-bool-string-huge": (
        {
            **B,
            "poll": {
                "galera": math.nan,
                "proxysql": math.inf,
                "redis": -math.inf,
                "haproxy": True,
                "sentinel": "2",
                "hosts": 2**70,
                "read_timeout": 10**400,
                "connect_timeout": 0,
                "command_timeout": 3600,
            },
        },
        True,
        {},
    ),
    "thresholds-types-and-bounds": (
        {
            **B,
            "thresholds": {
                "disk_crit_pct": 95,
                "galera_recv_queue_warn": 3.0,
                "galera_recv_queue_crit": True,
                "redis_lag_warn_s": 2**70,
                "redis_lag_crit_s": -(2**70),
                "galera_flow_control_warn": math.nan,
                "haproxy_5xx_rate_warn": -0.5,
            },
        },
        True,
        {},
    ),
    "thresholds-warn-above-crit": (
        {
            **B,
            "thresholds": {
                "disk_crit_pct": 95,
                "disk_warn_pct": 96,
                "redis_lag_warn_s": 9,
                "redis_lag_crit_s": 3,
            },
        },
        True,
        {},
    ),
    "wrong-container-types": (
        {
            **B,
            "ssh": 5,
            "galera": [],
            "redis": {"instances": []},
            "sentinel": {"instances": 3},
            "keymap": {"a": 1, "b$": "x"},
            "read_only": 1,
            "description": None,
            "audit_log": None,
        },
        True,
        {},
    ),
    "none-for-tables": (
        {**B, "ssh": None, "poll": None, "galera": None, "thresholds": None},
        True,
        {},
    ),
    "ports": (
        {
            **B,
            "proxysql": {"host": "h", "port": 2**70},
            "redis": {"instances": [{"name": "a", "host": "h", "port": -1}, 5]},
        },
        True,
        {},
    ),
    "table-names-then-values": (
        {
            **B,
            "keymap": {"a$": 1, "b": "x"},
            "ssh": {"hosts": {"h$": {"host": "x y", "zz": 1}, "ok": 5}},
        },
        True,
        {},
    ),
    "runtime-rule-and-a-bad-field": (
        {**B, "haproxy": {"runtime": {"unix": "/x", "port": 3}, "stats_url": 5}},
        True,
        {},
    ),
    "runtime-rule": ({**B, "haproxy": {"runtime": {"unix": "/x", "port": 3}}}, True, {}),
    "runtime-rule-waits-for-its-keys": (
        {**B, "haproxy": {"runtime": {"unix": "/x", "port": 3, "q": 1}}},
        True,
        {},
    ),
    "runtime-host-without-port": ({**B, "haproxy": {"runtime": {"host": "h"}}}, True, {}),
    "runtime-host-with-ssh": (
        {**B, "haproxy": {"runtime": {"host": "h", "port": 1, "ssh": "x"}}},
        True,
        {},
    ),
    "runtime-empty": ({**B, "haproxy": {"runtime": {}}}, True, {}),
    "haproxy-empty": ({**B, "haproxy": {}}, True, {}),
    "checklist-everything-wrong": (
        {
            **B,
            "checklist": {
                "grant_host": "a b",
                "closed_ports": [
                    {"host": "h", "ports": []},
                    {"host": "h", "ports": [0, "1", True, 2**70]},
                    {"ports": 3},
                ],
                "skip": {"x": "a\nb", "y$": 3},
                "tls": {"hostnames": ["a b", 3], "min_days": -1},
                "dns_names": None,
                "ram_target_percent": 101,
            },
        },
        True,
        {},
    ),
    "checklist-types": (
        {
            **B,
            "checklist": {
                "grant_host": 5,
                "dns_names": "x",
                "tls": None,
                "closed_ports": None,
                "skip": None,
            },
        },
        True,
        {},
    ),
    "checklist-users": (
        {
            **B,
            "checklist": {
                "grant_host": "",
                "monitor_user": None,
                "replication_user": {"env": "X", "q": 1},
            },
        },
        True,
        {},
    ),
    "grant-host-final-newline": ({**B, "checklist": {"grant_host": "%\n"}}, True, {}),
    "missing-keys": (
        {
            "galera": {"nodes": [{}]},
            "redis": {},
            "sentinel": {"instances": [{"name": "a", "host": "h"}]},
        },
        True,
        {},
    ),
    "commands-user-password-path": (
        {
            **B,
            "galera": {
                "nodes": [
                    {
                        **NODE,
                        "start_command": "x",
                        "stop_command": [],
                        "bootstrap_command": ["a", 1],
                        "recover_command": ["$(x)"],
                        "password": "lit",
                        "user": 5,
                        "datadir": None,
                    }
                ]
            },
        },
        True,
        {},
    ),
    "urls-ipv6-and-nfkc": (
        {**B, "prometheus": {"url": "http://[::1"}, "grafana_url": "http://\uff41.com"},
        True,
        {},
    ),
    "urls-credentials-scheme-port": (
        {
            **B,
            "prometheus": {"url": "http://u:p@x/"},
            "alertmanager": {"url": "ftp://h"},
            "grafana_url": "http://h:99999",
        },
        True,
        {},
    ),
    "references-and-jump-loop": (
        {
            **B,
            "ssh": {"hosts": {"a": {"host": "h", "jump": "b"}, "b": {"host": "h", "jump": "a"}}},
            "galera": {"nodes": [{**NODE, "via": "zz"}]},
        },
        True,
        {},
    ),
    "local-files": (
        {
            **B,
            "ssh": {
                "hosts": {"a": {"host": "h", "key_file": "/tmp", "known_hosts": "~/kh"}},
            },
        },
        True,
        {},
    ),
    "zero-connect-timeout": (
        {**B, "ssh": {"hosts": {"a": {"host": "h", "connect_timeout": 0}}}},
        True,
        {},
    ),
    "duplicates-and-missing-secret": (
        {
            **B,
            "galera": {"nodes": [{**NODE, "password": {"env": "NOPE_NOT_SET_X"}}, NODE]},
        },
        True,
        {},
    ),
    "missing-secret-unchecked": (
        {**B, "galera": {"nodes": [{**NODE, "password": {"env": "NOPE_NOT_SET_X"}}]}},
        False,
        {},
    ),
    "environment-prod": ({**B, "environment": "prod"}, True, {}),
    "environment-capitalised": ({**B, "environment": "Staging"}, True, {}),
    "environment-int-name-none": ({**B, "environment": 5, "name": None}, True, {}),
    "lab-default-not-public": (
        {
            **B,
            "redis": {
                "instances": [
                    {"name": "r", "host": "h", "password": {"env": "R", "default_for_lab": "x"}}
                ]
            },
        },
        True,
        {},
    ),
    "lab-default-outside-the-lab": (
        {
            "name": "t",
            "environment": "staging",
            "redis": {
                "instances": [
                    {
                        "name": "r",
                        "host": "h",
                        "password": {"env": "R", "default_for_lab": "redis_dev"},
                    }
                ]
            },
        },
        True,
        {"R": "set"},
    ),
    "secret-command-quotes-timeout": (
        {**B, "proxysql": {"host": "h", "password": {"command": "a 'b", "timeout": 0}}},
        True,
        {},
    ),
    "secret-timeout-too-long": (
        {**B, "proxysql": {"host": "h", "password": {"command": "pass x", "timeout": 301}}},
        True,
        {},
    ),
    "secret-env-name-and-user-command": (
        {**B, "proxysql": {"host": "h", "password": {"env": "1x"}, "user": {"command": "x"}}},
        True,
        {},
    ),
    "secret-env-with-lab-default-set": (
        {
            **B,
            "checklist": {"monitor_user": {"env": "MON"}, "dns_names": ["a.b"], "skip": {"x": "y"}},
            "proxysql": {"host": "h", "password": {"env": "A", "default_for_lab": "admin_dev"}},
        },
        True,
        {"MON": "mon"},
    ),
    "key-not-a-string": ({**B, 5: 1}, True, {}),
    "key-empty-and-dotted": ({**B, "": 1, "a.b": {"c": 1}}, True, {}),
    "table-names-empty-and-spaced": (
        {**B, "ssh": {"hosts": {"": {"host": "h"}, "a b": {}}}},
        True,
        {},
    ),
    "path-undefined-variable": ({**B, "audit_log": "${UNSET_VAR_XYZ}/a"}, True, {}),
    "path-metacharacter": ({**B, "audit_log": "${HOME}/a;b"}, True, {}),
    "path-relative": ({**B, "audit_log": "rel"}, True, {}),
    "path-nul": ({**B, "audit_log": "/a\x00"}, True, {}),
    "argv-expansion": (
        {**B, "galera": {"nodes": [{**NODE, "start_command": ["x", "${UNSET_XYZ:-d}", "${"]}]}},
        True,
        {},
    ),
    "accept-new-host-key-in-production": (
        {
            "name": "p",
            "environment": "production",
            "ssh": {"hosts": {"a": {"host": "h", "accept_new_host_key": True}}},
        },
        True,
        {},
    ),
    "valid-everything-else": (
        {
            **B,
            "description": "d",
            "read_only": True,
            "poll": {"galera": 1, "hosts": 0.5},
            "thresholds": {"galera_flow_control_warn": 0, "galera_flow_control_crit": 1},
            "keymap": {"goto-galera": "g"},
            "ssh": {
                "hosts": {
                    "a": {"host": "::1", "port": 22, "user": "op", "jump": "b"},
                    "b": {"host": "h"},
                }
            },
            "haproxy": {"runtime": {"host": "127.0.0.1", "port": 9999, "via": "a"}, "ssh": "b"},
            "checklist": {"closed_ports": [{"host": "h", "ports": [3306, 4444]}]},
        },
        True,
        {},
    ),
}


def _setenv(mp: pytest.MonkeyPatch, extra: dict[str, str]) -> None:
    for name in VARIABLES:
        mp.delenv(name, raising=False)
    for name, value in {**ENV, **extra}.items():
        mp.setenv(name, value)


def case_message(case: str) -> str:
    """The error message, or "OK " and the profile as JSON (what the profile dumps: pydantic's
    ``model_dump(mode="json")`` when recorded)."""
    data, check_secrets, _ = CASES[case]
    try:
        profile = profile_from_mapping(data, path="/case.toml", check_secrets=check_secrets)
    except ProfileError as exc:
        return str(exc)
    return "OK " + json.dumps(profile.dump())


def corpus_message(path: Path, mp: pytest.MonkeyPatch) -> str:
    meta = header(path)
    extra = {"REDIS_PASSWORD": "p", "MYSQL_ROOT_PASSWORD": "p", "X": "p"}
    _setenv(mp, extra)
    for item in meta.get("env", []):
        name, _, value = item.partition("=")
        mp.setenv(name, value)
    for name in meta.get("unset", []):
        mp.delenv(name, raising=False)
    try:
        load_profile(path)
    except ProfileError as exc:
        return str(exc).replace(str(path), "{path}")
    return "OK"


def _expected() -> dict[str, str]:
    loaded: dict[str, str] = json.loads(EXPECTED_FILE.read_text(encoding="utf-8"))
    return loaded


def test_every_case_and_corpus_file_is_recorded() -> None:
    expected = _expected()
    wanted = {f"case:{c}" for c in CASES} | {f"bad:{p.name}" for p in CORPUS}
    assert wanted == set(expected)


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_message(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _setenv(monkeypatch, CASES[case][2])
    assert case_message(case) == _expected()[f"case:{case}"]


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_message(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert corpus_message(path, monkeypatch) == _expected()[f"bad:{path.name}"]


def _record() -> None:  # pragma: no cover (a maintenance tool)
    out: dict[str, str] = {}
    with pytest.MonkeyPatch.context() as mp:
        for case in sorted(CASES):
            _setenv(mp, CASES[case][2])
            out[f"case:{case}"] = case_message(case)
        for path in CORPUS:
            out[f"bad:{path.name}"] = corpus_message(path, mp)
    EXPECTED_FILE.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:] == ["--record"]:
        _record()
