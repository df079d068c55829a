"""Query routing by ``runtime_mysql_query_rules``, the ProxySQL way (a useful subset).

Active rules are evaluated in ``rule_id`` order within the current ``flagIN`` (starting at 0).
A rule matches when its ``username`` and ``schemaname`` (if set) equal the session's and its
``match_digest`` (tested against the query digest) and ``match_pattern`` (tested against the
query text, inverted by ``negate_match_pattern``) regular expressions match, with
``re_modifiers`` CASELESS. A matching rule sets ``destination_hostgroup``, may answer with ``error_msg``, moves to
``flagOUT`` and stops the evaluation when ``apply`` is 1. Without a destination the query goes to
the user's ``default_hostgroup``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lab.proxysql_standin.stats import digest_text


@dataclass(frozen=True)
class Route:
    hostgroup: int | None
    error_msg: str | None = None
    rule_id: int | None = None


@dataclass(frozen=True)
class _Rule:
    rule_id: int
    username: str | None
    schemaname: str | None
    flag_in: int
    flag_out: int | None
    digest: re.Pattern[str] | None
    pattern: re.Pattern[str] | None
    negate: bool
    destination: int | None
    error_msg: str | None
    apply: bool


def _compile(expr: Any, modifiers: Any) -> re.Pattern[str] | None:
    if expr is None or expr == "":
        return None
    flags = re.IGNORECASE if "CASELESS" in str(modifiers or "CASELESS").upper() else 0
    try:
        return re.compile(str(expr), flags)
    except re.error:
        return re.compile(r"(?!)")  # an invalid pattern never matches, as in ProxySQL


def _opt_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


class Router:
    """Compiles the runtime rules once per LOAD and routes queries with them."""

    def __init__(self) -> None:
        self._source: Sequence[dict[str, Any]] | None = None
        self._rules: list[_Rule] = []

    def _compiled(self, rules: Sequence[dict[str, Any]]) -> list[_Rule]:
        if rules is not self._source:
            self._source = rules
            self._rules = [
                _Rule(
                    rule_id=int(r["rule_id"]),
                    username=r.get("username"),
                    schemaname=r.get("schemaname"),
                    flag_in=int(r.get("flagIN") or 0),
                    flag_out=_opt_int(r.get("flagOUT")),
                    digest=_compile(r.get("match_digest"), r.get("re_modifiers")),
                    pattern=_compile(r.get("match_pattern"), r.get("re_modifiers")),
                    negate=bool(r.get("negate_match_pattern")),
                    destination=_opt_int(r.get("destination_hostgroup")),
                    error_msg=r.get("error_msg"),
                    apply=bool(r.get("apply")),
                )
                for r in sorted(rules, key=lambda r: int(r["rule_id"]))
                if int(r.get("active") or 0) == 1
            ]
        return self._rules

    def route(
        self, rules: Sequence[dict[str, Any]], *, user: str, schema: str | None, sql: str
    ) -> Route:
        flag = 0
        destination: int | None = None
        error: str | None = None
        last_rule: int | None = None
        text = sql.strip()
        digest: str | None = None
        for rule in self._compiled(rules):
            if rule.flag_in != flag:
                continue
            if rule.username is not None and rule.username != user:
                continue
            if rule.schemaname is not None and rule.schemaname != schema:
                continue
            if rule.digest is not None:
                digest = digest if digest is not None else digest_text(text)
                if rule.digest.search(digest) is None:
                    continue
            if rule.pattern is not None and (rule.pattern.search(text) is None) != rule.negate:
                continue
            last_rule = rule.rule_id
            if rule.destination is not None:
                destination = rule.destination
            if rule.error_msg:
                error = rule.error_msg
            if rule.flag_out is not None:
                flag = rule.flag_out
            if rule.apply:
                break
        return Route(destination, error, last_rule)
