"""Redis INFO and Sentinel parsers on real captured output, in every reply shape a client
may produce (raw RESP2 text, redis-py's parsed dicts)."""

from __future__ import annotations

import pytest
from redis._parsers.helpers import parse_info as redispy_parse_info

from jaraba_tui.collectors.redis import RedisParseError, info_map, parse_info
from jaraba_tui.collectors.sentinel import (
    SentinelParseError,
    elect_master,
    norm_addr,
    parse_ckquorum,
    parse_master_addr,
    parse_sentinel_masters,
    parse_sentinel_peers,
    parse_sentinel_replicas,
    records,
)
from tests.collectors.captured import load, text


@pytest.mark.parametrize("name", ["redis_6379_info_all.txt", "redis_6379_info.txt"])
def test_master_info(name: str) -> None:
    info = parse_info(text("healthy", name))
    assert info.role == "master"
    assert info.version is not None and info.version.startswith("7.")
    assert len(info.replicas) == 2
    assert {r.address for r in info.replicas} == {"127.0.0.1:6380", "127.0.0.1:6381"}
    assert all(r.state == "online" and r.lag_s is not None for r in info.replicas)
    assert all(r.lag_bytes is not None and r.lag_bytes >= 0 for r in info.replicas)
    assert info.maxmemory == 64 * 1024 * 1024
    assert info.memory_pct is not None and 0 < info.memory_pct < 100
    assert info.rdb_last_bgsave_status == "ok" and info.aof_last_write_status == "ok"
    assert info.connected_clients is not None and info.instantaneous_ops_per_sec is not None


def test_replica_info() -> None:
    info = parse_info(text("healthy", "redis_6380_info_all.txt"))
    assert info.role == "slave"
    assert info.master_address == "127.0.0.1:6379"
    assert info.master_link_status == "up"
    assert info.slave_repl_offset is not None and info.replicas == ()


def test_redispy_parsed_info_gives_the_same_result() -> None:
    for name in ("redis_6379_info_all.txt", "redis_6380_info_all.txt"):
        raw = text("healthy", name)
        assert parse_info(redispy_parse_info(raw)) == parse_info(raw)  # type: ignore[no-untyped-call]


def test_old_master_back_still_claims_master_then_turns_replica() -> None:
    first = parse_info(text("redis_failover/old_master_back", "redis_6379_info_replication_00.txt"))
    last = parse_info(text("redis_failover/old_master_back", "redis_6379_info_replication_19.txt"))
    assert first.role == "master" and first.replicas == ()
    assert last.role == "slave" and last.master_link_status == "down"


@pytest.mark.parametrize("port", [26379, 26380, 26381])
def test_sentinel_healthy(port: int) -> None:
    (m,) = parse_sentinel_masters(load("healthy", f"sentinel_{port}_masters.json"))
    assert m.name == "jaraba-master" and m.address == "127.0.0.1:6379"
    assert m.flags == ("master",) and not (m.s_down or m.o_down or m.failover_in_progress)
    assert m.quorum == 2 and m.num_slaves == 2 and m.num_other_sentinels == 2
    reps = parse_sentinel_replicas(load("healthy", f"sentinel_{port}_replicas.json"))
    assert {r.address for r in reps} == {"127.0.0.1:6380", "127.0.0.1:6381"}
    assert all(r.master_link_status == "ok" and not r.s_down for r in reps)
    peers = parse_sentinel_peers(load("healthy", f"sentinel_{port}_sentinels.json"))
    assert len(peers) == 2 and all(p.runid for p in peers)
    addr = parse_master_addr(load("healthy", f"sentinel_{port}_get_master_addr.json"))
    assert addr == "127.0.0.1:6379"
    q = parse_ckquorum(text("healthy", f"sentinel_{port}_ckquorum.json"))  # a bare string reply
    assert q.ok is True and "3 usable" in q.message


def test_sentinel_after_failover_names_6380_and_flags_the_dead_one() -> None:
    sc = "redis_failover/after_failover"
    addrs = {
        p: parse_master_addr(load(sc, f"sentinel_{p}_get_master_addr.json"))
        for p in (26379, 26380, 26381)
    }
    assert set(addrs.values()) == {"127.0.0.1:6380"}
    reps = parse_sentinel_replicas(load(sc, "sentinel_26379_replicas.json"))
    dead = next(r for r in reps if r.address == "127.0.0.1:6379")
    assert dead.s_down and "disconnected" in dead.flags and dead.master_link_status == "err"
    master, source, votes = elect_master({f"s{p}": a for p, a in addrs.items()}, 3)
    assert (master, source) == ("127.0.0.1:6380", "sentinel-majority")
    assert votes == {"127.0.0.1:6380": ("s26379", "s26380", "s26381")}


def test_flat_resp2_records_and_redispy_master_dict() -> None:
    flat = [["name", "m", "ip", "10.0.0.1", "port", "6379", "flags", "master,o_down"]]
    (m,) = parse_sentinel_masters(flat)
    assert m.o_down and m.address == "10.0.0.1:6379"
    redispy = {"m": {"ip": "10.0.0.1", "port": 6379, "flags": "master", "is_master": True}}
    (m2,) = parse_sentinel_masters(redispy)
    assert m2.name == "m" and m2.port == 6379
    with pytest.raises(SentinelParseError):
        records([["odd", "number", "of"]])
    assert parse_master_addr(None) is None
    assert parse_master_addr(("10.0.0.2", 6380)) == "10.0.0.2:6380"


def test_ckquorum_shapes() -> None:
    assert parse_ckquorum(True).ok is True
    no = parse_ckquorum("NOQUORUM 1 usable Sentinels. Not enough available Sentinels")
    assert no.ok is False
    with pytest.raises(SentinelParseError):
        parse_ckquorum("maybe")


def test_elect_master_minority_and_disagreement() -> None:
    m, src, votes = elect_master({"s1": "a:1", "s2": None, "s3": None}, 3)
    assert (m, src) == ("a:1", "sentinel-minority")
    m, src, votes = elect_master({"s1": "a:1", "s2": "b:2", "s3": "b:2"}, 3)
    assert (m, src) == ("b:2", "sentinel-majority") and len(votes) == 2
    assert elect_master({}, 0) == (None, "none", {})


def test_norm_addr() -> None:
    assert norm_addr("redis://user@Host.Example:6379/0") == "host.example:6379"
    assert norm_addr(" 127.0.0.1:6380 ") == "127.0.0.1:6380"


def test_info_garbage() -> None:
    with pytest.raises(RedisParseError):
        info_map(42)
    with pytest.raises(RedisParseError):
        parse_info("no colon lines here")
