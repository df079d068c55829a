"""Thresholds for the health rules. Defaults are sane for the seed's stack; the profile
overrides any of them (``Thresholds(**profile_section)``)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    # Galera
    galera_flow_control_warn: float = 0.1  # fraction of time paused
    galera_flow_control_crit: float = 0.5
    galera_recv_queue_warn: int = 10
    galera_recv_queue_crit: int = 100
    galera_send_queue_warn: int = 10
    # Disk of a Galera datadir and of any host filesystem (% used)
    disk_warn_pct: float = 80.0
    disk_crit_pct: float = 90.0
    # ProxySQL
    proxysql_latency_warn_us: int = 100_000
    # HAProxy: 5xx responses per second per backend (needs two polls)
    haproxy_5xx_rate_warn: float = 1.0
    haproxy_5xx_rate_crit: float = 10.0
    # Redis
    redis_lag_warn_s: int = 10
    redis_lag_crit_s: int = 30
    redis_lag_warn_bytes: int = 10 * 1024 * 1024
    redis_memory_warn_pct: float = 85.0
    redis_memory_crit_pct: float = 95.0
    # Hosts
    host_load_per_cpu_warn: float = 1.5
    host_load_per_cpu_crit: float = 3.0
    host_memory_warn_pct: float = 90.0
    host_memory_crit_pct: float = 97.0

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Thresholds:
        """Build from a profile section; unknown keys are an error naming the key."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown threshold(s): {', '.join(unknown)}")
        return cls(**values)
