"""The profile's own validator (jaraba_tui/profile/schema.py): its checks and its values."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

from jaraba_tui.profile import Profile, profile_from_mapping
from jaraba_tui.profile.models import PollConfig, SshHost
from jaraba_tui.profile.schema import (
    INVALID,
    FrozenModelError,
    Problem,
    dict_of,
    integer,
    list_of,
    number,
    string,
)
from jaraba_tui.secrets import Secret
from tests.probes import imported_after

PKG = Path(__file__).resolve().parents[2] / "jaraba_tui"


def test_no_module_imports_pydantic() -> None:
    offenders = []
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] in ("pydantic", "pydantic_core") for n in names):
                offenders.append(str(path))
    assert offenders == []


def test_the_profile_layer_loads_without_heavy_libraries() -> None:
    heavy, _ = imported_after(
        "from jaraba_tui.profile import load_profile\nload_profile('local', check_secrets=False)",
        ("pydantic", "textual", "asyncssh", "pymysql", "redis", "httpx"),
    )
    assert heavy == []


def check(chk: object, value: object) -> tuple[object, list[Problem]]:
    errors: list[Problem] = []
    assert callable(chk)
    return chk(value, ("k",), errors), errors


def test_integers_are_strict() -> None:
    port = integer(ge=1, le=65535)
    assert check(port, 22) == (22, [])
    assert check(port, 2**70)[1] == [
        (("k",), "less_than_equal", "Input should be less than or equal to 65535", "")
    ]
    for value in (True, 22.0, "22", None):
        result, errors = check(port, value)
        assert result is INVALID and [e[1] for e in errors] == ["int_type"]


def test_numbers_take_whole_numbers_and_check_nan_against_the_upper_bound_first() -> None:
    seconds = number(gt=0, le=3600)
    result, errors = check(seconds, 3)
    assert result == 3.0 and isinstance(result, float) and errors == []
    assert check(seconds, math.nan)[1][0][1] == "less_than_equal"
    assert check(seconds, -math.inf)[1][0][2] == "Input should be greater than 0"
    for value in (True, "2", 10**400):
        assert check(seconds, value)[1][0][1] == "float_type"


def test_pattern_is_matched_whole() -> None:
    grant = string(pattern=r"^[a-z%]{1,3}$")
    assert check(grant, "%")[1] == []
    for value in ("%\n", "", "abcd"):
        assert check(grant, value)[1][0][1] == "string_pattern_mismatch"


def test_containers_report_every_entry() -> None:
    ports = list_of(integer(ge=1), min_length=1)
    assert check(ports, [])[1][0][2] == "List should have at least 1 item after validation, not 0"
    assert [e[0] for e in check(ports, [0, 1, "x"])[1]] == [("k", 0), ("k", 2)]
    table = dict_of(string(pattern="^[a-z]+$"), integer())
    assert [e[0] for e in check(table, {"A": "x", "b": 1})[1]] == [("k", "A", "[key]"), ("k", "A")]


def test_values_are_frozen_and_compare_by_value() -> None:
    a = profile_from_mapping({"name": "t", "environment": "lab"})
    b = profile_from_mapping({"name": "t", "environment": "lab"})
    assert a == b and hash(a.poll) == hash(b.poll) and a.poll is not b.poll
    with pytest.raises(FrozenModelError):
        a.poll.galera = 1.0  # type: ignore[misc]
    assert a.poll == PollConfig() and PollConfig(galera=1.0) != a.poll
    with pytest.raises(TypeError):
        PollConfig(colour=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        SshHost()  # type: ignore[call-arg]
    assert Profile.field_names()[:3] == ["name", "environment", "description"]
    assert str(a.poll).startswith("galera=2.0 proxysql=2.0")
    assert repr(a.poll).startswith("PollConfig(galera=2.0, proxysql=2.0")


def test_dump_gives_secret_references_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARABA_SCHEMA_PW", "schema-Secret-9")
    monkeypatch.setenv("JARABA_SCHEMA_USER", "schema-user")
    profile = profile_from_mapping(
        {
            "name": "t",
            "environment": "lab",
            "prometheus": {
                "url": "http://127.0.0.1:9090",
                "user": {"env": "JARABA_SCHEMA_USER"},
                "password": {"env": "JARABA_SCHEMA_PW"},
            },
        }
    )
    profile.resolve_secrets()
    assert profile.prometheus is not None and isinstance(profile.prometheus.password, Secret)
    assert profile.dump()["prometheus"]["password"] == "env:JARABA_SCHEMA_PW"
    assert profile.dump()["prometheus"]["user"] == "env:JARABA_SCHEMA_USER"
    for text in (profile.as_json(), repr(profile), str(profile), str(profile.dump())):
        assert "schema-Secret-9" not in text
