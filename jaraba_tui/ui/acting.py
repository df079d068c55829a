"""The console's side of guarded actions, the checklist and the audit feed: the
:class:`ActionDesk` a :class:`jaraba_tui.ui.app.JarabaApp` owns (its keys, ``check_action``
and palette delegate here).

- An action key works (and shows in the footer) only on the pane whose rows are its
  targets, with a target it applies to now highlighted, and never under read-only
  (:meth:`check_action`). The palette lists one entry per applicable target.
- :meth:`start_action` pauses the action's layers, opens the confirmation modal, and on
  close resumes them and polls them at once (the fresh poll that shows the effect).
- The audit log is tailed every ``audit_interval`` seconds in a thread (one read in flight
  at most): its started/step/finished records join the timeline, the lock's holder (and
  how far their run is) shows in the header and its changes (taken, released, stale) in
  the timeline, whoever on this bastion wrote them (:class:`PairingFeed`).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from jaraba_tui.ui.commands import ACTION_COMMANDS
from jaraba_tui.ui.widgets.pane import LayerPane

# The actions' machinery (their registry, the confirmation modal, the audit feed) is
# imported once a profile to act on is attached, not before the console's first frame
# (issue 6, start-up): a console without one (before the actions attach, a replay) never
# needs it.
if TYPE_CHECKING:
    from jaraba_tui.ui.action_screen import ActionResult
    from jaraba_tui.ui.app import JarabaApp
    from jaraba_tui.ui.audit_feed import AuditTail, PairingFeed
    from jaraba_tui.ui.ops import LockState

#: Target kinds that are not a row: the pane's subject (the idle colour, the master name,
#: the cluster). The action applies to its one available target.
ROWLESS = frozenset({"bluegreen-colour", "sentinel-master", "galera-cluster"})

_PANE_OF = {c.capability: c.pane for c in ACTION_COMMANDS}


class ActionDesk:
    def __init__(self, app: JarabaApp, audit_interval: float) -> None:
        self.app = app
        self.ops = app.ops
        self.audit_interval = audit_interval
        self.audit_tail: AuditTail | None = None
        self.pairing: PairingFeed | None = None
        if self.ops is not None:
            from jaraba_tui.ui.audit_feed import AuditTail, PairingFeed, action_panes

            self.audit_tail = AuditTail(self.ops.audit_path)
            self.pairing = PairingFeed(self.ops.profile.name, action_panes(), socket.gethostname())
        self.lock_badge: str | None = None
        self._audit_busy = False
        self._last_targets: Mapping[str, tuple[str, ...]] = {}

    @property
    def can_act(self) -> bool:
        """Actions are offered: a profile to act on, and not read-only."""
        return self.ops is not None and not self.app.read_only

    # -- where an action applies -------------------------------------------------------------
    def targets(self, action: str) -> tuple[str, ...]:
        """The targets ``action`` applies to in the latest poll (empty when read-only)."""
        latest = self.app.latest
        if not self.can_act or self.ops is None or latest is None:
            return ()
        return tuple(self.ops.targets(latest.snapshot).get(action, ()))

    def targets_changed(self) -> bool:
        """Did the latest poll change where actions apply? (Then the footer is redrawn;
        not on every poll.)"""
        latest = self.app.latest
        if not self.can_act or self.ops is None or latest is None:
            return False
        now = self.ops.targets(latest.snapshot)
        changed = now != self._last_targets
        self._last_targets = now
        return changed

    def guard_target(self, action: str) -> str | None:
        """The target an action key would act on now, or None (key hidden and inactive)."""
        app = self.app
        if not self.can_act or len(app.screen_stack) > 1:
            return None
        if _PANE_OF.get(action) != app.current_pane:
            return None
        targets = self.targets(action)
        if not targets:
            return None
        from jaraba_tui.actions.registry import get_action

        kind = get_action(action).target_kind
        if kind in ROWLESS:
            return targets[0]
        pane = app.current()
        chosen = pane.selected_target(kind) if isinstance(pane, LayerPane) else None
        return chosen if chosen in targets else None

    def check(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "guarded":
            return bool(parameters) and self.guard_target(str(parameters[0])) is not None
        if action == "checklist":
            return self.ops is not None and len(self.app.screen_stack) == 1
        return True

    def refused_key(self, key: str) -> str | None:
        """Read-only with a profile (``--read-only``, ``serve``): the action whose key
        ``key`` is on the current pane, so the console can say it is refused (the key is not
        bound there: nothing runs). None otherwise."""
        app = self.app
        if self.ops is None or not app.read_only or len(app.screen_stack) > 1:
            return None
        for cmd in ACTION_COMMANDS:
            if cmd.pane != app.current_pane or cmd.key is None:
                continue
            keys = app.user_keymap.get(cmd.id, cmd.key)
            if key in (k.strip() for k in keys.split(",")):
                return cmd.capability
        return None

    def say_refused(self, action: str) -> None:
        self.app.notify(
            f"{action} REFUSED: this console is read-only; it cannot act",
            title="read-only",
            severity="error",
            timeout=8,
        )

    # -- running one -------------------------------------------------------------------------
    def key_pressed(self, action: str) -> None:
        target = self.guard_target(action)
        if target is None:
            self.app.notify(f"{action}: no applicable target is highlighted here", timeout=3)
            return
        self.start(action, target)

    def start(self, action: str, target: str, params: dict[str, object] | None = None) -> None:
        """Open the confirmation modal for ``action`` on ``target`` (keys, palette, undo)."""
        app = self.app
        if self.ops is None or not self.can_act:
            app.notify("read-only: this console offers no action", severity="warning")
            return
        from jaraba_tui.actions.registry import get_action
        from jaraba_tui.ui.action_screen import ActionScreen

        if any(isinstance(s, ActionScreen) for s in app.screen_stack):
            return
        layers = get_action(action).layers
        for layer in layers:
            app.pause_layer(layer)
        screen = ActionScreen(self.ops, action, target, params, palette=app.palette)
        app.push_screen(screen, partial(self._closed, layers))

    def _closed(self, layers: Sequence[str], result: ActionResult | None) -> None:
        app = self.app
        for layer in layers:
            app.resume_layer(layer)
            if result is not None and result.executed and app.source is not None:
                app.source.refresh_now(layer)  # a fresh poll shows the effect
        self.poll_audit()
        app.refresh_bindings()
        if result is not None and result.undo is not None:
            ref = result.undo
            app.call_later(self.start, ref.action, ref.target, dict(ref.params))

    def open_checklist(self) -> None:
        if self.ops is None:
            self.app.notify("the checklist needs a profile (not available in a replay)")
            return
        from jaraba_tui.ui.checklist import ChecklistScreen

        self.app.push_screen(ChecklistScreen(self.ops.checklist, clock=self.app.clock))

    # -- the audit log and the lock ----------------------------------------------------------
    def start_feed(self) -> None:
        if self.ops is None:
            return
        self.app.set_interval(self.audit_interval, self.poll_audit)
        self.poll_audit()

    def poll_audit(self) -> None:
        """Read what was appended to the audit log, and the lock (skipped while a read is
        still in flight: a slow shared filesystem never piles reads up)."""
        if self.ops is None or self._audit_busy:
            return
        self._audit_busy = True
        self.app.run_worker(
            self._read_audit, thread=True, name="audit-feed", group="audit", exit_on_error=False
        )

    def _read_audit(self) -> None:
        assert self.ops is not None and self.audit_tail is not None
        try:
            records = self.audit_tail.read_new()
            lock = self.ops.lock_state()
        except Exception as exc:
            self.app.call_from_thread(self._audit_done, [], None, f"{type(exc).__name__}: {exc}")
            return
        self.app.call_from_thread(self._audit_done, records, lock, None)

    def _audit_done(
        self, records: list[dict[str, Any]], lock: LockState | None, error: str | None
    ) -> None:
        self._audit_busy = False
        app = self.app
        if error is not None:
            app.notify(f"audit log unreadable: {error}", severity="warning", timeout=5)
            return
        assert self.pairing is not None
        now = app.clock()
        entries = self.pairing.records(records, now=now)
        if lock is not None:
            entries += self.pairing.lock_changes(lock, now)
        if entries:
            app.add_timeline_entries(entries)
        badge = self.pairing.badge(lock) if lock is not None else None
        if badge != self.lock_badge:
            self.lock_badge = badge
            app.redraw_chrome()
