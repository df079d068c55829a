"""Hypothesis: whatever TOML-ish data or text it gets, the loader returns a Profile or raises
ProfileError: never another exception, never a traceback in the message."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jaraba_tui.profile import Profile, ProfileError, load_profile, profile_from_mapping
from jaraba_tui.profile.models import (
    GaleraNode,
    HAProxyConfig,
    HAProxyRuntimeConfig,
    PollConfig,
    RedisInstance,
    SshHost,
    Thresholds,
)
from jaraba_tui.resources import profiles_dir

LOCAL = tomllib.loads((profiles_dir() / "local.toml").read_text())

FIELD_NAMES = sorted(
    {
        name
        for model in (
            Profile,
            SshHost,
            GaleraNode,
            HAProxyConfig,
            HAProxyRuntimeConfig,
            RedisInstance,
            PollConfig,
            Thresholds,
        )
        for name in model.field_names()
    }
    | {"hosts", "nodes", "instances", "env", "command", "default_for_lab", "lab", "runtime"}
)

keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "127.0.0.1",
            "lab",
            "node1",
            "${JARABA_LAB_DIR:-/tmp}/x",
            "${",
            "$(id)",
            "/abs/path",
            "~/p",
            "http://127.0.0.1:9090",
            "production",
            "lab",
            "jaraba_root_dev",
        ]
    ),
)
toml_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=25,
)


def load_or_error(data: Any, *, check_secrets: bool = True) -> None:
    try:
        result = profile_from_mapping(data, path="/fuzz.toml", check_secrets=check_secrets)
    except ProfileError as exc:
        message = str(exc)
        assert message.startswith("profile /fuzz.toml")
        assert "Traceback" not in message
        assert exc.issues
        return
    assert isinstance(result, Profile)
    result.as_json()  # serialisable whatever was loaded
    repr(result)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, toml_values, max_size=8), st.booleans())
def test_random_mappings(data: dict[str, Any], check_secrets: bool) -> None:
    load_or_error(data, check_secrets=check_secrets)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


LOCAL_PATHS = [p for p in _paths(LOCAL) if p]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(LOCAL_PATHS),
            st.sampled_from(["set", "delete", "add"]),
            toml_values,
            keys,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_mutations_of_the_local_profile(mutations: list[tuple[Any, str, Any, str]]) -> None:
    data = copy.deepcopy(LOCAL)
    for path, op, value, new_key in mutations:
        parent: Any = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            last = path[-1]
            if op == "set":
                parent[last] = value
            elif op == "delete":
                del parent[last]
            elif isinstance(parent[last], dict):
                parent[last][new_key] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation changed the shape
    load_or_error(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_random_text_files(tmp_path_factory: Any, text: str) -> None:
    path: Path = tmp_path_factory.mktemp("fuzz") / "p.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_profile(path)
    except ProfileError as exc:
        assert "Traceback" not in str(exc)
