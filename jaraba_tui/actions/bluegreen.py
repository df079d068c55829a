"""Blue/green switch: gate the idle colour (every server UP, a 2xx smoke request to each),
switch the map at runtime (at once or in canary steps with a health check between),
persist the map file atomically, verify through the frontend. Rollback = switch back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jaraba_tui.actions.base import Action, Assessment
from jaraba_tui.actions.bluegreen_util import (
    backend_counters,
    converge_runtime,
    parse_map_file,
    render_map,
    sample_frontend,
    set_map,
)
from jaraba_tui.actions.haproxy import runtime_checks
from jaraba_tui.actions.registry import register
from jaraba_tui.actions.remote import argv_text, http_status_via, write_file, write_file_command
from jaraba_tui.actions.settings import REF, substitute
from jaraba_tui.actions.types import (
    ActionRef,
    CheckResult,
    ParamSpec,
    Plan,
    Probe,
    RunState,
    Step,
    StepOutcome,
    check,
    failed,
)
from jaraba_tui.collectors.haproxy import parse_map
from jaraba_tui.model.snapshot import StackSnapshot
from jaraba_tui.transport.base import TransportError

if TYPE_CHECKING:
    from jaraba_tui.actions.context import ActionContext
    from jaraba_tui.profile import Profile


@register
class BlueGreenSwitch(Action):
    name = "bluegreen.switch"
    title = "Blue/green switch"
    target_kind = "bluegreen-colour"
    dangerous = True
    key = "b"
    description = "Make a colour live (gated, at once or in canary steps); persisted; verified."
    layers = ("haproxy",)
    params = (
        ParamSpec("steps", "percent-steps", "canary steps ending at 100, e.g. 10,50,100", "100"),
        ParamSpec("deploy", "str", "deploy this ref to the colour first (profile command)", ""),
    )
    verify_timeout = 30.0

    def targets(self, snapshot: StackSnapshot, profile: Profile) -> tuple[str, ...]:
        hp = snapshot.haproxy
        if hp is None or hp.live_colour is None:
            return ()
        return tuple(c for c in ("blue", "green") if c != hp.live_colour)

    async def assess(
        self, ctx: ActionContext, target: str, params: Mapping[str, Any], snapshot: StackSnapshot
    ) -> Assessment:
        bg = ctx.settings.bluegreen
        hp = snapshot.haproxy
        checks = runtime_checks(hp)
        if hp is None or checks[0].blocks:
            return Assessment(tuple(checks), None)
        map_path = hp.map_path
        live = hp.live_colour
        if target not in bg.colours:
            checks.append(failed("colour", f"{target!r} is not one of {', '.join(bg.colours)}"))
        if not map_path or not hp.map_entries:
            checks.append(failed("routing map", "the profile's haproxy.map_file is not loaded"))
            return Assessment(tuple(checks), None)
        checks.append(
            check(
                "live colour",
                live in bg.colours and live != target,
                f"{live} is live; switching to {target}",
                f"live is {live!r}: nothing to switch to {target}",
            )
        )
        canary = hp.canary
        checks.append(
            check(
                "no other canary",
                canary in (None, target),
                f"canary {canary or 'none'}",
                f"a canary to {canary} ({hp.canary_pct}%) is active: finish it first",
            )
        )
        backend = bg.backend(target)
        servers = hp.servers_of(backend)
        down = [f"{s.name} {s.status}" for s in servers if s.state != "UP"]
        checks.append(
            check(
                f"every {target} server UP",
                bool(servers) and not down,
                f"{len(servers)} server(s) of {backend} UP",
                f"{backend}: " + (", ".join(down) if down else "no server"),
            )
        )
        shell = ctx.transports.shell(ctx.profile.haproxy.ssh if ctx.profile.haproxy else None)
        checks.extend(await self._smoke(ctx, shell, servers))
        map_file = ctx.profile.haproxy.map_file if ctx.profile.haproxy else None
        current_file: str | None = None
        try:
            current_file = await shell.read_file(map_file or map_path)
            file_keys = parse_map_file(current_file)
            same = all(file_keys.get(k) == v for k, v in hp.map_entries.items())
            checks.append(
                check(
                    "map file",
                    same,
                    f"{map_file or map_path} on {shell.host} matches the runtime map",
                    f"{map_file or map_path} differs from the runtime map ({file_keys}); "
                    "it will be rewritten",
                    blocking=False,
                )
            )
        except TransportError as exc:
            checks.append(failed("map file", f"cannot read it to persist the switch: {exc}"))
        checks.append(
            check(
                "frontend URL",
                bg.frontend_url is not None,
                f"verification through {bg.frontend_url}",
                "no frontend_url in the profile: verification reads the map only",
                blocking=False,
            )
        )
        ref = str(params.get("deploy") or "")
        if ref:
            checks.append(
                check(
                    "deploy command",
                    bg.deploy_command is not None and bool(REF.match(ref)),
                    f"deploy {ref} with the profile's command",
                    "no deploy_command in the profile, or a suspicious ref",
                )
            )
        if any(c.blocks for c in checks) and current_file is None:
            return Assessment(tuple(checks), None)
        plan = self._plan(ctx, target, live or "?", params, map_path, map_file, current_file or "")
        return Assessment(tuple(checks), plan)

    async def _smoke(self, ctx: ActionContext, shell: Any, servers: Any) -> list[CheckResult]:
        bg = ctx.settings.bluegreen
        bad: list[str] = []
        good: list[str] = []
        for s in servers:
            if not s.addr:
                bad.append(f"{s.name}: no address in show stat")
                continue
            url = f"http://{s.addr}{bg.smoke_path}"
            try:
                code, detail = await http_status_via(
                    shell, url, host_header=bg.smoke_host, timeout=bg.smoke_timeout
                )
            except TransportError as exc:
                code, detail = None, str(exc)
            (good if code is not None and 200 <= code < 300 else bad).append(
                f"{s.name} {url} -> {detail}"
            )
        if not servers:
            return [failed("smoke requests", "no server to smoke-test")]
        return [
            check(
                "smoke requests",
                not bad,
                f"from {shell.host}: " + "; ".join(good),
                f"from {shell.host}: " + "; ".join(bad),
            )
        ]

    def _plan(
        self,
        ctx: ActionContext,
        target: str,
        live: str,
        params: Mapping[str, Any],
        map_path: str,
        map_file: str | None,
        current_file: str,
    ) -> Plan:
        bg = ctx.settings.bluegreen
        rt = ctx.transports.haproxy_runtime()
        hp_cfg = ctx.profile.haproxy
        shell = ctx.transports.shell(hp_cfg.ssh if hp_cfg else None)
        steps_pct: tuple[int, ...] = params["steps"]
        backends = [bg.backend(c) for c in bg.colours]
        steps: list[Step] = []
        ref = str(params.get("deploy") or "")
        if ref and bg.deploy_command:
            argv = substitute(bg.deploy_command, {"colour": target, "ref": ref})
            deploy_shell = ctx.transports.shell(bg.deploy_ssh or (hp_cfg.ssh if hp_cfg else None))

            async def deploy(state: RunState) -> StepOutcome:
                res = await deploy_shell.run(argv, timeout=bg.deploy_timeout)
                tail = (res.stdout + res.stderr).strip().splitlines()[-3:]
                return StepOutcome(
                    res.exit_status == 0, f"exit {res.exit_status}: {' | '.join(tail)}"
                )

            steps.append(
                Step(
                    f"deploy {ref} to {target}",
                    f"ssh {deploy_shell.host}",
                    argv_text(argv),
                    "ssh",
                    bg.deploy_timeout + 10,
                    if_failed=f"{live} is still live; {target} may be half deployed",
                    run=deploy,
                )
            )

        def map_step(key: str, value: str, title: str, if_failed: str) -> Step:
            async def run(state: RunState) -> StepOutcome:
                if "req0" not in state.data:
                    req, err = await backend_counters(rt, backends)
                    state.data.update({"req0": str(req), "err0": str(err)})
                return await set_map(rt, map_path, key, value)

            return Step(
                title,
                rt.endpoint,
                f"set map {map_path} {key} {value}",
                "runtime-api",
                ctx.timeout,
                if_failed,
                run,
            )

        for n, pct in enumerate(steps_pct[:-1]):
            if n == 0:
                steps.append(
                    map_step(
                        "canary",
                        target,
                        f"name {target} the canary colour",
                        f"{live} takes all traffic (canary_pct unchanged)",
                    )
                )
            steps.append(
                map_step(
                    "canary_pct",
                    str(pct),
                    f"send {pct}% of requests to {target}",
                    f"{live} is live; the canary share may be the previous step's",
                )
            )
            steps.append(self._gate(ctx, rt, target, pct, live))
        steps.append(
            map_step(
                "live",
                target,
                f"make {target} live",
                f"{live} is still live" + (" (canary active)" if len(steps_pct) > 1 else ""),
            )
        )
        steps.append(
            map_step(
                "canary",
                "none",
                "clear the canary",
                f"{target} is live; a stale canary entry remains",
            )
        )
        steps.append(
            map_step(
                "canary_pct",
                "0",
                "set the canary share to 0",
                f"{target} is live; canary_pct is not 0 (canary none: no effect)",
            )
        )
        path = map_file or map_path
        values = {"live": target, "canary": "none", "canary_pct": "0"}

        async def persist(state: RunState) -> StepOutcome:
            # A reload re-reads the map file. One that ran since the map steps has put the
            # runtime back on the old colour; one still running (reloads are asynchronous)
            # will do it seconds after this step. So: write the file first (from then on a
            # new reload loads the new colour), then read the runtime map until the same
            # worker has shown the new routing for a while, setting it again where a reload
            # undid it. The step ends with runtime == file, or says exactly what it left.
            before = parse_map(await rt.command(f"show map {map_path}"))
            existing = await shell.read_file(path)
            content = render_map(existing, values, who=ctx.who.name, when=_now(ctx))
            why = await write_file(shell, path, content)
            if why is not None:
                return StepOutcome(False, f"{why}; the runtime map says live {before.get('live')}")
            undone = (
                f"a reload had put the runtime back on live {before.get('live')}; "
                if before.get("live") != target
                else ""
            )
            agreed = await converge_runtime(
                rt,
                map_path,
                values,
                settle=bg.persist_settle,
                timeout=bg.persist_timeout,
                sleep=ctx.sleep,
            )
            if agreed.ok:
                return StepOutcome(True, f"{path} now says live {target}; {undone}{agreed.detail}")
            return StepOutcome(
                False,
                f"{path} now says live {target}, the runtime map does not agree: {undone}"
                f"{agreed.detail}. The next reload applies the file (live {target})",
            )

        steps.append(
            Step(
                f"persist the routing in {path}",
                f"ssh {shell.host}",
                write_file_command(path)
                + f"   # CONTENT: {' / '.join(f'{k} {v}' for k, v in values.items())}; then "
                f"show info + show map {map_path} until one worker shows them for "
                f"{bg.persist_settle:g}s (set map again if a reload undid them; up to "
                f"{bg.persist_timeout:g}s)",
                "ssh",
                3 * ctx.timeout + 10 + bg.persist_timeout,
                if_failed=f"the step says whether {path} was written and what the runtime map "
                f"said: runtime and file must both say live {target} (or both {live}) before "
                "any reload",
                run=persist,
            )
        )
        how = (
            "at once" if len(steps_pct) == 1 else "in steps " + "/".join(map(str, steps_pct)) + "%"
        )
        return Plan(
            action=self.name,
            target=target,
            summary=f"switch live traffic from {live} to {target} {how}",
            steps=tuple(steps),
            blast_radius=(
                f"every request moves from {bg.backend(live)} to {bg.backend(target)}",
                "sessions live in Redis; cookie affinity points at the old colour's servers "
                "and is re-dispatched",
            ),
            expected=(
                f"runtime map and {path}: live {target}, canary none, canary_pct 0",
                f"the frontend answers 2xx from {target}; the 5xx rate does not rise",
            ),
            undo=(f"switch back: bluegreen.switch {live} (instant, gated)",),
            undo_action=ActionRef(self.name, live),
            notes=(f"map file before: {' / '.join(current_file.strip().splitlines()[-3:])}",),
        )

    def _gate(self, ctx: ActionContext, rt: Any, target: str, pct: int, live: str) -> Step:
        bg = ctx.settings.bluegreen
        backend = bg.backend(target)

        async def gate(state: RunState) -> StepOutcome:
            await ctx.sleep(bg.step_pause)
            from jaraba_tui.collectors.haproxy import parse_stat_csv

            rows = [
                r
                for r in parse_stat_csv(await rt.command("show stat")).rows
                if r.kind == "server" and r.proxy == backend
            ]
            down = [f"{r.name} {r.status}" for r in rows if r.state != "UP"]
            if down or not rows:
                return StepOutcome(False, f"{backend}: {', '.join(down) or 'no server'}")
            if bg.frontend_url is None:
                return StepOutcome(True, f"{backend} all UP (no frontend_url to sample)")
            s = await sample_frontend(bg.frontend_url, bg.frontend_samples, bg.smoke_timeout)
            ok = s.errors_5xx == 0 and s.failed == 0
            return StepOutcome(ok, f"{backend} all UP; frontend: {s.describe()}")

        return Step(
            f"health check at {pct}%",
            f"{rt.endpoint} + {bg.frontend_url or 'no frontend'}",
            f"after {bg.step_pause:g}s: show stat ({backend} all UP); "
            + (
                f"{bg.frontend_samples} x GET {bg.frontend_url} (no 5xx)"
                if bg.frontend_url
                else "(no frontend_url: no frontend sample)"
            ),
            "wait",
            bg.step_pause + bg.frontend_samples * bg.smoke_timeout + 2 * ctx.timeout,
            if_failed=f"{pct}% of requests go to {target}; {live} is live. Take the canary "
            f"back: set map canary_pct 0 (or bluegreen.switch {live})",
            run=gate,
        )

    async def verify(
        self, ctx: ActionContext, plan: Plan, params: Mapping[str, Any], state: RunState
    ) -> Probe:
        bg = ctx.settings.bluegreen
        target = plan.target
        rt = ctx.transports.haproxy_runtime()
        hp = ctx.profile.haproxy
        map_path = hp.map_file if hp else None
        runtime_map = parse_map(await rt.command(f"show map {map_path}"))
        shell = ctx.transports.shell(hp.ssh if hp else None)
        file_map = parse_map_file(await shell.read_file(map_path or ""))
        want = {"live": target, "canary": "none", "canary_pct": "0"}
        seen = [f"runtime live={runtime_map.get('live')}", f"file live={file_map.get('live')}"]
        ok = all(runtime_map.get(k) == v and file_map.get(k) == v for k, v in want.items())
        if bg.frontend_url is not None:
            s = await sample_frontend(bg.frontend_url, bg.frontend_samples, bg.smoke_timeout)
            seen.append(f"frontend {s.describe()}")
            served = s.answered > 0 and set(s.colours) == {target}
            ok = ok and served and s.errors_5xx == 0 and s.failed == 0
        req, err = await backend_counters(rt, [bg.backend(c) for c in bg.colours])
        req0, err0 = int(state.data.get("req0", req)), int(state.data.get("err0", err))
        d_req, d_err = req - req0, err - err0
        seen.append(f"5xx since the switch began: {d_err} of {d_req} backend requests")
        ok = ok and (d_err == 0 or d_err <= 0.01 * d_req)
        return Probe(ok, "; ".join(seen))


def _now(ctx: ActionContext) -> str:
    from jaraba_tui.actions.audit import iso

    return iso(ctx.clock())
