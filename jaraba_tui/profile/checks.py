"""Checks across sections, after the schema validated: references, duplicates, secret rules."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path

from jaraba_tui.profile.errors import ProfileIssue, shown, toml_key
from jaraba_tui.profile.models import Profile, iter_secrets, leaves

#: Fields that name an SSH host of ``[ssh.hosts]``.
SSH_REFERENCES = frozenset({"via", "ssh", "jump", "stats_via", "deploy_ssh"})


def _references(profile: Profile) -> Iterator[tuple[str, str]]:
    """(dotted key, host name) of every field that names an SSH host."""
    for key, field, value in leaves(profile):
        if field in SSH_REFERENCES and isinstance(value, str):
            yield key, value


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean {shown(close[0])}? "
    return ""


def check_references(profile: Profile) -> list[ProfileIssue]:
    hosts = sorted(profile.ssh.hosts)
    issues: list[ProfileIssue] = []
    for key, name in _references(profile):
        if name not in profile.ssh.hosts:
            have = f"defined: {', '.join(hosts)}" if hosts else "no [ssh.hosts] are defined"
            issues.append(
                ProfileIssue(
                    key,
                    f"refers to SSH host {shown(name)}, which is not defined in [ssh.hosts]",
                    f"{_suggest(name, hosts)}define [ssh.hosts.{toml_key(name)}] or use a "
                    f"defined host ({have})",
                )
            )
    for name in hosts:
        seen = [name]
        current = profile.ssh.hosts[name].jump
        while current is not None and current in profile.ssh.hosts:
            if current in seen:
                issues.append(
                    ProfileIssue(
                        f"ssh.hosts.{toml_key(name)}.jump",
                        f"jump hosts form a loop: {' -> '.join([*seen, current])}",
                        "a jump chain must end at a host without `jump`",
                    )
                )
                break
            seen.append(current)
            current = profile.ssh.hosts[current].jump
    return issues


def check_duplicates(profile: Profile) -> list[ProfileIssue]:
    lists: list[tuple[str, list[str]]] = []
    if profile.galera:
        lists.append(("galera.nodes", [n.name for n in profile.galera.nodes]))
    if profile.redis:
        lists.append(("redis.instances", [i.name for i in profile.redis.instances]))
    if profile.sentinel:
        lists.append(("sentinel.instances", [i.name for i in profile.sentinel.instances]))
    issues: list[ProfileIssue] = []
    for key, names in lists:
        first: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in first:
                issues.append(
                    ProfileIssue(
                        f"{key}[{i}].name",
                        f"duplicate name {shown(name)} (already used by {key}[{first[name]}])",
                        "give every entry its own name",
                    )
                )
            else:
                first[name] = i
    return issues


def check_thresholds(profile: Profile) -> list[ProfileIssue]:
    values = dict(profile.thresholds.field_items())
    issues: list[ProfileIssue] = []
    for name, warn in values.items():
        crit_name = name.replace("_warn", "_crit")
        if "_warn" in name and crit_name in values and warn > values[crit_name]:
            issues.append(
                ProfileIssue(
                    f"thresholds.{name}",
                    f"{name} ({warn}) is above {crit_name} ({values[crit_name]})",
                    "make warn <= crit (higher values are worse; disk is percent used)",
                )
            )
    return issues


def check_secret_rules(profile: Profile) -> list[ProfileIssue]:
    issues: list[ProfileIssue] = []
    for key, secret in iter_secrets(profile):
        if secret.has_lab_default and profile.environment != "lab":
            issues.append(
                ProfileIssue(
                    f"{key}.default_for_lab",
                    f'`default_for_lab` is only allowed when environment = "lab" '
                    f"(this profile is {shown(profile.environment)})",
                    f"remove default_for_lab and export {secret.env} instead",
                )
            )
    if profile.is_production:
        for name, host in profile.ssh.hosts.items():
            if host.accept_new_host_key:
                issues.append(
                    ProfileIssue(
                        f"ssh.hosts.{toml_key(name)}.accept_new_host_key",
                        "a production profile never accepts unknown host keys on first use",
                        "pin the key in known_hosts (ssh-keyscan, verified out of band) and "
                        "remove accept_new_host_key",
                    )
                )
    return issues


def bind_secrets(profile: Profile, path: str | None) -> None:
    for key, secret in iter_secrets(profile):
        secret.bind(path=path, key=key, environment=profile.environment)


def check_secrets_available(profile: Profile) -> list[ProfileIssue]:
    """Every ``env`` secret resolvable now (the variable set, or a lab default)."""
    issues: list[ProfileIssue] = []
    for key, secret in iter_secrets(profile):
        problem = secret.problem()
        if problem is not None:
            issues.append(ProfileIssue(key, *problem))
    return issues


def check_local_files(profile: Profile) -> list[ProfileIssue]:
    """SSH key and known_hosts files that exist but cannot be what they claim: a directory,
    a dangling symlink, an unreadable key. A key file that does not exist yet (the lab's,
    before ``lab up``) is reported by the SSH transport when it is used."""
    issues: list[ProfileIssue] = []
    for name, host in profile.ssh.hosts.items():
        for field in ("key_file", "known_hosts"):
            path = getattr(host, field)
            if path is None or not os.path.lexists(path):
                continue
            key = f"ssh.hosts.{toml_key(name)}.{field}"
            if not Path(path).exists():
                problem = f"{shown(path)} is a dangling symbolic link"
            elif not Path(path).is_file():
                problem = f"{shown(path)} is not a regular file (a directory?)"
            elif field == "key_file" and not os.access(path, os.R_OK):
                problem = f"{shown(path)} is not readable"
            else:
                continue
            issues.append(ProfileIssue(key, problem, "give the path of the file itself"))
    return issues
