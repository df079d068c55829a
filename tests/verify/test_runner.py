"""The runner, the result types, rendering, JSON and the CLI entry: no lab needed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from jaraba_tui.profile import Profile, ProfileError, profile_from_mapping
from jaraba_tui.transport.factory import Transports
from jaraba_tui.verify import ITEM_IDS, ITEMS, Checklist, ItemSpec, Status, plan, run_checklist
from jaraba_tui.verify.cli import main
from jaraba_tui.verify.context import Context
from jaraba_tui.verify.model import Outcome, failed, passed
from jaraba_tui.verify.render import render_text, to_json
from jaraba_tui.verify.runner import run_all

FAST = {"connect_timeout": 0.2, "read_timeout": 0.2, "command_timeout": 0.2}


def profile(**extra: Any) -> Profile:
    data: dict[str, Any] = {"name": "t", "environment": "lab", "poll": FAST}
    data.update(extra)
    return profile_from_mapping(data)


def spec(item_id: str, check: Any, *, critical: bool = False) -> ItemSpec:
    return ItemSpec(item_id, "post", item_id.title(), "seed line", check, critical=critical)


async def collect(p: Profile, specs: list[ItemSpec]) -> list[Any]:
    async with Transports(p) as tr:
        return [r async for r in run_checklist(p, tr, items=specs)]


async def test_results_stream_as_items_finish() -> None:
    async def slow(ctx: Context) -> Outcome:
        await asyncio.sleep(0.3)
        return passed("slow done")

    async def fast(ctx: Context) -> Outcome:
        return passed("fast done", ["seen"])

    results = await collect(profile(), [spec("slow", slow), spec("fast", fast)])
    assert [r.id for r in results] == ["fast", "slow"]
    assert results[0].evidence == ("seen",) and results[0].status is Status.PASSED


async def test_a_hung_item_times_out_and_a_crash_is_a_failure() -> None:
    async def hang(ctx: Context) -> Outcome:
        await asyncio.sleep(60)
        raise AssertionError("not reached")

    async def crash(ctx: Context) -> Outcome:
        raise RuntimeError("boom")

    results = {
        r.id: r for r in await collect(profile(), [spec("hang", hang), spec("crash", crash)])
    }
    assert results["hang"].status is Status.FAILED
    assert results["hang"].summary.startswith("no result within")
    assert results["crash"].status is Status.FAILED
    assert results["crash"].summary == "could not check: RuntimeError: boom"


async def test_closing_the_stream_early_cancels_the_rest() -> None:
    cancelled = asyncio.Event()

    async def forever(ctx: Context) -> Outcome:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return passed("no")

    async def quick(ctx: Context) -> Outcome:
        return passed("yes")

    p = profile()
    async with Transports(p) as tr:
        stream = run_checklist(p, tr, items=[spec("forever", forever), spec("quick", quick)])
        first = await anext(stream)
        await stream.aclose()
    assert first.id == "quick" and cancelled.is_set()


async def test_skip_table_gives_the_reason_but_never_skips_a_critical_item_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def bad(ctx: Context) -> Outcome:
        return failed("still checked")

    lab = profile(checklist={"skip": {"x": "not here", "c": "not here either"}})
    got = {r.id: r for r in await collect(lab, [spec("x", bad), spec("c", bad, critical=True)])}
    assert got["x"].status is Status.SKIPPED
    assert got["x"].summary == "not here ([checklist.skip] of the profile)"
    assert got["c"].status is Status.SKIPPED
    prod = profile(environment="production", checklist={"skip": {"c": "please"}})
    (res,) = await collect(prod, [spec("c", bad, critical=True)])
    assert res.status is Status.FAILED and res.mark == "✗ FAILED (critical)"
    assert "never skipped in production" in res.evidence[0]


def test_unknown_skip_ids_are_a_profile_error() -> None:
    with pytest.raises(ProfileError) as exc:
        plan(profile(checklist={"skip": {"firewall": "typo"}}))
    assert exc.value.key == "checklist.skip.firewall"
    assert "firewall-closed-ports" in exc.value.fix


def test_plan_orders_and_filters_by_phase() -> None:
    p = profile()
    assert [s.id for s in plan(p)] == list(ITEM_IDS)
    assert {s.phase for s in plan(p, "pre")} == {"pre"}
    assert plan(p, "post")[0].id == "galera-cluster"
    assert len(ITEMS) == len(set(ITEM_IDS)) == 15


async def test_an_empty_profile_skips_everything_with_reasons() -> None:
    checklist = await run_all(profile())
    assert checklist.exit_code == 0 and checklist.skipped == 15
    for item in checklist.items:
        assert item.summary, item.id
    assert checklist.item("galera-cluster").summary == "the profile has no [galera] section"


def checklist_of(*statuses: Status) -> Checklist:
    from jaraba_tui.verify.model import ItemResult

    items = tuple(
        ItemResult(f"i{n}", "pre", f"Item {n}", "seed", n == 0, s, f"summary {n}", ("ev",), 1.0)
        for n, s in enumerate(statuses)
    )
    return Checklist("local", "lab", "all", 100.0, 101.5, items)


def test_summary_exit_code_and_json_schema() -> None:
    c = checklist_of(Status.FAILED, Status.PASSED, Status.SKIPPED, Status.PASSED)
    assert c.summary == "2 passed, 1 failed, 1 skipped" and c.exit_code == 1
    assert checklist_of(Status.PASSED, Status.SKIPPED).exit_code == 0
    doc = json.loads(to_json(c))
    assert set(doc) == {
        "verify_version", "profile", "environment", "which", "started_at", "finished_at",
        "elapsed_ms", "summary", "ok", "exit_code", "items",
    }  # fmt: skip
    assert doc["summary"] == {"passed": 2, "failed": 1, "skipped": 1, "text": c.summary}
    assert set(doc["items"][0]) == {
        "id", "phase", "title", "seed", "critical", "status", "summary", "evidence", "elapsed_ms",
    }  # fmt: skip
    assert doc["items"][0]["status"] == "failed" and doc["elapsed_ms"] == 1500.0


def test_text_marks_are_symbol_and_word() -> None:
    text = render_text(checklist_of(Status.FAILED, Status.PASSED, Status.SKIPPED))
    assert "✗ FAILED (critical)" in text and "✓ PASSED" in text and "– SKIPPED" in text
    assert text.rstrip().endswith("1 passed, 1 failed, 1 skipped")
    assert "\x1b[" not in text  # no colour codes when not asked


def test_main_exit_codes(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    assert main(["--pre", "--post"], profile_name="local") == 2
    assert main([], profile_name=str(tmp_path / "missing.toml")) == 2
    assert "file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "b"\nenvironment = "lab"\n[checklist.skip]\nnope = "x"\n')
    assert main(["--json"], profile_name=str(bad)) == 2
    assert "checklist.skip.nope" in capsys.readouterr().err
    empty = tmp_path / "empty.toml"
    empty.write_text('name = "e"\nenvironment = "lab"\n')
    assert main(["--json", "--post"], profile_name=str(empty)) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["which"] == "post" and doc["summary"]["skipped"] == 7


def test_json_matches_the_documented_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from jaraba_tui.verify.schema import VERIFY_SCHEMA

    jsonschema.Draft202012Validator.check_schema(VERIFY_SCHEMA)
    doc = json.loads(to_json(checklist_of(Status.FAILED, Status.PASSED, Status.SKIPPED)))
    jsonschema.validate(doc, VERIFY_SCHEMA)
    doc["items"][0]["status"] = "warning"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, VERIFY_SCHEMA)


def test_the_cli_side_imports_no_network_library() -> None:
    from tests.probes import imported_after

    heavy, _ = imported_after(
        "from jaraba_tui.verify.cli import add_arguments, build_parser\nbuild_parser()",
        ("textual", "asyncssh", "pymysql", "redis", "httpx", "jaraba_tui.profile"),
    )
    assert heavy == []
