"""Profiles: a TOML file -> a validated, typed :class:`Profile`; secrets resolved late.

``load_profile(NAME|PATH)`` finds ``--profile``'s file (a path; else
``~/.config/jaraba-ops/profiles/NAME.toml``; else the shipped ``profiles/NAME.toml``;
default ``local``), validates it strictly, and raises one :class:`ProfileError` naming the
file, the key and the fix. See ``profiles/local.toml`` for the annotated format.
"""

from jaraba_tui.profile.errors import ProfileError, ProfileIssue
from jaraba_tui.profile.loader import (
    DEFAULT_PROFILE,
    available_profiles,
    load_profile,
    profile_from_mapping,
    resolve_profile_path,
    shipped_profiles_dir,
    user_profiles_dir,
)
from jaraba_tui.profile.models import (
    GaleraConfig,
    GaleraNode,
    HAProxyConfig,
    HAProxyRuntimeConfig,
    HttpService,
    PollConfig,
    Profile,
    ProxySQLConfig,
    RedisConfig,
    RedisInstance,
    SentinelConfig,
    SentinelInstance,
    SshConfig,
    SshHost,
    Thresholds,
)
from jaraba_tui.profile.types import expand_vars, reveal_user

__all__ = [
    "DEFAULT_PROFILE",
    "GaleraConfig",
    "GaleraNode",
    "HAProxyConfig",
    "HAProxyRuntimeConfig",
    "HttpService",
    "PollConfig",
    "Profile",
    "ProfileError",
    "ProfileIssue",
    "ProxySQLConfig",
    "RedisConfig",
    "RedisInstance",
    "SentinelConfig",
    "SentinelInstance",
    "SshConfig",
    "SshHost",
    "Thresholds",
    "available_profiles",
    "expand_vars",
    "load_profile",
    "profile_from_mapping",
    "resolve_profile_path",
    "reveal_user",
    "shipped_profiles_dir",
    "user_profiles_dir",
]
