"""The bad-profile corpus, end to end through the real CLI.

``profiles/*.toml`` are broken profiles; each starts with header comments::

    # wrong: what is broken
    # expect: a fragment of the message the CLI must print
    # env: NAME=VALUE          (set for the run)     # unset: NAME   (removed)
    # secret: VALUE            (must appear nowhere in the output)
    # symlink: NAME -> TARGET  (created in the canary directory before the run)

``@PORT@`` is replaced by the port of a listening socket of this test, ``@CANARY@`` by a
fresh directory. Every endpoint a file names points at that socket and every command it
could run (a secret's ``command``, a node's ``start_command``, shell metacharacters in hosts,
names and paths) touches a file in that directory. For every file and every command line
(status, status --json, check, profile check both ways, verify, an action dry run, and the
console itself) the CLI must: exit 2, print one message naming the file and the expected
fragment, no traceback, nothing on stdout; and afterwards no canary file exists and the
socket saw no connection. A control profile (valid, same canaries) proves the canaries fire.

The cases of tests/profile/bad/ are unit tests of the loader; these are the CLI's.
Note: tests run as root, who can read a chmod-000 file: an "unreadable key file" is a
directory and a dangling symlink here.
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.hostile.conftest import CliDriver, Listener, cli_env

CORPUS_DIR = Path(__file__).parent / "profiles"
CORPUS = sorted(CORPUS_DIR.glob("*.toml"))

COMMANDS: dict[str, list[str]] = {
    "status": ["--profile", "{p}", "status"],
    "status-json": ["--profile", "{p}", "status", "--json"],
    "check": ["--profile", "{p}", "check"],
    "profile-check": ["--profile", "{p}", "profile", "check"],
    "profile-check-arg": ["profile", "check", "{p}"],
    "verify": ["--profile", "{p}", "verify"],
    "action-dry-run": ["--profile", "{p}", "action", "galera.stop", "node1", "--dry-run"],
    "action-available": ["--profile", "{p}", "action", "--available"],
    "console": ["--profile", "{p}"],
}


def header(path: Path) -> dict[str, list[str]]:
    meta: dict[str, list[str]] = {}
    raw = path.read_bytes()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raw = raw.decode("utf-16").encode()
    for line in raw.decode("utf-8", "replace").splitlines():
        if not line.startswith("# ") or ":" not in line:
            break
        name, _, value = line[2:].partition(":")
        meta.setdefault(name.strip(), []).append(value.strip())
    return meta


def materialise(src: Path, tmp: Path, port: int) -> tuple[Path, Path]:
    """The corpus file with its placeholders filled, in ``tmp``; and the canary directory."""
    canary = tmp / "canary"
    canary.mkdir()
    raw = src.read_bytes()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = raw.decode("utf-16").replace("@PORT@", str(port)).replace("@CANARY@", str(canary))
        data = text.encode("utf-16")
    else:
        data = raw.replace(b"@PORT@", str(port).encode()).replace(b"@CANARY@", bytes(canary))
    dst = tmp / src.name
    dst.write_bytes(data)
    for item in header(src).get("symlink", []):
        name, _, target = item.partition(" -> ")
        (canary / name.strip()).symlink_to(target.strip())
    return dst, canary


def run_env(meta: dict[str, list[str]]) -> dict[str, str]:
    env = cli_env()
    for name in ("JARABA_HOSTILE_UNSET", "JARABA_HOSTILE_EMPTY", "JARABA_HOSTILE_PW"):
        env.pop(name, None)
    for item in meta.get("env", []):
        name, _, value = item.partition("=")
        env[name] = value
    for name in meta.get("unset", []):
        env.pop(name, None)
    return env


def canaries(canary: Path, meta: dict[str, list[str]]) -> list[str]:
    planted = {item.partition(" -> ")[0].strip() for item in meta.get("symlink", [])}
    return sorted(p.name for p in canary.iterdir() if p.name not in planted)


def test_the_corpus_is_big_and_documented() -> None:
    assert len(CORPUS) >= 40
    for path in CORPUS:
        meta = header(path)
        assert meta.get("wrong") and meta.get("expect"), f"{path.name}: header incomplete"


@pytest.mark.parametrize("src", CORPUS, ids=[p.stem for p in CORPUS])
def test_bad_profile_is_refused_everywhere(
    src: Path, tmp_path: Path, listener: Listener, cli_driver: CliDriver
) -> None:
    meta = header(src)
    path, canary = materialise(src, tmp_path, listener.port)
    env = run_env(meta)
    failures: list[str] = []
    for label, template in COMMANDS.items():
        argv = [str(path) if a == "{p}" else a for a in template]
        run = cli_driver.run(argv, env=env, cwd=tmp_path, timeout=30)
        why: list[str] = []
        if run.timed_out:
            why.append("did not finish within 30 s (did the console start?)")
        if run.rc != 2:
            why.append(f"exit {run.rc}, expected 2")
        if "Traceback" in run.output or "internal error" in run.output:
            why.append("a traceback / internal error")
        if run.stdout.strip():
            why.append(f"stdout is not empty: {run.stdout[:200]!r}")
        if run.stderr.count(f"profile {path}") != 1:
            why.append("stderr does not name the file exactly once")
        for fragment in meta["expect"]:
            if fragment not in run.stderr:
                why.append(f"message lacks {fragment!r}")
        for secret in meta.get("secret", []):
            if secret in run.output:
                why.append("a secret value was printed")
        if why:
            failures.append(f"{label}: {'; '.join(why)}\n  stderr: {run.stderr[:400]!r}")
    ran = canaries(canary, meta)
    connections = listener.connections()
    assert not failures, "\n".join(failures)
    assert ran == [], f"something was executed: {ran}"
    assert connections == 0, f"{connections} connection(s) attempted with an invalid profile"


def test_a_huge_profile_is_refused(tmp_path: Path, cli_driver: CliDriver) -> None:
    path = tmp_path / "huge.toml"
    with path.open("w") as f:
        f.write('name = "huge"\nenvironment = "lab"\n')
        f.write("# padding\n" * 150_000)
    for label in ("status", "check", "console"):
        argv = [str(path) if a == "{p}" else a for a in COMMANDS[label]]
        run = cli_driver.run(argv, env=cli_env(), cwd=tmp_path)
        assert run.rc == 2, run
        assert "too large" in run.stderr and str(path) in run.stderr
        assert "Traceback" not in run.output


def test_the_canaries_do_fire_with_a_valid_profile(
    tmp_path: Path, listener: Listener, cli_driver: CliDriver
) -> None:
    """Control: the corpus's own endpoints and secret command, made valid, do connect and run;
    so a broken profile that got this far would have been caught above."""
    src = CORPUS_DIR / "missing_name.toml"
    path, canary = materialise(src, tmp_path, listener.port)
    path.write_text('name = "control"\n' + path.read_text())
    run = cli_driver.run(
        ["--profile", str(path), "status", "--json"], env=cli_env(), cwd=tmp_path, timeout=60
    )
    assert run.rc == 0, run
    assert "secret-command-ran" in canaries(canary, {})
    assert listener.connections() >= 1


@pytest.mark.slow
def test_real_processes_refuse_too(tmp_path: Path, listener: Listener) -> None:
    """The same through fresh interpreters (`python -m jaraba_tui ...`), not the forking
    driver: one corpus file (hostile host, secret command, start command), every command."""
    src = CORPUS_DIR / "host_command_substitution.toml"
    meta = header(src)
    path, canary = materialise(src, tmp_path, listener.port)
    env = run_env(meta)

    def one(template: list[str]) -> subprocess.CompletedProcess[str]:
        argv = [str(path) if a == "{p}" else a for a in template]
        return subprocess.run(
            [sys.executable, "-m", "jaraba_tui", *argv],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=90,
            stdin=subprocess.DEVNULL,
        )

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=3) as pool:
        done = list(pool.map(one, COMMANDS.values()))
    for label, proc in zip(COMMANDS, done, strict=True):
        assert proc.returncode == 2, (label, proc.stderr)
        assert "Traceback" not in proc.stdout + proc.stderr, label
        assert str(path) in proc.stderr and meta["expect"][0] in proc.stderr, label
    assert canaries(canary, meta) == []
    assert listener.connections() == 0
    assert time.monotonic() - t0 < 300
