"""A read-only console (what `jaraba-ops serve` runs) says an action's key is refused, and
nothing runs: no modal, no HAProxy command, no audit record. Pilot on recorded data with
the real actions framework on a scripted HAProxy runtime."""

from __future__ import annotations

from pathlib import Path

from textual.widgets._toast import Toast

from jaraba_tui.ui.action_screen import ActionScreen
from tests.ui.action_fakes import audit_records, make_ops
from tests.ui.helpers import healthy_updates, make_app


async def test_an_action_key_on_a_read_only_console_is_refused_on_screen(
    tmp_path: Path,
) -> None:
    updates = healthy_updates()
    ops, runtime = make_ops(tmp_path, updates[-1].snapshot, read_only=True)
    app = make_app(updates, tmp_path, ops=ops)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("4")  # HAProxy: d drains the highlighted server elsewhere
        await pilot.pause()
        assert app.desk.refused_key("d") == "haproxy.drain"
        await pilot.press("d")
        assert not any(isinstance(s, ActionScreen) for s in app.screen_stack)
        said = "haproxy.drain REFUSED: this console is read-only"
        for _ in range(50):  # the toast is drawn on the next refresh
            await pilot.pause(0.05)
            if any(said in str(t.render()) for t in app.screen.query(Toast)):
                break
        assert any(said in str(t.render()) for t in app.screen.query(Toast))
        # the palette offers no action either, and start() refuses
        app.start_action("haproxy.drain", "bk_app_green/app3")
        await pilot.pause()
        assert not any(isinstance(s, ActionScreen) for s in app.screen_stack)
    assert runtime.changes == []
    assert audit_records(ops) == []


async def test_a_console_that_may_act_does_not_refuse(tmp_path: Path) -> None:
    updates = healthy_updates()
    ops, _ = make_ops(tmp_path, updates[-1].snapshot)
    app = make_app(updates, tmp_path, ops=ops)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        assert app.desk.refused_key("d") is None
