"""`jaraba-ops serve` in headless Chromium (Debian's chromium package, driven by
playwright with ``executable_path``; playwright's own browsers are never downloaded).

The page shows the live overview of the lab (read from xterm.js's own buffer, the text the
page displays); an action key pressed in the page travels over the websocket to the served
console, which says it is refused, and nothing runs: the audit log is unchanged, the lab's
HAProxy servers are unchanged, the console process runs with --read-only. A websocket from
another site's page is refused. The served HTML carries no secret.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.actions.haproxy_lab import states
from tests.labutil import REPO, require_lab
from tests.serve.served import WS_UPGRADE, serving, wait_for

pytestmark = pytest.mark.lab

CHROMIUM = "/usr/bin/chromium"

#: Captures the page's xterm.js Terminal when textual.js assigns ``this.terminal = new
#: Terminal(...)`` (an own property does not exist yet, so the assignment reaches this
#: setter), so the test can read the rows xterm.js displays (it draws on a canvas).
CAPTURE_TERMINAL = """
Object.defineProperty(Object.prototype, 'terminal', {
  configurable: true,
  set(value) {
    Object.defineProperty(this, 'terminal', {value, writable: true, configurable: true,
                                             enumerable: true});
    if (value && value.buffer) { window.__terminals = (window.__terminals || []).concat([value]); }
  },
});
"""

SCREEN_TEXT = """
() => {
  const t = (window.__terminals || [])[0];
  if (!t) return '';
  const b = t.buffer.active, rows = [];
  for (let y = 0; y < t.rows; y++) {
    const line = b.getLine(b.viewportY + y);
    rows.push(line ? line.translateToString(true) : '');
  }
  return rows.join('\\n');
}
"""


def need_browser() -> Any:
    """playwright and Debian's chromium: skip without them, except under `make test`
    (JARABA_REQUIRE_LAB=1), where CI installs both and a skip would hide a failure."""
    missing = []
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")):
        missing.append("Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("playwright (pip install -e '.[dev]')")
        sync_playwright = None
    if missing:
        reason = "needs " + " and ".join(missing)
        if os.environ.get("JARABA_REQUIRE_LAB") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """`jaraba-ops serve` on a free loopback port, on the lab profile with its audit log in
    this test's directory (so "unchanged" is this test's own observation)."""
    text = (REPO / "profiles" / "local.toml").read_text()
    audit = tmp_path / "audit.log"
    profile = tmp_path / "local.toml"
    profile.write_text(
        "\n".join(
            f'audit_log = "{audit}"' if ln.startswith("audit_log") else ln
            for ln in text.splitlines()
        )
        + "\n"
    )
    with serving("--profile", str(profile), log=tmp_path / "serve.log") as (url, proc):
        yield url, audit, proc


def children_cmdlines(pid: int) -> list[str]:
    out = subprocess.run(
        ["ps", "-o", "args=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [ln for ln in out.stdout.splitlines() if ln.strip()]


def test_the_browser_shows_the_overview_and_an_action_is_refused(
    served: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    require_lab(9999, 8404, 3307)
    sync_playwright = need_browser()
    url, audit, proc = served
    before = {c: states(f"bk_app_{c}") for c in ("blue", "green")}

    html = httpx.get(url + "/", timeout=5).text
    assert "jaraba-ops local (read-only)" in html
    for secret in ("redis_dev", "admin_dev", "root_dev", "password"):
        assert secret not in html.lower()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.add_init_script(CAPTURE_TERMINAL)
            page.goto(url + "/")

            def screen() -> str:
                return str(page.evaluate(SCREEN_TEXT))

            def shows(*words: str) -> Callable[[], bool]:
                return lambda: all(w in screen() for w in words)

            overview = ("READ-ONLY", "Overview", "Galera", "Synced", "LIVE", "HAProxy")
            assert wait_for(shows(*overview), 90), screen()
            consoles = children_cmdlines(proc.pid)
            assert consoles and all("--read-only" in c for c in consoles), consoles

            page.locator(".textual-terminal").click()
            page.keyboard.press("4")  # the HAProxy pane, its first server highlighted
            assert wait_for(shows("bk_app_blue"), 30), screen()
            page.keyboard.press("d")  # drain: travels over the websocket as stdin
            assert wait_for(shows("REFUSED"), 30), screen()
            assert "haproxy.drain REFUSED: this console is read-only" in " ".join(screen().split())
            page.keyboard.press("6")
            page.keyboard.press("s")  # silence: refused the same way
            assert wait_for(shows("alert.silence REFUSED"), 30), screen()
            time.sleep(2)  # anything that would have started has had time to
        finally:
            browser.close()

    assert not audit.exists() or audit.read_text() == ""
    assert not list(audit.parent.glob("audit.log.*.lock"))
    assert {c: states(f"bk_app_{c}") for c in ("blue", "green")} == before


def test_a_websocket_from_another_sites_page_is_refused(
    served: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    url, _, _ = served
    headers = WS_UPGRADE
    evil = httpx.get(url + "/ws", headers={**headers, "Origin": "http://evil.example"})
    assert evil.status_code == 403
    rebound = httpx.get(url + "/ws", headers={**headers, "Origin": "http://127.0.0.2:1"})
    assert rebound.status_code == 403
